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
from jwcrypto import jwk
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vault.context import VaultContext
from vault.credentials import records
from vault.credentials.checks import Check
from vault.db.models import Department
from vault.errors import VaultValueError
from vault.events import VaultEvent
from vault.interop import issuers, jose_keys, sd_jwt_format, sd_jwt_vc, urls
from vault.interop import sd_jwt_key_binding as key_binding
from vault.interop import sd_jwt_standing as standing
from vault.presentations import nonces
from vault.presentations.checks import PresentationVerdict
from vault.presentations.model import MAX_TTL

ISSUER_TYPS = (sd_jwt_vc.TYP, "vc+sd-jwt")


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
    v.add(disclosed(sd, payload))
    anchor, status = await standing.anchor(ctx, payload, dept)
    v.add(anchor)
    if keys is None or not keys.keys:
        v.add(Check("issuer_active", False, f"{v.issuer_name or 'the signer'} is not an active issuer on chain"))
    else:
        v.add(Check("issuer_active", True, f"issued by {v.issuer_name}, an active issuer"))
    signed = signature.passed
    v.add(await standing.not_revoked(session, payload, status if anchor.passed and signed else None))
    if (gone := await standing.erased(session, payload)) is not None:
        v.add(gone)
    v.add(validity(payload, now))
    current = await standing.current_key(ctx, session, payload) if anchor.passed and signed else None
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


def disclosed(sd: sd_jwt_format.SdJwt, payload: dict[str, Any]) -> Check:
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


def validity(payload: dict[str, Any], now: int) -> Check:
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
    facts = standing.anchor_facts(payload) if payload and {"issuer_signature", "batch_inclusion"} <= passed else None
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
