"""Dev sign-in: the demo cast and tokens for them, only while the built-in development secret is in use."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import jwt
import pytest

from tests.conftest import RunningApp, make_settings, start_app
from ticket_comms.config import DEV_JWT_SECRET


@pytest.fixture
async def dev_app(database_url, tmp_path) -> AsyncIterator[RunningApp]:
    settings = make_settings(database_url, tmp_path, jwt_secret=DEV_JWT_SECRET, demo_data=False)
    running = await start_app(settings)
    yield running
    await running.stop()


async def test_the_demo_cast_is_listed_with_names_roles_and_titles(dev_app):
    async with httpx.AsyncClient(base_url=dev_app.base_url) as client:
        r = await client.get("/api/v1/dev/users")
    assert r.status_code == 200
    users = r.json()
    assert {u["title"] for u in users} == {"Customer", "Technician", "Admin"}
    assert sum(u["title"] == "Customer" for u in users) >= 2
    assert sum(u["title"] == "Technician" for u in users) >= 2
    assert {u["role"] for u in users} == {"admin", "member"}
    assert all(u["role"] == "admin" for u in users if u["title"] == "Admin")
    for user in users:
        assert set(user) == {"id", "name", "email", "role", "title"}
        assert " " in user["name"] and "@" in user["email"]


async def test_signing_in_as_a_demo_user_gives_a_working_token(dev_app):
    async with httpx.AsyncClient(base_url=dev_app.base_url) as client:
        users = (await client.get("/api/v1/dev/users")).json()
        admin = next(u for u in users if u["role"] == "admin")
        customer = next(u for u in users if u["title"] == "Customer")
        for person in (admin, customer):
            r = await client.post("/api/v1/dev/sign-in", json={"userId": person["id"]})
            assert r.status_code == 200, r.text
            body = r.json()
            claims = jwt.decode(body["token"], options={"verify_signature": False})
            assert claims["sub"] == person["id"]
            assert claims["name"] == person["name"] and claims["email"] == person["email"]
            assert claims.get("role", "member") == person["role"]
            lifetime = claims["exp"] - time.time()
            assert 11 * 3600 < lifetime <= 12 * 3600
            assert int(datetime.fromisoformat(body["expiresAt"]).timestamp()) == claims["exp"]
            me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
            assert me.json() == {
                "id": person["id"],
                "email": person["email"],
                "name": person["name"],
                "role": person["role"],
            }


async def test_only_demo_users_can_be_signed_in_as(dev_app):
    async with httpx.AsyncClient(base_url=dev_app.base_url) as client:
        r = await client.post("/api/v1/dev/sign-in", json={"userId": "someone-real"})
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "demo_user_not_found"
        r = await client.post("/api/v1/dev/sign-in", json={})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"


async def test_with_a_real_secret_the_dev_routes_do_not_exist(app):
    async with httpx.AsyncClient(base_url=app.base_url) as client:
        for r in (
            await client.get("/api/v1/dev/users"),
            await client.post("/api/v1/dev/sign-in", json={"userId": "demo-lina"}),
        ):
            assert r.status_code == 404
            assert r.json() == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_with_a_jwks_the_dev_routes_do_not_exist(database_url, tmp_path):
    settings = make_settings(
        database_url, tmp_path, jwt_secret=DEV_JWT_SECRET, jwt_jwks_url="https://idp.example/jwks.json"
    )
    running = await start_app(settings)
    try:
        async with httpx.AsyncClient(base_url=running.base_url) as client:
            assert (await client.get("/api/v1/dev/users")).status_code == 404
    finally:
        await running.stop()


async def test_the_dev_routes_are_in_the_openapi_document(app):
    async with httpx.AsyncClient(base_url=app.base_url) as client:
        spec = (await client.get("/openapi.json")).json()
    assert "get" in spec["paths"]["/api/v1/dev/users"]
    sign_in = spec["paths"]["/api/v1/dev/sign-in"]["post"]
    assert sign_in["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/DevToken")
    assert set(spec["components"]["schemas"]["DevUser"]["properties"]) == {
        "id",
        "name",
        "email",
        "role",
        "title",
    }
