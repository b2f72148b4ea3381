"""A holder's credential as an SD-JWT VC (IETF SD-JWT, draft-ietf-oauth-sd-jwt-vc).

The issuing department signs it with its chain key (ES256K, ``kid`` its address, which the
registry lists), so a wallet or verifier that knows nothing of this vault checks it with the
JWKS at the issuer's identifier. Every claim of ``vault.interop.claims`` is selectively
disclosable; the registered claims (``iss``, ``vct``, validity, ``cnf``, ``status``) and the
chain anchor are not: they say who vouches, for how long, where to look for revocation and
which anchored credential this is a copy of. The anchor lets a vault-aware verifier check on
chain that the credential hash was anchored by that issuer and is not revoked.

The holder's key is bound (``cnf``) only when its Ethereum address is the subject's current
key (the one it logs in with; a registrar may have replaced the one the credential names):
the vault never holds that key, so the request names its public half.
"""

from __future__ import annotations

import json
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import decode_hex
from jwcrypto import jwk
from sd_jwt.common import SDObj
from sd_jwt.issuer import SDJWTIssuer
from sqlalchemy.ext.asyncio import AsyncSession

from vault.accounts import departments
from vault.context import VaultContext
from vault.credentials import records
from vault.db.models import Department, Record, Subject
from vault.errors import ConflictError, NotFoundError, VaultValueError
from vault.events import VaultEvent
from vault.interop import jose_keys, urls
from vault.interop.claims import credential_claims
from vault.licence_codes import ELicenceFacts

# The media type of the current draft (-06 on); "vc+sd-jwt" was the earlier one.
TYP = "dc+sd-jwt"
VCT_PREFIX = "urn:datavault:vct:"
# Registered and vault claims that are never disclosable: an SD-JWT VC verifier needs them
# in the clear, and credential_claims must not shadow them. "_sd", "_sd_alg" and "..." are
# SD-JWT's own names (RFC 9901 §4.2.2: a disclosure may not claim them).
FIXED_CLAIMS = frozenset({"iss", "iat", "nbf", "exp", "vct", "cnf", "status", "anchor", "sub", "_sd", "_sd_alg", "..."})


def vct(record_type: str) -> str:
    """The SD-JWT VC type of a record type: one URN per record type."""
    return VCT_PREFIX + record_type


def holder_jwk(key: dict[str, Any] | None = None, public_key: str | None = None) -> dict[str, Any]:
    """The holder's public key as a secp256k1 JWK, from a JWK or 0x-hex of the uncompressed point."""
    if (key is None) == (public_key is None):
        raise VaultValueError("give the holder's public key as holder_jwk or holder_public_key, one of them")
    if public_key is not None:
        try:
            raw = decode_hex(public_key) if isinstance(public_key, str) else b""
        except ValueError:
            raw = b""
        return jose_keys.jwk_of_public_key(raw)
    assert key is not None
    # Only the public members, checked and spelled canonically: a private "d" sent by
    # mistake, or another spelling of x and y, must not end up in the signed cnf.
    return jose_keys.canonical_jwk(key)


def _anchored(row: Record, subject_id: str) -> Record:
    if row.subject_id != subject_id:
        raise NotFoundError("record", row.id)  # as for a missing record
    if row.status in ("revoked", "revoking"):
        raise ConflictError("this credential is revoked; a revoked credential cannot be exported")
    if row.status != "anchored" or row.batch_root is None or row.proof is None:
        raise ConflictError(f"this credential is {row.status}, not anchored yet; export it once it is anchored")
    return row


