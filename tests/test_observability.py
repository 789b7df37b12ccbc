import json
import logging

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
    text = (await client.get("/metrics")).text
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
