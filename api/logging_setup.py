"""Logging for a running vault (``datavault up``), configured once at start.

Every record, the vault's and uvicorn's alike, goes through one handler on the root logger,
with the time, level, logger name and, inside a request, its request id
(``api.request_ids``). ``text`` is for a terminal; ``json`` writes one JSON object per line,
for a log collector::

    {"time": "2025-01-02T03:04:05.678Z", "level": "WARNING", "logger": "vault.outbox",
     "message": "outbox 7: ...", "request_id": "..."}

(one line; ``request_id`` only inside a request, ``exception`` only with a traceback).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from vault.events import request_context

FORMATS = ("text", "json")
# uvicorn's loggers: without handlers of their own, they reach the root handler.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# Libraries that say at info what only debugging needs: alembic each migration at every start,
# httpx and httpcore every request the demo seeder makes (the server's access log has them).
QUIET_BELOW_DEBUG = ("alembic", "httpx", "httpcore")
_TEXT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.get()
        record.request_id = context.request_id if context is not None else None
        record.request_tag = f" [{context.request_id}]" if context is not None else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (UTC, ISO 8601), level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an odd object in a message's arguments never loses the line.
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return logging.Formatter(_TEXT)
    raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def configure(level: str = "info", fmt: str = "text", *, stream: IO[str] | None = None) -> logging.Handler:
    """Routes all logging through one handler on the root logger; calling it again replaces
    that handler (never two copies of each line). Returns the handler."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.addFilter(RequestIdFilter())
    handler._datavault = True  # type: ignore[attr-defined]  # ours, to replace next time
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_datavault", False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET_BELOW_DEBUG:
        logging.getLogger(name).setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
    for name in UVICORN_LOGGERS:
        # uvicorn's own configuration is turned off (``log_config=None``); drop what an earlier
        # one left, so that its records reach the root handler, once.
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    return handler
