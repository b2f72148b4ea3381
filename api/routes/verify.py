from __future__ import annotations

from fastapi import APIRouter

from api.deps import Ctx, Now, Session
from api.schemas.verify import CheckPublic, IssuerPublic, VerdictPublic, VerifyRequest
from vault.credentials import verification

router = APIRouter(tags=["verify"])


@router.post("/verify", response_model=VerdictPublic)
async def verify(body: VerifyRequest, ctx: Ctx, session: Session, now: Now) -> VerdictPublic:
    """Public: check a credential against the chain. Answers valid or not, and why."""
    if body.document is not None:
        verdict = await verification.verify_document(ctx, session, body.document, body.proof, now)
    else:
        assert body.credential_hash is not None
        verdict = await verification.verify_hash(ctx, session, body.credential_hash, body.proof, now)
    return public(verdict)


def public(v: verification.Verdict) -> VerdictPublic:
    issuer = (
        IssuerPublic(address=v.issuer_address, code=v.issuer_code, name=v.issuer_name) if v.issuer_address else None
    )
    return VerdictPublic(
        valid=v.valid,
        credential_hash=v.credential_hash,
        checks=[CheckPublic(name=c.name, passed=c.passed, reason=c.reason) for c in v.checks],
        issuer=issuer,
        root=v.root,
        issued_at=v.issued_at,
        valid_from=v.valid_from,
        valid_until=v.valid_until,
        revoked=v.revoked_at is not None,
        revoked_at=v.revoked_at,
        tx_hash=v.tx_hash,
        block_number=v.block_number,
        sm2_signature=v.sm2_signature,
    )
