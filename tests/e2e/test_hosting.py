"""`serve` hosts the built app: SPA fallback with no-cache, long-cached hashed assets, and the API,
Socket.IO and operational paths untouched."""

from __future__ import annotations

import httpx


def test_every_app_route_gets_index_html_uncached(server):
    for path in [
        "/",
        "/tickets",
        "/tickets/3f1c",
        "/settings/notifications",
        "/auth?next=/tickets",
        "/dev/login",
        "/admin/templates",
    ]:
        response = httpx.get(server.base_url + path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"
        assert '<div id="root">' in response.text


def test_hashed_assets_are_cached_for_a_year_and_missing_ones_are_404(server, web_dist):
    asset = next((web_dist / "assets").glob("*.js")).name
    response = httpx.get(f"{server.base_url}/assets/{asset}")
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    missing = httpx.get(f"{server.base_url}/assets/gone-123.js")
    assert missing.status_code == 404
    sw = httpx.get(f"{server.base_url}/sw.js")
    assert sw.status_code == 200 and sw.headers["cache-control"] == "no-cache"
    manifest = httpx.get(f"{server.base_url}/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.json()["icons"]


def test_api_and_operational_paths_are_not_shadowed(server):
    unknown = httpx.get(f"{server.base_url}/api/v1/nope")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.base_url}/openapi.json").json()["openapi"]
    metrics = httpx.get(f"{server.base_url}/metrics")  # for operators only: the API's own 401, not the app
    assert metrics.status_code == 401 and metrics.json()["error"]["code"] == "unauthenticated"
    assert httpx.get(f"{server.base_url}/api/v1/me").status_code == 401
    assert httpx.post(f"{server.base_url}/tickets").status_code in (404, 405)
    traversal = httpx.get(f"{server.base_url}/..%2f..%2fpyproject.toml")
    assert "setuptools" not in traversal.text


def test_config_tells_the_app_how_to_sign_in(server):
    config = httpx.get(f"{server.base_url}/api/v1/config").json()
    # The e2e server runs with the development secret, as `make run` does.
    assert config == {
        "appName": "Tickets",
        "devLogin": True,
        "signInUrl": "/dev/login",
        "maxUploadBytes": 26214400,
    }
