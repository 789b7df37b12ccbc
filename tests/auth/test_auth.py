import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conftest import free_port, make_settings, start_app


async def test_requests_without_a_valid_token_get_401(app):
    async with httpx.AsyncClient(base_url=app.base_url) as anon:
        for headers in (
            {},
            {"Authorization": "Bearer"},
            {"Authorization": "Basic abc"},
            {"Authorization": "Bearer not-a-jwt"},
        ):
            r = await anon.get("/api/v1/me", headers=headers)
            assert r.status_code == 401
            assert r.json()["error"]["code"] == "unauthenticated"
        expired = jwt.encode({"sub": "x", "exp": int(time.time()) - 10}, app.settings.jwt_secret, "HS256")
        no_exp = jwt.encode({"sub": "x"}, app.settings.jwt_secret, "HS256")
        wrong_key = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, "another-secret-" * 4, "HS256")
        unsigned = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, None, "none")
        no_sub = jwt.encode({"exp": int(time.time()) + 60}, app.settings.jwt_secret, "HS256")
        for token in (expired, no_exp, wrong_key, unsigned, no_sub):
            r = await anon.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, token


async def test_me_reflects_the_token_claims_and_updates_the_user(app, as_user):
    r = await as_user("carol", name="Carol", email="carol@example.com").get("/api/v1/me")
    assert r.json() == {"id": "carol", "email": "carol@example.com", "name": "Carol", "role": "member"}
    r = await as_user("carol", name="Carol Smith", email="carol@new.example").get("/api/v1/me")
    assert r.json()["name"] == "Carol Smith"
    row = await app.ctx.db.fetch_one("SELECT name, email FROM users WHERE id = 'carol'")
    assert row == {"name": "Carol Smith", "email": "carol@new.example"}


async def test_registering_users_is_for_admins_and_services(app, as_user):
    body = {"email": "dave@example.com", "name": "Dave"}
    assert (await as_user("member").put("/api/v1/users/dave", json=body)).status_code == 403
    r = await as_user("svc", role="service").put("/api/v1/users/dave", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "dave@example.com"
    r = await as_user("root", role="admin").put("/api/v1/users/dave", json={"email": "not an email"})
    assert r.status_code == 422


class _JwksHandler(BaseHTTPRequestHandler):
    jwks: dict = {}

    def do_GET(self):
        body = json.dumps(self.jwks).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def jwks_server():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    keys = []
    for kid, key, alg in (("rsa1", rsa_key, "RS256"), ("ec1", ec_key, "ES256")):
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
        keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
    _JwksHandler.jwks = {"keys": keys}
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), _JwksHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/jwks.json", rsa_key, ec_key
    server.shutdown()


async def test_rs256_and_es256_tokens_verified_through_a_jwks(database_url, tmp_path, jwks_server):
    jwks_url, rsa_key, ec_key = jwks_server
    settings = make_settings(
        database_url,
        tmp_path,
        jwt_jwks_url=jwks_url,
        jwt_issuer="https://idp.example",
        jwt_audience="tickets",
    )
    running = await start_app(settings)
    try:
        claims = {"sub": "erin", "exp": int(time.time()) + 60, "iss": "https://idp.example", "aud": "tickets"}
        good_rs = jwt.encode(claims, rsa_key, "RS256", headers={"kid": "rsa1"})
        good_es = jwt.encode(claims, ec_key, "ES256", headers={"kid": "ec1"})
        wrong_aud = jwt.encode({**claims, "aud": "other"}, rsa_key, "RS256", headers={"kid": "rsa1"})
        wrong_iss = jwt.encode({**claims, "iss": "https://evil"}, rsa_key, "RS256", headers={"kid": "rsa1"})
        hs = jwt.encode(claims, settings.jwt_secret, "HS256", headers={"kid": "rsa1"})
        async with httpx.AsyncClient(base_url=running.base_url) as client:
            for token in (good_rs, good_es):
                r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.text
            for token in (wrong_aud, wrong_iss, hs):
                r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 401
    finally:
        await asyncio.wait_for(running.stop(), 10)


async def test_a_service_cannot_replace_an_email_the_identity_provider_asserts(app, as_user):
    svc = as_user("svc", role="service")
    # Registered ahead of login: the backend may correct the address until the user's token vouches for one.
    assert (
        await svc.put("/api/v1/users/erin", json={"email": "erin@old.example", "name": "Erin"})
    ).status_code == 200
    r = await svc.put("/api/v1/users/erin", json={"email": "erin@example.com", "name": "Erin"})
    assert r.status_code == 200 and r.json()["email"] == "erin@example.com"
    # Erin signs in; her identity provider asserts her address.
    assert (await as_user("erin", name="Erin", email="erin@example.com").get("/api/v1/me")).status_code == 200
    r = await svc.put("/api/v1/users/erin", json={"email": "attacker@evil.example", "name": "Erin"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "email_asserted"
    r = await svc.put("/api/v1/users/erin", json={"name": "Erin"})  # dropping it is a change too
    assert r.status_code == 409
    row = await app.ctx.db.fetch_one("SELECT email, name FROM users WHERE id = 'erin'")
    assert row == {"email": "erin@example.com", "name": "Erin"}
    # The same address (in any case) with a new name is no change of address.
    r = await svc.put("/api/v1/users/erin", json={"email": "ERIN@example.com", "name": "Erin Brown"})
    assert r.status_code == 200 and r.json()["name"] == "Erin Brown"
    # An admin may replace it; the next token from the identity provider puts its address back.
    r = await as_user("root", role="admin").put("/api/v1/users/erin", json={"email": "e@new.example"})
    assert r.status_code == 200 and r.json()["email"] == "e@new.example"
    assert (await svc.put("/api/v1/users/erin", json={"email": "x@example.com"})).status_code == 200
    await as_user("erin", name="Erin", email="erin@example.com").get("/api/v1/me")
    assert (await as_user("erin2").get("/api/v1/me")).status_code == 200
    row = await app.ctx.db.fetch_one("SELECT email FROM users WHERE id = 'erin'")
    assert row == {"email": "erin@example.com"}
    assert (await svc.put("/api/v1/users/erin", json={"email": "x@example.com"})).status_code == 409
