"""Verifying a presentation: online against the chain, or offline against a status snapshot.

Every check is run and reported, whatever failed before it, so a clerk sees each reason:
- ``holder_signature``: signed by the holder's current key (online: the key the consent
  registry binds to the subject; offline: the key the credential names, unless the snapshot
  lists it as replaced);
- ``disclosed_fields``: the shown fields rebuild the credential hash (``vault.credentials.commitments``);
- ``batch_inclusion``: the batch proof leads to a root anchored on chain (online), or to a
  root an issuer signed (offline);
- ``issuer_active``: that department is an active issuer (deactivating a department
  withdraws trust in everything it issued; a successor re-issues), named by the credential;
- ``sm2_signature`` (online, sm suite only): the batch root is signed with its issuer's
  published SM2 key (``vault.credentials.root_signatures``), beside the EIP-712 signature;
- ``not_revoked``: neither the credential nor its batch is revoked (offline: its bit);
- ``validity``, ``fresh`` and ``not_replayed``; offline also ``snapshot`` (its age).
Input that cannot even be decoded gives one failed check (``qr_image`` or ``format``), never
an exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy.ext.asyncio import AsyncSession

from chain.merkle import process_proof
from chain.registry import AnchorStatus, DepartmentInfo
from chain.view import queries
from vault.context import ChainContext, VaultContext
from vault.credentials import checks, records
from vault.credentials.checks import Check
from vault.db.models import Department
from vault.errors import VaultValueError
from vault.events import VaultEvent
from vault.presentations import checks as pc
from vault.presentations import codec as presentation_codec
from vault.presentations import cose_qr, qr
from vault.presentations import nonces as presentation_nonces
from vault.presentations.checks import PresentationVerdict
from vault.presentations.issuer_signatures import batch_signer, credential_domain
from vault.presentations.model import Presentation
from vault.presentations.status_snapshot import StatusSnapshot

# A counter offline is warned when its snapshot is older than this; a day, as revocations
# of paper licences used to reach counters no faster.
MAX_SNAPSHOT_AGE = 24 * 3600


def decode(
    text_or_image: str | bytes, mode: str, issuer_id: Callable[[str], str] | None = None
) -> Presentation | PresentationVerdict:
    """The presentation, or a verdict naming why it could not be read; a DC1's ``iss`` must be
    the issuer's code or ``issuer_id`` of it (``cose_qr.check_iss``)."""
    try:
        text = qr.decode_image(text_or_image) if isinstance(text_or_image, bytes) else text_or_image
    except VaultValueError as exc:
        return PresentationVerdict(False, mode, [Check("qr_image", False, exc.reason)])
    try:
        if text.strip().startswith(cose_qr.PREFIX):  # the same presentation as a CWT (COSE_Sign1)
            cose = cose_qr.decode(text.strip())
            cose_qr.check_iss(cose, issuer_id)
            return cose
        return presentation_codec.decode(text.strip())
    except VaultValueError as exc:
        return PresentationVerdict(False, mode, [Check("format", False, exc.reason)])


