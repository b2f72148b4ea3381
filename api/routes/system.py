from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import Ctx
from api.problems import problem
from vault.context import VaultContext
from vault.health import Health, probe

router = APIRouter(tags=["system"])


def _report(request: Request, ctx: VaultContext, found: Health) -> dict[str, object]:
    dep = request.app.state.vault.deployment
    chain: dict[str, object] = {
        "status": found.chain.status,
        "engine": ctx.chain.engine.name,
        "chain_id": dep.chain_id,
        "registry": dep.registry,
        "deployed_at_block": dep.block,
    }
    if found.chain.block is not None:
        chain["block"] = found.chain.block
    database: dict[str, object] = {"status": found.database.status}
    for part, checked in ((chain, found.chain), (database, found.database)):
        if checked.reason:
            part["reason"] = checked.reason
    return {"status": "ok" if found.ready else "degraded", "chain": chain, "database": database}


@router.get("/health")
async def health(request: Request, ctx: Ctx) -> dict[str, object]:
    """Liveness: 200 while the process runs, saying whether the chain and the database answer."""
    return _report(request, ctx, await probe(ctx))


@router.get("/health/ready", response_model=None)
async def ready(request: Request, ctx: Ctx) -> dict[str, object] | JSONResponse:
    """Readiness: 200 when the chain and the database both answer, 503 naming what is down."""
    found = await probe(ctx)
    report = _report(request, ctx, found)
    if found.ready:
        return report
    down = found.down()
    reasons = "; ".join(f"{name}: {getattr(found, name).reason}" for name in down)
    return problem(
        503, "Not ready", f"{' and '.join(down)} down ({reasons})", chain=report["chain"], database=report["database"]
    )
