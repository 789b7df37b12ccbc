import asyncio
import gc
import json
import logging
import time

import httpx
import pytest

from tests.conftest import free_port, make_settings, start_app
from ticket_comms.observability import JsonFormatter, request_id_var


async def test_every_response_carries_a_request_id_and_echoes_the_callers(app, as_user):
    client = as_user("alice")
    r = await client.get("/api/v1/me")
    assert len(r.headers["x-request-id"]) == 32
    r = await client.get("/api/v1/me", headers={"X-Request-Id": "trace-123"})
    assert r.headers["x-request-id"] == "trace-123"


async def test_metrics_count_requests_by_route_template(app, as_user):
    client = as_user("alice")
    await client.get("/api/v1/tickets/00000000-0000-0000-0000-000000000000")
    text = (await as_user("ops", "admin").get("/metrics")).text
    assert 'route="/api/v1/tickets/{ticket_id}"' in text
    assert "00000000-0000" not in text  # ids never become label values


def test_logs_are_json_lines_with_the_request_id():
    token = request_id_var.set("req-42")
    try:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello world" and line["requestId"] == "req-42" and line["level"] == "warning"


def _sample_count(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(f"{name}_count"))


async def test_event_loop_lag_and_collections_on_a_clock_are_measured(app, as_user):
    """Automatic collection is off while the app runs (realtime/heap.py): young collections run on a
    clock, and every pause, like the event loop's lateness, is in /metrics."""
    client = as_user("ops", "admin")
    assert not gc.isenabled()
    before = (await client.get("/metrics")).text
    await asyncio.sleep(0.6)
    after = (await client.get("/metrics")).text
    assert (
        _sample_count(after, "event_loop_lag_seconds") >= _sample_count(before, "event_loop_lag_seconds") + 5
    )
    assert _sample_count(after, "gc_pause_seconds") >= _sample_count(before, "gc_pause_seconds") + 3
    assert 'gc_pause_seconds_count{generation="0"}' in after


async def test_the_event_loops_tasks_are_counted(app, as_user):
    """The soak (bench/soak.py) watches this gauge for leaked tasks."""
    text = (await as_user("ops", "admin").get("/metrics")).text
    tasks = [float(line.split()[-1]) for line in text.splitlines() if line.startswith("asyncio_tasks ")]
    assert tasks and tasks[0] >= 2  # at least the lag sampler and the collector on a clock


async def test_a_stall_of_the_event_loop_is_logged(app, caplog):
    caplog.set_level(logging.WARNING, logger="ticket_comms.observability")
    await asyncio.sleep(0.06)
    time.sleep(0.25)  # blocks the event loop the app runs on (the test's own)
    await asyncio.sleep(0.1)
    stalls = [r for r in caplog.records if r.getMessage() == "the event loop stalled"]
    assert stalls and stalls[0].fields["ms"] >= 150


async def test_metrics_are_for_admins_on_the_main_port(app, as_user):
    async with httpx.AsyncClient(base_url=app.base_url) as anyone:
        r = await anyone.get("/metrics")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert (await as_user("alice").get("/metrics")).status_code == 403
    assert (await as_user("billing", "service").get("/metrics")).status_code == 403
    r = await as_user("ops", "admin").get("/metrics")
    assert r.status_code == 200 and "http_requests_total" in r.text


async def test_with_a_metrics_port_metrics_are_served_only_there(database_url, tmp_path):
    port = free_port()
    running = await start_app(make_settings(database_url, tmp_path, metrics_port=port))
    try:
        async with httpx.AsyncClient(base_url=running.base_url) as main:
            admin = {"Authorization": f"Bearer {running.token('ops', 'admin')}"}
            assert (await main.get("/metrics", headers=admin)).status_code == 404
            await main.get("/healthz")
        async with httpx.AsyncClient() as scraper:
            r = await scraper.get(f"http://127.0.0.1:{port}/metrics")
            assert r.status_code == 200 and 'route="/healthz"' in r.text
    finally:
        await running.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as scraper:
            await scraper.get(f"http://127.0.0.1:{port}/metrics")
