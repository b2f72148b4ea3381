"""Logging configured at start: time, level, logger and request id, as text or JSON lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from api import logging_setup, request_ids


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    uvicorn = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in logging_setup.UVICORN_LOGGERS
    }
    out = io.StringIO()
    yield out
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    for quiet in logging_setup.QUIET_BELOW_DEBUG:
        logging.getLogger(quiet).setLevel(logging.NOTSET)
    for name, (lvl, hs, propagate) in uvicorn.items():
        logger = logging.getLogger(name)
        logger.setLevel(lvl)
        logger.handlers[:] = hs
        logger.propagate = propagate


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_is_one_object_per_line(stream: io.StringIO) -> None:
    logging_setup.configure("info", "json", stream=stream)
    logging.getLogger("vault.outbox").warning("outbox %s: %s", 7, "node down\nfor now")
    logging.getLogger("vault.outbox").debug("not at info")
    logging.getLogger("uvicorn.error").info("Started server process")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("vault.x").exception("round failed")
    first, second, third = lines(stream)
    assert first["level"] == "WARNING" and first["logger"] == "vault.outbox"
    assert first["message"] == "outbox 7: node down\nfor now" and "request_id" not in first
    assert isinstance(first["time"], str) and first["time"].endswith("Z") and "T" in first["time"]
    assert second["logger"] == "uvicorn.error" and second["level"] == "INFO"
    assert third["message"] == "round failed" and "ValueError: boom" in str(third["exception"])


def test_configuring_again_replaces_the_handler(stream: io.StringIO) -> None:
    logging_setup.configure("info", "json", stream=io.StringIO())
    logging_setup.configure("warning", "json", stream=stream)
    logging.getLogger("vault").info("hidden")
    logging.getLogger("vault").warning("shown")
    assert [e["message"] for e in lines(stream)] == ["shown"]


async def test_a_request_id_inside_a_request(stream: io.StringIO) -> None:
    logging_setup.configure("info", "json", stream=stream)
    app = FastAPI()
    request_ids.install(app)

    @app.get("/work")
    async def work() -> dict[str, str]:
        logging.getLogger("api.test").info("working")
        return {}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vault.test") as client:
        given = await client.get("/work", headers={"X-Request-ID": "req-12345678"})
        fresh = await client.get("/work")
    logged = [e for e in lines(stream) if e["logger"] == "api.test"]
    assert [e["request_id"] for e in logged] == ["req-12345678", fresh.headers["X-Request-ID"]]
    assert given.headers["X-Request-ID"] == "req-12345678"


def test_text_names_time_level_logger_and_request(stream: io.StringIO) -> None:
    from vault.events import RequestContext, request_context

    logging_setup.configure("debug", "text", stream=stream)
    token = request_context.set(RequestContext(request_id="abc12345"))
    try:
        logging.getLogger("vault.consent.grants").debug("granted")
    finally:
        request_context.reset(token)
    (line,) = stream.getvalue().splitlines()
    date, _time, level, rest = line.split(" ", 3)
    assert len(date) == 10 and level == "DEBUG" and rest == "vault.consent.grants [abc12345]: granted"


def test_migrations_are_told_only_when_debugging(stream: io.StringIO) -> None:
    logging_setup.configure("info", "json", stream=stream)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0001 -> 0002")
    assert stream.getvalue() == ""
    logging_setup.configure("debug", "json", stream=stream)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0001 -> 0002")
    assert [e["logger"] for e in lines(stream)] == ["alembic.runtime.migration"]


def test_the_demo_seeders_http_client_is_told_only_when_debugging(stream: io.StringIO) -> None:
    # The server's access log has every request; httpx's own line for each doubled the output.
    logging_setup.configure("info", "text", stream=stream)
    logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1:8000/records")
    assert stream.getvalue() == ""
