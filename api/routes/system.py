from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Ctx

router = APIRouter(tags=["system"])


@router.get("/health")
async def health(request: Request, ctx: Ctx) -> dict[str, object]:
    dep = request.app.state.vault.deployment
    return {
        "status": "ok",
        "chain": {"engine": ctx.chain.engine.name, "chain_id": dep.chain_id, "registry": dep.registry, "deployed_at_block": dep.block},
    }


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index() -> str:
    return (
        "<!doctype html><meta charset=utf-8><title>数字保险箱 Data vault</title>"
        "<h1>数字保险箱 · Data vault</h1>"
        "<p>API documentation: <a href=/docs>/docs</a> (OpenAPI: <a href=/openapi.json>/openapi.json</a>)."
        "<p>Health: <a href=/health>/health</a>"
    )
