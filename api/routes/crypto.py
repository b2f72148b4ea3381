"""The vault's crypto suite, and moving the vault to the other one while it serves (#14)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, FastAPI, Request, status

from api.deps import CurrentAdmin, Now
from api.schemas.crypto import CryptoPublic, MigrationCreate, MigrationPublic
from keys import Suite
from vault.reencryption import Reencryption, Report

router = APIRouter(tags=["system"])


def job_of(app: FastAPI) -> Reencryption:
    """The app's re-encryption job, made on first use from the open vault."""
    job: Reencryption | None = getattr(app.state, "reencryption", None)
    if job is None:
        opened = app.state.vault
        job = app.state.reencryption = Reencryption(opened.ctx, opened.sequencer)
    return job


def _public(report: Report) -> CryptoPublic:
    migration = report.migration
    return CryptoPublic(
        suite=report.suite.value,
        writing=report.writing.value,
        migration=None if migration is None else MigrationPublic.model_validate(asdict(migration)),
    )


@router.get("/system/crypto", response_model=CryptoPublic)
async def crypto(request: Request, _admin: CurrentAdmin) -> CryptoPublic:
    """The recorded crypto suite, the one being written, and the re-encryption's progress."""
    return _public(await job_of(request.app).report())


@router.post("/system/crypto/migration", response_model=CryptoPublic, status_code=status.HTTP_202_ACCEPTED)
async def migrate(request: Request, body: MigrationCreate, _admin: CurrentAdmin, now: Now) -> CryptoPublic:
    """Start moving the vault to the other suite in the background; it keeps serving meanwhile."""
    job = job_of(request.app)
    await job.start(Suite(body.to), now)
    return _public(await job.report())