async def verify_online(
    ctx: VaultContext,
    session: AsyncSession,
    text_or_image: str | bytes,
    *,
    verifier: Department,
    now: int,
    issuer_id: Callable[[str], str] | None = None,
) -> PresentationVerdict:
    """Against the chain; ``issuer_id``: the vault's identifiers of issuers (a DC1's ``iss``)."""
    decoded = decode(text_or_image, "online", issuer_id)
    if isinstance(decoded, PresentationVerdict):
        await _trace(ctx, session, decoded, verifier, now)
        return decoded
    p = decoded
    chain = ctx.chain
    v = PresentationVerdict(False, "online", presentation=p)
    key, status, info = await _chain_facts(chain, p)
    v.add(pc.holder_check(pc.holder_signer(credential_domain(ctx), p), key))
    v.add(pc.disclosed_fields(p))
    if not status.anchored or status.issuer is None:
        v.add(
            Check(
                "batch_inclusion",
                False,
                "the proof leads to no batch anchored on chain: the credential was never "
                "issued, or the proof belongs to another batch",
            )
        )
        v.add(Check("issuer_active", False, "no issuer: the batch is not anchored"))
        v.add(Check("not_revoked", False, "not checked: the batch is not anchored"))
    else:
        v.add(Check("batch_inclusion", True, "the credential is in a batch anchored on chain"))
        active = info is not None and info.active and bool(info.roles & 1)
        dept = await session.get(Department, info.code.rstrip(b"\0").decode(errors="replace")) if info else None
        v.issuer_code, v.issuer_name = (dept.code, dept.name) if dept else (None, None)
        v.add(pc.issuer_named(p, status.issuer) or _issuer_check(active, v.issuer_name))
        sm2 = await checks.sm2_check(ctx, session, encode_hex(status.root), status.issuer)
        if sm2 is not None:
            v.add(sm2)
        # Deny wins: a revocation the vault has queued counts before the chain confirms it.
        here = await records.standing_by_hash(session, encode_hex(p.credential))
        revoked = status.revoked or here.status in ("revoked", "revoking")
        v.add(Check("not_revoked", not revoked, "not revoked" if not revoked else "the issuer revoked this credential"))
        if here.erased_at is not None:
            v.add(checks.erased_check(here.erased_at))
    await _finish(
        v,
        p,
        now,
        lambda consume: presentation_nonces.use(
            session, nonce=p.nonce, verifier=verifier.code, expires_at=p.expires_at, now=now, consume=consume
        ),
    )
    v.settle()
    await _trace(ctx, session, v, verifier, now)
    return v


async def verify_offline(
    snapshot: StatusSnapshot,
    text_or_image: str | bytes,
    *,
    now: int,
    replay: presentation_nonces.FileReplayCache | None = None,
    max_age: int = MAX_SNAPSHOT_AGE,
    issuer_id: Callable[[str], str] | None = None,
) -> PresentationVerdict:
    """Without the chain or the vault: ``snapshot`` (signature already checked when it was
    decoded) says who issues and what is revoked; ``replay`` remembers accepted nonces;
    ``issuer_id`` is as online (without it a DC1's ``iss`` must be the bare code)."""
    decoded = decode(text_or_image, "offline", issuer_id)
    if isinstance(decoded, PresentationVerdict):
        return decoded
    p = decoded
    v = PresentationVerdict(False, "offline", presentation=p, snapshot_age=snapshot.age(now))
    v.add(
        pc.holder_check(pc.holder_signer(snapshot.domain, p), p.header.holder, snapshot.key_replaced(p.header.holder))
    )
    v.add(pc.disclosed_fields(p))
    root = _batch_root(p)
    signer = batch_signer(snapshot.domain, root, p.issuer_signature) if root is not None else None
    issuer = snapshot.issuer(signer) if signer is not None else None
    if issuer is None:
        v.add(
            Check(
                "batch_inclusion",
                False,
                "the proof does not lead to a batch signed by a department this snapshot "
                "knows: the credential was altered, or the proof belongs to another batch",
            )
        )
        v.add(Check("issuer_active", False, "no known issuer signed this batch"))
    else:
        v.issuer_code, v.issuer_name = issuer.code, issuer.name
        v.add(Check("batch_inclusion", True, f"the credential is in a batch signed by {issuer.name}"))
        v.add(
            pc.issuer_named(p, issuer.address) or _issuer_check(issuer.active and bool(issuer.roles & 1), issuer.name)
        )
    v.add(snapshot_bit(snapshot, p.header.status_index))

    async def use(consume: bool) -> Check:
        if replay is None:
            return Check("not_replayed", True, "not checked: this counter keeps no record of accepted codes")
        return replay.use(p.nonce, p.expires_at, now, consume)

    await _finish(v, p, now, use)
    age = snapshot.age(now)
    v.add(Check("snapshot", 0 <= age <= max_age, snapshot_age_reason(age, max_age)))
    return v.settle()


