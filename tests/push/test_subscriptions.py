"""Push subscriptions and the VAPID key: registering, updating, listing and removing devices, who may
see and remove them, what endpoints and keys are accepted, and where the key comes from."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import make_settings
from tests.push.conftest import Push
from ticket_comms.push import subscriptions, vapid
from ticket_comms.push.vapid import VapidKeyError

FCM = "https://fcm.googleapis.com/fcm/send/dXNlcjE6abc"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_public_key_is_a_p256_point_and_stable(push: Push):
    anonymous = push.app.client()
    assert (await anonymous.get("/api/v1/push/public-key")).status_code == 401
    await anonymous.aclose()
    first = (await push.client("alice").get("/api/v1/push/public-key")).json()["publicKey"]
    point = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))
    assert len(point) == 65 and point[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    assert "=" not in first and "+" not in first and "/" not in first
    again = (await push.client("bob").get("/api/v1/push/public-key")).json()["publicKey"]
    assert again == first


async def test_register_update_list_remove(push: Push):
    alice = push.client("alice")
    sub = push.service.subscriber()
    body = {**sub.subscription_json(), "userAgent": "Firefox on Android"}
    r = await alice.post("/api/v1/me/push-subscriptions", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["endpoint"] == sub.endpoint and created["userAgent"] == "Firefox on Android"
    assert created["lastSuccessAt"] is None and created["createdAt"]

    # The browser re-subscribes (new keys, same endpoint): updated, same id, 200.
    other = push.service.subscriber()
    body["keys"] = other.subscription_json()["keys"]
    r = await alice.post("/api/v1/me/push-subscriptions", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]
    listed = (await alice.get("/api/v1/me/push-subscriptions")).json()
    assert [s["id"] for s in listed] == [created["id"]]

    # Without userAgent in the body, the request's User-Agent names the device.
    sub2 = push.service.subscriber()
    r = await alice.post(
        "/api/v1/me/push-subscriptions",
        json=sub2.subscription_json(),
        headers={"User-Agent": "Chrome 140 on Mac"},
    )
    assert r.status_code == 201 and r.json()["userAgent"] == "Chrome 140 on Mac"
    assert len((await alice.get("/api/v1/me/push-subscriptions")).json()) == 2

    assert (await alice.delete(f"/api/v1/me/push-subscriptions/{created['id']}")).status_code == 204
    assert [s["endpoint"] for s in (await alice.get("/api/v1/me/push-subscriptions")).json()] == [
        sub2.endpoint
    ]
    r = await alice.delete(f"/api/v1/me/push-subscriptions/{created['id']}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "push_subscription_not_found"


async def test_a_subscription_belongs_to_its_user(push: Push):
    alice, bob = push.client("alice"), push.client("bob")
    sub, sub_id = await push.subscribe("alice")
    assert (await bob.get("/api/v1/me/push-subscriptions")).json() == []
    r = await bob.delete(f"/api/v1/me/push-subscriptions/{sub_id}")
    assert r.status_code == 404
    assert len((await alice.get("/api/v1/me/push-subscriptions")).json()) == 1

    # Bob signs in on the same browser: the endpoint becomes his (a new id); Alice no longer has it.
    r = await bob.post("/api/v1/me/push-subscriptions", json=sub.subscription_json())
    assert r.status_code == 201, r.text
    assert r.json()["id"] != sub_id
    assert (await alice.get("/api/v1/me/push-subscriptions")).json() == []
    assert [s["id"] for s in (await bob.get("/api/v1/me/push-subscriptions")).json()] == [r.json()["id"]]


@pytest.mark.parametrize(
    ("endpoint", "code"),
    [
        ("http://push.example.com/abc", "endpoint_not_https"),
        ("ftp://127.0.0.1/abc", "endpoint_not_https"),
        ("http://localhost:9/abc", "endpoint_not_https"),
        ("javascript:alert(1)", "bad_endpoint"),
        ("https:///nohost", "bad_endpoint"),
        ("https://user:pw@push.example.com/abc", "bad_endpoint"),
        ("https://push.example.com:99999/abc", "bad_endpoint"),
        ("https://push.example.com/" + "a" * 2100, "bad_endpoint"),
    ],
)
async def test_endpoints_that_are_refused(push: Push, endpoint: str, code: str):
    keys = push.service.subscriber().subscription_json()["keys"]
    r = await push.client("alice").post(
        "/api/v1/me/push-subscriptions", json={"endpoint": endpoint, "keys": keys}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code


async def test_keys_that_are_refused(push: Push):
    alice = push.client("alice")
    good = push.service.subscriber().subscription_json()
    not_on_curve = b64(b"\x04" + b"\x01" * 64)
    cases = [
        ({"p256dh": "not base64!", "auth": good["keys"]["auth"]}, "bad_key"),
        ({"p256dh": not_on_curve, "auth": good["keys"]["auth"]}, "bad_key"),
        ({"p256dh": b64(b"\x04" + os.urandom(10)), "auth": good["keys"]["auth"]}, "bad_key"),
        ({"p256dh": good["keys"]["p256dh"], "auth": b64(os.urandom(8))}, "bad_key"),
        ({"p256dh": good["keys"]["p256dh"]}, "validation_failed"),
    ]
    for keys, code in cases:
        r = await alice.post(
            "/api/v1/me/push-subscriptions", json={"endpoint": good["endpoint"], "keys": keys}
        )
        assert r.status_code == 422, (keys, r.text)
        assert r.json()["error"]["code"] == code
    r = await alice.post(
        "/api/v1/me/push-subscriptions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = await alice.delete("/api/v1/me/push-subscriptions/not-a-uuid")
    assert r.status_code == 422
    assert (await alice.get("/api/v1/me/push-subscriptions")).json() == []


async def test_a_user_keeps_at_most_twenty_devices(push: Push):
    alice = push.client("alice")
    first = None
    for i in range(subscriptions.MAX_SUBSCRIPTIONS_PER_USER + 1):
        _, sub_id = await push.subscribe("alice")
        first = first or sub_id
        assert i < subscriptions.MAX_SUBSCRIPTIONS_PER_USER or sub_id
    listed = (await alice.get("/api/v1/me/push-subscriptions")).json()
    assert len(listed) == subscriptions.MAX_SUBSCRIPTIONS_PER_USER
    assert first not in {s["id"] for s in listed}  # the one longest without a push went


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_production_endpoints_are_https_to_public_hosts(tmp_path):
    settings = make_settings("postgresql://unused", tmp_path, public_base_url="https://tickets.example.com")
    assert not vapid.is_development(settings)
    assert subscriptions.endpoint_origin(settings, FCM) == "https://fcm.googleapis.com"
    assert (
        subscriptions.endpoint_origin(settings, "https://updates.push.services.mozilla.com:443/wpush/v2/x")
        == "https://updates.push.services.mozilla.com:443"
    )
    for endpoint in (
        "http://127.0.0.1:8080/push/x",
        "https://127.0.0.1/push/x",
        "https://localhost/push/x",
        "https://10.1.2.3/push/x",
        "https://192.168.0.5/push/x",
        "https://169.254.169.254/latest",
        "https://[::1]/push/x",
    ):
        with pytest.raises(subscriptions.ValidationFailed):
            subscriptions.endpoint_origin(settings, endpoint)
    # Development (served on this machine): local push services of tests and dev set-ups are allowed.
    dev = make_settings("postgresql://unused", tmp_path)
    assert subscriptions.endpoint_origin(dev, "http://127.0.0.1:8080/push/x") == "http://127.0.0.1:8080"


def test_vapid_key_from_pem_or_base64url(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    expected = b64(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    raw = b64(key.private_numbers().private_value.to_bytes(32, "big"))
    sec1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    der = b64(
        key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    for given in (_pem(key), sec1, raw, der):
        settings = make_settings(
            "postgresql://unused", tmp_path, vapid_private_key=given, vapid_subject="mailto:ops@example.com"
        )
        signer = vapid.load_signer(settings)
        assert signer.public_key == expected
        assert signer.subject == "mailto:ops@example.com"
    assert not (tmp_path / vapid.KEY_FILE).exists()  # a configured key is never written anywhere

    for bad in ("not a key", b64(b"short"), _pem(ec.generate_private_key(ec.SECP384R1()))):
        with pytest.raises(VapidKeyError):
            vapid.load_signer(make_settings("postgresql://unused", tmp_path, vapid_private_key=bad))
    with pytest.raises(VapidKeyError):
        vapid.load_signer(
            make_settings(
                "postgresql://unused", tmp_path, vapid_private_key=raw, vapid_subject="ops@example.com"
            )
        )


def test_development_key_is_generated_once_in_data_dir(tmp_path):
    settings = make_settings("postgresql://unused", tmp_path / "a")
    first = vapid.load_signer(settings).public_key
    path = tmp_path / "a" / vapid.KEY_FILE
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    vapid._signers.clear()  # as a new process would: read from the file, not generated again
    assert vapid.load_signer(settings).public_key == first
    assert vapid.load_signer(make_settings("postgresql://unused", tmp_path / "b")).public_key != first
