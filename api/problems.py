"""Where errors become HTTP: every refusal is an RFC 9457 problem document with a reason.

The vault raises domain errors; only this module knows which status each one earns.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain.errors import ChainError, ChainRevertError, NodeUnavailable
from keys import DecryptionError, KeysError
from vault.erasure import GrantsStillLive
from vault.errors import (
    AccessRefused,
    AuditUnavailable,
    AuthenticationError,
    ChainStateError,
    ConflictError,
    ErasedError,
    InvalidItems,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    VaultError,
    VaultValueError,
)

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


# A server that went away or is not back yet, in the driver's words: asyncpg's connection
# errors, and PostgreSQL's SQLSTATE classes 08 (connection exception) and 57P01-57P03
# (shutting down, crashed, starting up).
_LOST_CONNECTION: tuple[type[BaseException], ...] = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03")


def _unavailable(error: BaseException | None) -> bool:
    if error is None:
        return False
    state = str(getattr(error, "sqlstate", "") or "")
    return isinstance(error, _LOST_CONNECTION) or state.startswith("08") or state in _UNAVAILABLE_STATES


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _vault_error(exc: VaultError) -> JSONResponse:
    if isinstance(exc, InvalidItems):
        errors = [{"index": p.index, "field": p.field, "reason": p.reason} for p in exc.problems]
        return problem(
            422, "Invalid input", exc.reason, field=exc.field, errors=errors, more_errors=exc.total - len(errors)
        )
    if isinstance(exc, VaultValueError):
        return problem(422, "Invalid input", exc.reason, **({"field": exc.field} if exc.field else {}))
    if isinstance(exc, NotFoundError):
        return problem(404, "Not found", str(exc))
    if isinstance(exc, ConflictError):
        live = {"grants": exc.grant_ids} if isinstance(exc, GrantsStillLive) else {}
        return problem(409, "Conflict", exc.reason, **live)
    if isinstance(exc, ErasedError):
        return problem(410, "Gone", exc.reason, erased_at=exc.erased_at)
    if isinstance(exc, AccessRefused):
        return problem(403, "Access refused", exc.reason, code=exc.code)
    if isinstance(exc, PermissionDeniedError):
        return problem(403, "Forbidden", exc.reason)
    if isinstance(exc, AuthenticationError):
        return problem(401, "Unauthorized", exc.reason, **({"code": exc.code} if exc.code else {}))
    if isinstance(exc, RateLimitedError):
        response = problem(429, "Too many requests", exc.reason, retry_after=exc.retry_after)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, AuditUnavailable):
        log.error("access refused: the audit log cannot be written (%s)", exc.__cause__)
        return problem(503, "Access log unavailable", exc.reason)
    if isinstance(exc, ChainStateError):
        return problem(503, "Chain unavailable", exc.reason)
    return problem(400, "Refused", str(exc))


def install(app: FastAPI) -> None:
    @app.exception_handler(VaultError)
    async def vault_error(_r: Request, exc: VaultError) -> JSONResponse:
        return _vault_error(exc)

    @app.exception_handler(DecryptionError)
    async def decryption(_r: Request, exc: DecryptionError) -> JSONResponse:
        log.error("a stored ciphertext failed to decrypt")
        return problem(500, "Record unreadable", "a stored record failed its integrity check; it was not disclosed")

    @app.exception_handler(KeysError)
    async def keys_error(_r: Request, exc: KeysError) -> JSONResponse:
        return problem(500, "Key error", "a key needed for this request is unavailable")

    @app.exception_handler(ChainRevertError)
    async def revert(_r: Request, exc: ChainRevertError) -> JSONResponse:
        return problem(409, "Refused by the chain", str(exc), chain_error=exc.error_name)

    @app.exception_handler(ChainError)
    async def chain_error(_r: Request, exc: ChainError) -> JSONResponse:
        log.warning("chain error: %s", exc)
        # NodeUnavailable's message is written for clients (no address); others may not be.
        detail = (
            f"{exc}; try again shortly"
            if isinstance(exc, NodeUnavailable)
            else ("the chain node did not answer; try again shortly")
        )
        return problem(503, "Chain unavailable", detail)

    @app.exception_handler(IntegrityError)
    async def integrity(_r: Request, exc: IntegrityError) -> JSONResponse:
        return problem(409, "Conflict", "the request clashes with a concurrent change; nothing was written")

    async def storage_down(_r: Request, exc: Exception) -> JSONResponse:
        log.error("database error: %s", exc)
        return problem(503, "Storage unavailable", "the database could not complete the request; nothing was written")

    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(kind, storage_down)

    @app.exception_handler(DBAPIError)
    async def storage_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # asyncpg reports a server killed mid-query as a plain DBAPIError ("connection was
        # closed in the middle of operation"); SQLAlchemy marks the connection invalidated.
        if exc.connection_invalidated or _unavailable(exc.orig) or _unavailable(getattr(exc.orig, "__cause__", None)):
            return await storage_down(request, exc)
        log.exception("database error")
        return problem(500, "Storage error", "the database refused the request; nothing was written")

    @app.exception_handler(OSError)
    async def unreachable(_r: Request, exc: OSError) -> JSONResponse:
        # A driver's connect error (asyncpg raises ConnectionRefusedError as is) names the
        # server's address: logged, never answered.
        log.error("a backing service failed: %r", exc)
        return problem(
            503, "Service unavailable", "a service the vault depends on could not be reached; try again shortly"
        )

    @app.exception_handler(RequestValidationError)
    async def validation(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request", "type": ""}
        if first["type"] == "json_invalid":
            return problem(400, "Malformed JSON", f"the request body is not valid JSON: {first['msg']}")
        detail = f"{'.'.join(first['loc'][1:]) or 'body'}: {first['msg']}"
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "Error", str(exc.detail))
