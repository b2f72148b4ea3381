"""The grant conformance suite on the in-process chain and SQLite."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from tests.grant_conformance import *  # the shared suite runs here
from tests.support.harness import Harness

ETHERS_SIGN = Path(__file__).resolve().parents[2] / "support" / "ethers_sign.js"


async def test_a_grant_signed_with_ethers_is_accepted(harness: Harness) -> None:
    """The typed data the API publishes, signed by ethers (as a browser wallet would)."""
    from tests.grant_conformance import prepare, setup

    h = harness
    _, _, citizen, _ = await setup(h)
    prepared = await prepare(h, citizen)
    request = json.dumps({"typedData": prepared["typed_data"], "privateKey": citizen.key.hex()})
    node = shutil.which("node")
    assert node is not None, "Node.js is a requirement of the project"
    proc = await asyncio.create_subprocess_exec(
        node,
        str(ETHERS_SIGN),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate(request.encode())
    assert proc.returncode == 0
    signature = out.decode().strip()
    # Both libraries sign deterministically (RFC 6979): the same key and digest give the same bytes.
    assert signature == citizen.key.sign_typed_data(prepared["typed_data"])
    # Wallets often send uints as decimal strings; the same values, the same signature.
    message = {k: str(v) if isinstance(v, int) else v for k, v in prepared["typed_data"]["message"].items()}
    r = await h.http.post("/me/grants", json={"message": message, "signature": signature}, headers=citizen.headers)
    assert r.status_code == 201 and r.json()["signer"] == citizen.key.address
