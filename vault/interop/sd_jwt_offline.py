"""An offline counter's verdict on an SD-JWT VC presentation: no vault, no chain, only a signed
status snapshot (``vault.presentations.status_snapshot``), as ``datavault check --offline``
gives ``DV1:`` and ``DC1:`` codes.

The checks and their words are the online verifier's (``sd_jwt_verify``), with what stands in
for the chain offline:
- ``issuer_signature``: there is no JWKS to fetch, so the issuer's ES256K public key is
  recovered from the JWS signature itself (over SHA-256 of the signing input, as ES256K hashes;
  recovery ids 0 and 1), the candidate whose address is ``kid`` kept, and the issuer JWT then
  verified by the reference ``SDJWTVerifier`` under it; ``iss`` must be that department's
  identifier (``issuer_id``) or, without one, its bare code (as a ``DC1:``'s);
- ``issuer_active``: the snapshot lists ``kid`` as an active issuer;
- ``batch_inclusion``: the ``anchor`` claim is under the issuer's signature; its chain and
  registry must be the snapshot's; the chain itself is not consulted;
- ``not_revoked``: the snapshot's bit at ``status.status_list.idx``;
- ``holder_binding``: the key binding is signed by the ``cnf`` key, for ``aud`` (this
  counter's code), and that key is not one the snapshot lists as replaced;
- ``validity``, ``fresh``, ``not_replayed`` (the KB-JWT's nonce, in the counter's ``--seen``
  file, as a ``DV1:``'s) and ``snapshot`` (its age).
Unreadable input is one failed ``format`` check, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import Any

from coincurve import PublicKey
from jwcrypto import jwk
from sd_jwt.verifier import SDJWTVerifier

from vault.credentials.checks import Check
from vault.errors import VaultValueError
from vault.interop import jose_keys, sd_jwt_format, sd_jwt_vc
from vault.interop import sd_jwt_key_binding as key_binding
from vault.interop import sd_jwt_standing as standing
from vault.interop.sd_jwt_verify import ISSUER_TYPS, SdJwtVerdict, disclosed, validity
from vault.presentations.checks import holder_check
from vault.presentations.model import MAX_TTL
from vault.presentations.nonces import FileReplayCache
from vault.presentations.status_snapshot import SnapshotIssuer, StatusSnapshot

# The DV1 offline verifier's own wording for the bit and the snapshot's age, shared so that a
# counter reads the same sentence whatever the format.
from vault.presentations.verify import MAX_SNAPSHOT_AGE, snapshot_age_reason, snapshot_bit


def verify_offline(
    snapshot: StatusSnapshot,
    text: str,
    *,
    aud: str,
    now: int,
    replay: FileReplayCache | None = None,
    max_age: int = MAX_SNAPSHOT_AGE,
    issuer_id: Callable[[str], str] | None = None,
) -> SdJwtVerdict:
    """``snapshot``: already checked when decoded; ``aud``: this counter's department code,
    which the key binding must name; ``issuer_id``: the vault's identifiers of issuers."""
    v = SdJwtVerdict(False, "offline", snapshot_age=snapshot.age(now))
    try:
        sd = sd_jwt_format.parse(text)
    except VaultValueError as exc:
        v.add(Check("format", False, exc.reason))
        return v
    header, payload = sd.header(), sd.payload()
    kid = header.get("kid")
    issuer = snapshot.issuer(kid) if isinstance(kid, str) and len(kid) == 42 else None
    v.issuer_code, v.issuer_name = (issuer.code, issuer.name) if issuer else (None, None)
    signature = _issuer_signature(sd, header, payload, issuer, issuer_id, v)
    v.add(signature)
    signed = signature.passed
    v.add(disclosed(sd, payload))
    v.add(_anchor(snapshot, payload, signed))
    if issuer is None or not (issuer.active and issuer.roles & 1):
        v.add(
            Check(
                "issuer_active", False, f"{v.issuer_name or 'the signer'} is not an active issuer (as of the snapshot)"
            )
        )
    else:
        v.add(Check("issuer_active", True, f"issued by {issuer.name}, an active issuer"))
    idx = standing.status_index(payload)
    if not signed or idx is None:
        v.add(Check("not_revoked", False, "not checked: the credential's signature or status index does not hold"))
    else:
        v.add(snapshot_bit(snapshot, idx))
    v.add(validity(payload, now))
    kb = _holder_binding(snapshot, sd, payload, aud, signed, now, v)
    if kb.nonce is None:
        v.add(Check("not_replayed", False, "not checked: no nonce the counter can keep"))
    elif replay is None:
        v.add(Check("not_replayed", True, "not checked: this counter keeps no record of accepted codes"))
    else:
        # As for DV1: only a presentation that passed everything else spends its nonce.
        consume = all(c.passed for c in v.checks)
        v.add(replay.use(kb.nonce, (kb.iat or now) + MAX_TTL, now, consume))
    age = snapshot.age(now)
    v.add(Check("snapshot", 0 <= age <= max_age, snapshot_age_reason(age, max_age)))
    v.settle()
    return v