def payload(
    document: dict[str, Any],
    *,
    base_url: str,
    chain_id: int,
    registry: str,
    credential_hash: str,
    proof: list[str],
    e_licence: ELicenceFacts | None = None,
) -> dict[str, Any]:
    """The claims to sign, disclosable ones keyed by ``SDObj`` (the reference issuer's marker)."""
    disclosable = credential_claims(document, e_licence=e_licence)
    clash = sorted(FIXED_CLAIMS & set(disclosable))
    if clash:
        raise ConflictError(
            f"this credential has a field named {clash[0]!r}, a name SD-JWT VC reserves: "
            "it cannot be exported as an SD-JWT VC (the W3C VC export can)"
        )
    fixed: dict[Any, Any] = {
        "iss": urls.issuer_id(base_url, document["issuer"]["code"]),
        "vct": vct(document["type"]),
        "iat": document["issued_at"],
        "nbf": document["valid_from"],
        "exp": document["valid_until"],
        "status": {"status_list": {"idx": document["status_index"], "uri": urls.token_status_list(base_url)}},
        "anchor": {
            "chain_id": chain_id,
            "registry": registry,
            "credential_hash": credential_hash,
            "proof": proof,
        },
    }
    fixed.update({SDObj(name): value for name, value in disclosable.items()})
    return fixed


def issue(claims: dict[str, Any], issuer_key: jwk.JWK, holder_key: dict[str, Any]) -> str:
    """The SD-JWT in compact form, ``<jwt>~<disclosure>~...~``, signed by ``issuer_key``."""
    issuer = SDJWTIssuer(
        claims,
        issuer_key,
        holder_key=jwk.JWK(**holder_key),
        sign_alg=jose_keys.ALG,
        add_decoy_claims=True,  # how many fields a credential has is not disclosed either
        extra_header_parameters={"typ": TYP, "kid": issuer_key.get("kid")},
    )
    return str(issuer.sd_jwt_issuance)


async def export(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    record_id: str,
    holder_key: dict[str, Any],
    base_url: str,
    now: int,
) -> str:
    """The subject's record ``record_id`` as an SD-JWT VC bound to ``holder_key``."""
    row = _anchored(await records.latest(session, record_id), subject_id)
    document = await records.decrypt(ctx, session, row)
    if document.get("version") != 2:
        raise ConflictError(
            "this credential was issued before fields could be shown one by one; "
            "ask the issuer to issue it again (a correction does)"
        )
    # The subject's key now, not the one the credential names (its key at issuance): after a
    # registrar replaces a key the old one is refused here at once, as at login, and a
    # counter checks the key binding against the key the registry lists now.
    subject = await session.get(Subject, subject_id)
    holder = to_checksum_address(subject.auth_address) if subject else None
    if holder is None or jose_keys.address_of_jwk(holder_key) != holder:
        raise VaultValueError(
            f"the key given is not your current key ({holder}); send the public key you log in with",
            field="holder_jwk",
        )
    code = document["issuer"]["code"]
    dept = await session.get(Department, code)
    if dept is None or not dept.active:  # as the W3C VC export: its credentials are not trusted
        raise ConflictError(f"the issuer {code!r} is deactivated; its credentials are not exported")
    if dept.chain_address.lower() != document["issuer"]["address"].lower():
        raise ConflictError("the department that issued this credential no longer signs with the key it used")
    claims = payload(
        document,
        base_url=base_url,
        chain_id=ctx.chain.chain_id(),
        registry=to_checksum_address(ctx.chain.client.address),
        credential_hash=row.credential_hash,
        proof=[str(p) for p in json.loads(row.proof or "[]")],
        # The holder's own export: the holder's name (持证主体名称) is one more disclosable claim.
        e_licence=await departments.licence_facts(ctx, session, document),
    )
    text = issue(claims, jose_keys.private_jwk(ctx.account(dept.chain_key_name)), holder_key)
    await ctx.events.emit(
        session,
        VaultEvent(
            # Handed over with every field: as a presentation of all of them, to someone the
            # vault does not know yet (the holder's wallet).
            "credential.presented",
            "ok",
            now,
            "subject",
            subject_id,
            subject_id=subject_id,
            record_types=(row.type,),
            record_ids=(row.id,),
            fields=tuple(sorted(document["fields"])),
            reason="exported as an SD-JWT VC",
        ),
    )
    return text
