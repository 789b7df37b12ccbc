"""JWKS keys are fetched off the event loop: an unknown `kid` never freezes the service."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import free_port, make_settings, start_app

SLOW_SECONDS = 2.0


def _jwk(kid: str, key: rsa.RSAPrivateKey) -> dict:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "RS256"}


class SlowIdentityProvider(BaseHTTPRequestHandler):
    """A JWKS endpoint that takes SLOW_SECONDS to answer, as a distant identity provider may."""

    keys: list[dict] = []
    requests = 0

    def do_GET(self):
        type(self).requests += 1
        time.sleep(SLOW_SECONDS)
        body = json.dumps({"keys": type(self).keys}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_idp():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    SlowIdentityProvider.keys = [_jwk("k1", key)]
    SlowIdentityProvider.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), SlowIdentityProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", key
    server.shutdown()


def token(key: rsa.RSAPrivateKey, kid: str, sub: str = "erin") -> str:
    claims = {"sub": sub, "exp": int(time.time()) + 60, "name": "Erin"}
    return jwt.encode(claims, key, "RS256", headers={"kid": kid})


async def _healthz_latencies(client: httpx.AsyncClient, until: asyncio.Future) -> list[float]:
    latencies = []
    while not until.done():
        started = time.monotonic()
        await client.get("/healthz")
        latencies.append(time.monotonic() - started)
        await asyncio.sleep(0.05)
    return latencies


async def test_fetching_keys_never_stalls_other_requests(database_url, tmp_path, slow_idp):
    url, key = slow_idp
    running = await start_app(make_settings(database_url, tmp_path, jwt_jwks_url=url))
    try:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
            for kid in ("k1", f"unknown-{uuid.uuid4()}"):
                running.ctx.verifier.jwks.min_refresh_seconds = 0
                signed_in = asyncio.ensure_future(
                    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token(key, kid)}"})
                )
                latencies = await _healthz_latencies(client, signed_in)
                answer = await signed_in
                assert answer.status_code == (200 if kid == "k1" else 401), answer.text
                # The fetch took SLOW_SECONDS; everyone else was answered meanwhile.
                assert len(latencies) >= 5 and max(latencies) < SLOW_SECONDS / 2, latencies
    finally:
        await running.stop()


async def test_unknown_kids_are_refused_with_a_bounded_number_of_fetches(database_url, tmp_path, slow_idp):
    url, key = slow_idp
    running = await start_app(make_settings(database_url, tmp_path, jwt_jwks_url=url))
    try:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
            good = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token(key, 'k1')}"})
            assert good.status_code == 200
            fetched = SlowIdentityProvider.requests
            answers = await asyncio.gather(
                *(
                    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token(key, f'kid-{i}')}"})
                    for i in range(30)
                )
            )
            assert all(r.status_code == 401 for r in answers)
            # Within the refresh interval, random kids cause no fetch at all (so nobody waited on one).
            assert SlowIdentityProvider.requests == fetched
            assert running.ctx.verifier.jwks.fetches == 1
    finally:
        await running.stop()


async def test_a_rotated_key_is_picked_up_by_one_shared_fetch(database_url, tmp_path, slow_idp):
    url, key = slow_idp
    running = await start_app(make_settings(database_url, tmp_path, jwt_jwks_url=url))
    try:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
            assert (
                await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token(key, 'k1')}"})
            ).status_code == 200
            new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            SlowIdentityProvider.keys = [*SlowIdentityProvider.keys, _jwk("k2", new_key)]
            running.ctx.verifier.jwks.min_refresh_seconds = 0
            before = SlowIdentityProvider.requests
            answers = await asyncio.gather(
                *(
                    client.get(
                        "/api/v1/me", headers={"Authorization": f"Bearer {token(new_key, 'k2', f'user{i}')}"}
                    )
                    for i in range(10)
                )
            )
            assert [r.status_code for r in answers] == [200] * 10
            assert SlowIdentityProvider.requests == before + 1
    finally:
        await running.stop()


async def test_every_door_waits_for_a_key_being_fetched(database_url, tmp_path, slow_idp):
    """The first token signed with a key we have not fetched yet is accepted everywhere, not only by
    the HTTP API: the socket handshake, a request with a body, and the dev mailbox's admin check."""
    import socketio

    url, key = slow_idp
    running = await start_app(make_settings(database_url, tmp_path, jwt_jwks_url=url))
    try:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            running.base_url, auth={"token": token(key, "k1")}, transports=["websocket"], wait_timeout=10
        )
        assert client.connected
        await client.disconnect()

        admin_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        SlowIdentityProvider.keys = [*SlowIdentityProvider.keys, _jwk("k2", admin_key)]
        running.ctx.verifier.jwks.min_refresh_seconds = 0
        admin = jwt.encode(
            {"sub": "root", "role": "admin", "exp": int(time.time()) + 60},
            admin_key,
            "RS256",
            headers={"kid": "k2"},
        )
        remote = {"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {admin}"}
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:
            assert (await http.get("/dev/mailbox.json", headers=remote)).status_code == 200

            poster_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            SlowIdentityProvider.keys = [*SlowIdentityProvider.keys, _jwk("k3", poster_key)]
            running.ctx.verifier.jwks.min_refresh_seconds = 0
            created = await http.post(
                "/api/v1/tickets",
                json={"title": "Boiler"},
                headers={"Authorization": f"Bearer {token(poster_key, 'k3', 'frank')}"},
            )
            assert created.status_code == 201, created.text
    finally:
        await running.stop()
