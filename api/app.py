"""The FastAPI application. ``create_app`` either opens a vault from settings (``datavault
up``) or is handed one that is already open (tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import openapi, problems, request_ids, web
from api.guards import Guards
from api.limits import DEFAULT_MAX_BODY, BodyLimit
from api.routes import (
    audit,
    auth,
    corrections,
    crypto,
    delegations,
    departments,
    erasure,
    grants,
    issuers,
    presentations,
    presentations_cose,
    records,
    sd_jwt_exports,
    status,
    status_lists,
    subjects,
    system,
    vc_exports,
    verify,
)
from vault.config import Settings
from vault.erasure import schedule as erasure_schedule
from vault.presentations import qr
from vault.setup import OpenVault, open_vault


def create_app(
    *,
    settings: Settings | None = None,
    vault: OpenVault | None = None,
    run_submitter: bool = True,
    hosts: frozenset[str] | None = None,
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = vault if vault is not None else await open_vault(settings or Settings.from_env())
        app.state.vault = opened
        stop = asyncio.Event()
        task = asyncio.create_task(opened.submitter.run_forever(stop)) if run_submitter else None
        shredder = (
            asyncio.create_task(erasure_schedule.run_forever(opened.ctx, opened.retention_interval, stop))
            if run_submitter and opened.retention_interval
            else None
        )
        # Moves the vault to another crypto suite when an admin asks (api.routes.crypto).
        mover = asyncio.create_task(crypto.job_of(app).run_forever(stop)) if run_submitter else None
        try:
            yield
        finally:
            stop.set()
            opened.submitter.nudge()
            if task is not None:
                await task
            if shredder is not None:
                await shredder
            if mover is not None:
                await mover
            if vault is None:
                await opened.close()

    # Swagger UI and ReDoc from the package's own files: /docs works offline.
    app = FastAPIOffline(
        title="数字保险箱 Data vault",
        version="0.1.0",
        description=openapi.DESCRIPTION,
        lifespan=lifespan,
        swagger_ui_parameters={"persistAuthorization": True},
    )
    if vault is not None:
        app.state.vault = vault
    problems.install(app)
    # Outermost but for the request ids: nothing reads a body before its size and JSON are checked.
    configured = settings or (Settings.from_env() if vault is None else None)
    largest = configured.max_body_bytes if configured else DEFAULT_MAX_BODY
    app.add_middleware(
        BodyLimit,
        max_bytes=largest,
        larger={
            "/records/bulk": largest,
            "/presentations/verify/image": qr.MAX_IMAGE_BYTES,
            "/registrar/scan": qr.MAX_IMAGE_BYTES,
        },
    )
    # Outside the body limit: a foreign Host is refused before its body is read.
    app.add_middleware(Guards, hosts=hosts)
    request_ids.install(app)
    for module in (
        system,
        auth,
        departments,
        subjects,
        records,
        grants,
        delegations,
        verify,
        audit,
        corrections,
        status,
        presentations,
        presentations_cose,
        issuers,
        sd_jwt_exports,
        status_lists,
        vc_exports,
        erasure,
        crypto,
    ):
        app.include_router(openapi.documented(module.router))
    openapi.install(app)
    web.install(app)
    return app
