"""A counter's verdict on an SD-JWT VC presentation, with the same checks as a ``DV1:`` one.

- ``issuer_signature``: the issuer JWT (``dc+sd-jwt``, ES256K) verifies, with the reference
  implementation (``SDJWTVerifier``), under the key of the department ``kid`` names, which the
  registry on chain lists as an active issuer (``vault.interop.issuers``), and ``iss`` is that
  department's identifier;
- ``disclosed_fields``: every disclosure shown is one the issuer listed (a changed one is not);
- ``batch_inclusion`` and ``issuer_active``: the ``anchor`` claim's credential hash and proof
  lead to a root that department anchored on this chain; it is still an active issuer;
- ``not_revoked``: not revoked on chain, nor in the vault (its status index's bit: deny wins);
- ``validity``: ``nbf`` <= now < ``exp``;
- ``holder_binding``: a key binding JWT (``kb+jwt``) signed by the ``cnf`` key, which is the
  key the consent registry lists for the credential's subject now (as ``holder_signature``
  of a ``DV1:`` presentation), for this counter (``aud``), over exactly these disclosures
  (``sd_hash``), with a nonce;
- ``fresh`` (its ``iat``) and ``not_replayed`` (its nonce, as for ``DV1:``).
Every check runs whatever failed before it; input that cannot be read is one failed
``format`` check, never an exception. Values of the payload reach a query only once the
issuer's signature holds (the anchor's fixed-size hashes aside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import decode_hex
from jwcrypto import jwk
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.registry import AnchorStatus
from chain.view import queries
from vault.context import VaultContext
from vault.credentials import records
from vault.credentials.verification import Check
from vault.db.models import Department, Record
from vault.errors import VaultValueError
from vault.events import VaultEvent
from vault.interop import issuers, jose_keys, sd_jwt_format, sd_jwt_vc, urls
from vault.interop import sd_jwt_key_binding as key_binding
from vault.presentations import nonces
from vault.presentations.checks import PresentationVerdict
from vault.presentations.model import MAX_TTL

ISSUER_TYPS = (sd_jwt_vc.TYP, "vc+sd-jwt")
MAX_STATUS_INDEX = 2**40


@dataclass
class SdJwtVerdict(PresentationVerdict):
    claims: dict[str, Any] = field(default_factory=dict)  # the disclosed claims, once the signature holds
    issuer_address: str | None = None

    @property
    def disclosed(self) -> dict[str, Any]:
        return dict(self.claims)


def audiences(base_url: str, verifier: Department) -> tuple[str, ...]:
    """What a key binding may name as ``aud`` at this counter: its code or its identifier."""
    return verifier.code, urls.issuer_id(base_url, verifier.code)


async def verify_online(
    ctx: VaultContext, session: AsyncSession, text: str, *, verifier: Department, base_url: str, now: int
) -> SdJwtVerdict:
    v = SdJwtVerdict(False, "online")
    try:
        sd = sd_jwt_format.parse(text)
    except VaultValueError as exc:
        v.add(Check("format", False, exc.reason))
        await _trace(ctx, session, v, verifier, now, None)
        return v
    payload = sd.payload()
    header = sd.header()
    dept = await _department(session, header.get("kid"))
    keys = await issuers.issuer_keys(ctx, session, dept.code) if dept else None
    v.issuer_code, v.issuer_name = (dept.code, dept.name) if dept else (None, None)
    signature = _issuer_signature(sd, header, payload, dept, keys, base_url, v)
    v.add(signature)
    v.add(_disclosed(sd, payload))
    anchor, status = await _anchor(ctx, payload, dept)
    v.add(anchor)
    if keys is None or not keys.keys:
        v.add(Check("issuer_active", False, f"{v.issuer_name or 'the signer'} is not an active issuer on chain"))
    else:
        v.add(Check("issuer_active", True, f"issued by {v.issuer_name}, an active issuer"))
    signed = signature.passed
    v.add(await _not_revoked(session, payload, status if anchor.passed and signed else None))
    v.add(_validity(payload, now))
    current = await _current_key(ctx, session, payload) if anchor.passed and signed else None
    kb = key_binding.check(sd, payload, audiences(base_url, verifier), current)
    v.add(kb.check)
    v.add(key_binding.fresh(kb.iat, now))
    if kb.nonce is None:
        v.add(Check("not_replayed", False, "not checked: no nonce the counter can keep"))
    else:
        consume = all(c.passed for c in v.checks)  # only a presentation that passed spends its nonce
        expires = (kb.iat or now) + MAX_TTL
        v.add(
            await nonces.use(
                session, nonce=kb.nonce, verifier=verifier.code, expires_at=expires, now=now, consume=consume
            )
        )
    v.settle()
    await _trace(ctx, session, v, verifier, now, payload)
    return v


async def _department(session: AsyncSession, kid: Any) -> Department | None:
    if not isinstance(kid, str) or len(kid) != 42:
        return None
    found: Department | None = await session.scalar(
        select(Department).where(func.lower(Department.chain_address) == kid.lower())
    )
    return found


def _issuer_signature(
    sd: sd_jwt_format.SdJwt,
    header: dict[str, Any],
    payload: dict[str, Any],
    dept: Department | None,
    keys: issuers.IssuerKeys | None,
    base_url: str,
    v: SdJwtVerdict,
) -> Check:
    name = "issuer_signature"
    if header.get("typ") not in ISSUER_TYPS or header.get("alg") != jose_keys.ALG:
        return Check(name, False, f"not an SD-JWT VC signed {jose_keys.ALG} (typ {sd_jwt_vc.TYP})")
    if dept is None or keys is None:
        return Check(name, False, "signed by a key (kid) of no department this vault knows")
    if payload.get("iss") != urls.issuer_id(base_url, dept.code):
        return Check(name, False, f"iss does not name {dept.name}, whose key kid names")
    if not keys.keys:
        return Check(name, False, f"{dept.name}'s key is not listed as an active issuer's on chain")

    def issuer_key(_iss: str, _header: dict[str, Any]) -> jwk.JWK:
        return jwk.JWK(**keys.keys[0])

    try:
        verified = SDJWTVerifier(sd.without_key_binding, issuer_key).get_verified_payload()
    except Exception:  # the reference verifier raises whatever jwcrypto or json raise
        return Check(name, False, "the issuer's signature does not match: the credential was altered or forged")
    v.issuer_address = to_checksum_address(dept.chain_address)
    reserved = sd_jwt_vc.FIXED_CLAIMS
    v.claims = {k: value for k, value in verified.items() if k in {d.name for d in sd.disclosures} - reserved}
    return Check(name, True, f"signed by {dept.name} ({v.issuer_address}), with the key the registry lists")


def _disclosed(sd: sd_jwt_format.SdJwt, payload: dict[str, Any]) -> Check:
    listed = payload.get("_sd")
    listed = set(listed) if isinstance(listed, list) and all(isinstance(d, str) for d in listed) else set()
    digests = [d.digest for d in sd.disclosures]
    names = [d.name for d in sd.disclosures]
    if len(set(digests)) != len(digests) or len(set(names)) != len(names):
        return Check("disclosed_fields", False, "a claim is shown twice; the presentation was altered")
    if not set(digests) <= listed or set(names) & sd_jwt_vc.FIXED_CLAIMS:
        return Check(
            "disclosed_fields",
            False,
            "a shown claim is not one the issuer signed: it was altered, or it belongs to another credential",
        )
    what = ", ".join(sorted(names)) if names else "no claims, only who issued it"
    return Check("disclosed_fields", True, f"every shown claim is one the issuer signed ({what})")


def _anchor_facts(payload: dict[str, Any]) -> tuple[int, str, bytes, list[bytes]] | None:
    a = payload.get("anchor")
    try:
        assert isinstance(a, dict) and type(a["chain_id"]) is int and isinstance(a["registry"], str)
        leaf, proof = decode_hex(a["credential_hash"]), [decode_hex(p) for p in a["proof"]]
        assert len(leaf) == 32 and all(len(p) == 32 for p in proof) and len(proof) <= 64
    except (AssertionError, KeyError, TypeError, ValueError):
        return None
    return a["chain_id"], a["registry"], leaf, proof


async def _anchor(
    ctx: VaultContext, payload: dict[str, Any], dept: Department | None
) -> tuple[Check, AnchorStatus | None]:
    name = "batch_inclusion"
    facts = _anchor_facts(payload)
    if facts is None:
        return Check(
            name, False, "no chain anchor (chain_id, registry, credential_hash, proof) in the credential"
        ), None
    chain_id, registry, leaf, proof = facts
    if chain_id != ctx.chain.chain_id() or registry.lower() != ctx.chain.client.address.lower():
        return Check(name, False, "anchored on another chain or registry than this vault's"), None
    (status,) = await ctx.chain.view.read(queries.credential_status(ctx.chain.client, leaf, proof))
    if not status.anchored or status.issuer is None:
        return Check(name, False, "the credential hash leads to no batch anchored on chain"), None
    if dept is None or status.issuer.lower() != dept.chain_address.lower():
        return Check(name, False, "the batch was anchored by another department than the one that signed"), None
    return Check(name, True, "the credential is in a batch its issuer anchored on chain"), status


async def _current_key(ctx: VaultContext, session: AsyncSession, payload: dict[str, Any]) -> str | None:
    """The key the consent registry lists now for the subject of the (verified, anchored)
    credential, read through the chain view as for ``DV1:``; None when none is."""
    facts = _anchor_facts(payload)
    row = await records.by_hash(session, "0x" + facts[2].hex()) if facts else None
    if row is None or ctx.chain.consent is None:
        return None
    (holder,) = await ctx.chain.view.read(queries.subject_key(ctx.chain.consent, decode_hex(row.subject_id)))
    key: str | None = holder.key
    return key


def _status_index(payload: dict[str, Any]) -> int | None:
    status = payload.get("status")
    listed = status.get("status_list") if isinstance(status, dict) else None
    idx = listed.get("idx") if isinstance(listed, dict) else None
    # A status index is what the vault hands out: small and not negative. Anything else is no
    # index (and must not reach the database as a 64-bit integer it cannot hold).
    return idx if type(idx) is int and 0 <= idx < MAX_STATUS_INDEX else None


async def _not_revoked(session: AsyncSession, payload: dict[str, Any], status: AnchorStatus | None) -> Check:
    """``status``: the anchor's, given only once the issuer's signature and the anchor hold."""
    facts = _anchor_facts(payload)
    if status is None or facts is None:
        return Check("not_revoked", False, "not checked: the credential's signature or anchor does not hold")
    here = await records.status_by_hash(session, "0x" + facts[2].hex())
    idx = _status_index(payload)
    # The status list's bit for idx (what /status/token-list publishes), read at its source.
    bit = await session.scalar(select(Record.status).where(Record.status_index == idx)) if idx is not None else None
    # Deny wins: a revocation the vault has queued counts before the chain confirms it.
    if status.revoked or here in ("revoked", "revoking") or bit in ("revoked", "revoking"):
        return Check("not_revoked", False, "the issuer revoked this credential")
    return Check("not_revoked", True, "not revoked")


def _validity(payload: dict[str, Any], now: int) -> Check:
    nbf, exp = payload.get("nbf"), payload.get("exp")
    if type(nbf) is not int or type(exp) is not int:
        return Check("validity", False, "the credential states no validity period (nbf, exp)")
    if now < nbf:
        return Check("validity", False, "the credential is not valid yet")
    if now >= exp:
        return Check("validity", False, "the credential has expired")
    return Check("validity", True, "the credential is within its validity period")


async def _trace(
    ctx: VaultContext,
    session: AsyncSession,
    v: SdJwtVerdict,
    verifier: Department,
    now: int,
    payload: dict[str, Any] | None,
) -> None:
    # Whose credential it was is logged only when the issuer's signature and the anchor hold:
    # an altered one names no one.
    passed = {c.name for c in v.checks if c.passed}
    facts = _anchor_facts(payload) if payload and {"issuer_signature", "batch_inclusion"} <= passed else None
    row = await records.by_hash(session, "0x" + facts[2].hex()) if facts else None
    await ctx.events.emit(
        session,
        VaultEvent(
            "credential.verified",
            "ok" if v.valid else "refused",
            now,
            "department",
            verifier.code,
            subject_id=row.subject_id if row else None,
            record_types=(row.type,) if row else (),
            record_ids=(row.id,) if row else (),
            fields=tuple(sorted(v.claims)) if row else (),
            reason="SD-JWT VC presentation valid" if v.valid else "failed checks: " + ", ".join(v.failed()),
        ),
    )
