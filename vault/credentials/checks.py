"""A named check of a verdict, and the checks any verifier of a vault credential adds beyond
the chain's: that its data was not erased (``not_erased``), and in an sm vault that its batch
root carries its issuer's SM2 signature (``sm2_signature``). Credentials, presentations and
SD-JWT verification all take them from here, so each says the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from keys import Suite
from vault.context import VaultContext
from vault.credentials import root_signatures
from vault.db.models import AnchorBatch, Department


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    reason: str


async def sm2_check(
    ctx: VaultContext, session: AsyncSession, root: str, anchored_by: str, batch: AnchorBatch | None = None
) -> Check | None:
    """sm suite: ``sm2_signature``, the batch root signed with its issuer's published SM2 key
    (``vault.credentials.root_signatures``); a batch without one fails. None in an intl vault,
    whose verdicts have no such check."""
    if ctx.suite is not Suite.SM:
        return None
    if batch is None:
        batch = await session.get(AnchorBatch, root)
    issuer = await session.get(Department, batch.issuer_code) if batch is not None else None
    found = root_signatures.check(ctx, batch, issuer, anchored_by)
    return Check("sm2_signature", found.passed, found.reason)


def erased_check(erased_at: int) -> Check:
    """Only ever failed: a credential that was not erased has no such check."""
    day = datetime.fromtimestamp(erased_at, UTC).date().isoformat()
    return Check(
        "not_erased",
        False,
        f"the data behind this credential was erased on {day} (the subject's right to erasure): "
        "the vault no longer vouches for it",
    )