async def _chain_facts(chain: ChainContext, p: Presentation) -> tuple[str | None, AnchorStatus, DepartmentInfo | None]:
    """The holder's key, the credential's anchor and its issuer, as of the chain's latest
    block, in one look at the head and (for what the view does not know) one batch."""
    view = chain.view
    anchor = queries.credential_status(chain.client, p.credential, p.batch_proof)
    # The credential names its issuer: asked beside the anchor, it is right but for a
    # credential whose batch someone else anchored (which fails ``issuer_named`` anyway).
    named = queries.department(chain.client, p.header.issuer_address)
    if chain.consent is None:
        status, info = await view.read(anchor, named)
        key = None
    else:
        holder, status, info = await view.read(
            queries.subject_key(chain.consent, decode_hex(p.header.subject)), anchor, named
        )
        key = holder.key
    if status.issuer is not None and status.issuer.lower() != p.header.issuer_address.lower():
        (info,) = await view.known(queries.department(chain.client, status.issuer))
    return key, status, info


def _batch_root(p: Presentation) -> bytes | None:
    try:
        return process_proof(p.credential, p.batch_proof)
    except ValueError:
        return None


def snapshot_bit(snapshot: StatusSnapshot, index: int) -> Check:
    if index >= snapshot.size:
        return Check(
            "not_revoked",
            False,
            "issued after this status snapshot was made: its status is unknown; update the snapshot",
        )
    if snapshot.revoked(index):
        return Check("not_revoked", False, "the issuer revoked this credential (as of the snapshot)")
    return Check("not_revoked", True, "not revoked as of the snapshot")


def _issuer_check(active: bool, name: str | None) -> Check:
    who = name or "the issuing department"
    if not active:
        return Check("issuer_active", False, f"{who} is no longer an active issuer: its credentials are not trusted")
    return Check("issuer_active", True, f"issued by {who}, an active issuer")


async def _finish(v: PresentationVerdict, p: Presentation, now: int, use: Callable[[bool], Awaitable[Check]]) -> None:
    v.add(pc.validity(p, now))
    v.add(pc.fresh(p, now))
    # The nonce is spent only by a presentation that passes everything else.
    v.add(await use(all(c.passed for c in v.checks)))


def snapshot_age_reason(age: int, max_age: int) -> str:
    when = f"{age // 3600} h {age % 3600 // 60} min" if age >= 3600 else f"{max(age, 0) // 60} min"
    if age < 0:
        return "the snapshot is dated in the future; check this device's clock"
    if age > max_age:
        return (
            f"the status snapshot is {when} old (limit {max_age // 3600} h): "
            "revocations since then are unknown; update it"
        )
    return f"status as of {when} ago"


async def _trace(
    ctx: VaultContext, session: AsyncSession, v: PresentationVerdict, verifier: Department, now: int
) -> None:
    # Whose file was read is logged only when the header is the issuer's (it rebuilt an
    # anchored credential); an altered one names no one, so it cannot pollute others' logs.
    passed = {c.name for c in v.checks if c.passed}
    p = v.presentation if {"disclosed_fields", "batch_inclusion"} <= passed else None
    # The outcome is the verdict's: a presentation that failed a check was refused, and the
    # reason names the checks it failed.
    await ctx.events.emit(
        session,
        VaultEvent(
            "credential.verified",
            "ok" if v.valid else "refused",
            now,
            "department",
            verifier.code,
            subject_id=p.header.subject if p else None,
            record_types=(p.header.type,) if p else (),
            record_ids=(p.header.record_id,) if p else (),
            fields=tuple(sorted(v.disclosed)) if p else (),
            reason="presentation valid" if v.valid else "failed checks: " + ", ".join(v.failed()),
        ),
    )
