"""Third-party browser files, served from the project's own npm install (hardhat-node/,
pinned by its lock file): the pages load nothing from another host."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

NODE_MODULES = Path(__file__).resolve().parents[2] / "hardhat-node" / "node_modules"

# What a page may load, by the name it asks for. Nothing else under node_modules is served.
VENDOR = {
    "ethers.umd.min.js": NODE_MODULES / "ethers" / "dist" / "ethers.umd.min.js",
    "axe.min.js": NODE_MODULES / "axe-core" / "axe.min.js",
}

router = APIRouter(include_in_schema=False)


@router.get("/vendor/{name}")
async def vendor(name: str) -> FileResponse:
    path = VENDOR.get(name)
    if path is None:
        raise HTTPException(404, f"no vendor file {name!r}")
    if not path.is_file():
        # The install is incomplete: say how to fix it, as the chain engines do for anvil.
        raise HTTPException(503, f"{name} is not installed; run `npm ci` in hardhat-node/")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
