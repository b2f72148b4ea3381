"""The presentation conformance suite on the in-process chain and SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.presentation_conformance import *  # the shared suite runs here
from tests.support.harness import Harness

# ethers signs the typed data here, as a wallet on the phone would.
ETHERS_SIGN = Path(__file__).resolve().parents[2] / "support" / "ethers_sign.js"


async def test_a_presentation_signed_with_ethers_verifies(harness: Harness) -> None:
    """The typed data /me/presentations publishes, signed by ethers as a phone wallet would."""
    import asyncio
    import json
    import shutil

    from tests.presentation_conformance import check, prepared, world

    h = harness
    w = await world(h)
    p = await prepared(h, w.citizen, w.licence["id"], ["准驾车型"])
    node = shutil.which("node")
    assert node is not None, "Node.js is a requirement of the project"
    proc = await asyncio.create_subprocess_exec(
        node,
        str(ETHERS_SIGN),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate(
        json.dumps({"typedData": p["typed_data"], "privateKey": w.citizen.key.hex()}).encode()
    )
    assert proc.returncode == 0
    signature = out.decode().strip()
    assert signature == w.citizen.key.sign_typed_data(p["typed_data"])  # RFC 6979: same digest, same bytes
    r = await h.http.post(
        "/me/presentations/sign", json={"unsigned": p["unsigned"], "signature": signature}, headers=w.citizen.headers
    )
    assert r.status_code == 200, r.text
    assert (await check(h, w.counter, r.json()["text"]))["valid"] is True