def _issuer_signature(
    sd: sd_jwt_format.SdJwt,
    header: dict[str, Any],
    payload: dict[str, Any],
    issuer: SnapshotIssuer | None,
    issuer_id: Callable[[str], str] | None,
    v: SdJwtVerdict,
) -> Check:
    name = "issuer_signature"
    if header.get("typ") not in ISSUER_TYPS or header.get("alg") != jose_keys.ALG:
        return Check(name, False, f"not an SD-JWT VC signed {jose_keys.ALG} (typ {sd_jwt_vc.TYP})")
    if issuer is None:
        return Check(name, False, "signed by a key (kid) of no department this snapshot knows")
    if payload.get("iss") not in (issuer.code, *((issuer_id(issuer.code),) if issuer_id else ())):
        more = "" if issuer_id else " (offline: give the vault's public URL to accept its URLs)"
        return Check(name, False, f"iss does not name {issuer.name}, whose key kid names{more}")
    key = _recovered_key(sd.issuer_jwt, issuer.address)
    if key is None:
        return Check(name, False, "the issuer's signature does not match: the credential was altered or forged")

    def issuer_key(_iss: str, _header: dict[str, Any]) -> jwk.JWK:
        return jwk.JWK(**key)

    try:
        verified = SDJWTVerifier(sd.without_key_binding, issuer_key).get_verified_payload()
    except Exception:  # the reference verifier raises whatever jwcrypto or json raise
        return Check(name, False, "the issuer's signature does not match: the credential was altered or forged")
    v.issuer_address = issuer.address
    shown = {d.name for d in sd.disclosures} - sd_jwt_vc.FIXED_CLAIMS
    v.claims = {k: value for k, value in verified.items() if k in shown}
    return Check(name, True, f"signed by {issuer.name} ({issuer.address}), with the key the snapshot lists")


def _recovered_key(issuer_jwt: str, address: str) -> dict[str, Any] | None:
    """The JWK of the key that made the JWS signature, if it is ``address``'s; None otherwise.
    ES256K signs SHA-256 of the signing input (not keccak) with r || s and no recovery id,
    so both candidates are tried; the signature is verified properly afterwards."""
    head, body, sig = issuer_jwt.split(".")
    try:
        raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 64:
        return None
    for recovery_id in (0, 1):
        try:
            point = PublicKey.from_signature_and_message(
                raw + bytes([recovery_id]),
                f"{head}.{body}".encode("ascii"),
                hasher=lambda m: hashlib.sha256(m).digest(),
            ).format(compressed=False)
            key = jose_keys.jwk_of_public_key(point)
        except Exception:  # coincurve raises ValueError or its own errors for a bad signature
            continue
        if jose_keys.address_of_jwk(key).lower() == address.lower():
            return key
    return None


def _anchor(snapshot: StatusSnapshot, payload: dict[str, Any], signed: bool) -> Check:
    name = "batch_inclusion"
    facts = standing.anchor_facts(payload)
    if facts is None:
        return Check(name, False, "no chain anchor (chain_id, registry, credential_hash, proof) in the credential")
    chain_id, registry, _, _ = facts
    if chain_id != snapshot.domain.chain_id or registry.lower() != snapshot.domain.registry.lower():
        return Check(name, False, "anchored on another chain or registry than this snapshot's")
    if not signed:
        return Check(name, False, "the anchor is not under a valid issuer's signature")
    return Check(
        name,
        True,
        "the credential's anchor (hash and batch proof) is signed by the issuer; the chain is not consulted offline",
    )


def _holder_binding(
    snapshot: StatusSnapshot,
    sd: sd_jwt_format.SdJwt,
    payload: dict[str, Any],
    aud: str,
    signed: bool,
    now: int,
    v: SdJwtVerdict,
) -> key_binding.KeyBinding:
    """Adds ``holder_binding`` and ``fresh``; returns the key binding's date and nonce."""
    bound = _cnf_address(payload) if signed else None
    kb = key_binding.check(sd, payload, (aud,), bound)
    binding = kb.check
    if binding.passed and bound is not None and snapshot.key_replaced(bound):
        binding = Check("holder_binding", False, holder_check(bound, bound, replaced=True).reason)
    v.add(binding)
    v.add(key_binding.fresh(kb.iat, now))
    return kb


def _cnf_address(payload: dict[str, Any]) -> str | None:
    cnf = payload.get("cnf")
    try:
        return jose_keys.address_of_jwk(cnf["jwk"])  # type: ignore[index]
    except (VaultValueError, KeyError, TypeError):
        return None
