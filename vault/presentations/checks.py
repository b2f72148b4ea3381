"""The checks of a presentation that need nothing but the presentation and a clock.

Each returns a ``Check`` (name, passed, a reason a clerk can read). The checks that need the
chain or a status snapshot are in ``vault.presentations.verify``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import encode_hex

from keys import SignatureError, recover_typed_data
from vault.credentials.checks import Check
from vault.presentations.cose_qr import CosePresentation
from vault.presentations.model import (
    CLOCK_SKEW,
    MAX_TTL,
    CredentialDomain,
    Presentation,
    credential_root,
    presentation_typed_data,
)


@dataclass
class PresentationVerdict:
    valid: bool
    mode: str  # "online" (the chain) or "offline" (a status snapshot)
    checks: list[Check] = field(default_factory=list)
    presentation: Presentation | None = None
    issuer_code: str | None = None
    issuer_name: str | None = None
    snapshot_age: int | None = None  # seconds, offline only

    def add(self, check: Check) -> None:
        self.checks.append(check)

    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    @property
    def disclosed(self) -> dict[str, Any]:
        return {} if self.presentation is None else {f.name: f.value for f in self.presentation.fields}

    def settle(self) -> PresentationVerdict:
        self.valid = bool(self.checks) and all(c.passed for c in self.checks)
        return self


def disclosed_fields(p: Presentation) -> Check:
    names = [f.name for f in p.fields]
    if len(set(names)) != len(names) or len({f.index for f in p.fields} | {p.header_index}) != len(p.fields) + 1:
        return Check("disclosed_fields", False, "a field is shown twice; the presentation was altered")
    if credential_root(p) != p.credential:
        return Check(
            "disclosed_fields",
            False,
            "a shown field does not match what the issuer committed to: it was altered, "
            "or it was never part of this credential",
        )
    what = ", ".join(names) if names else "no fields, only who holds it and who issued it"
    return Check("disclosed_fields", True, f"every shown field matches the issuer's commitment ({what})")


def holder_signer(domain: CredentialDomain, p: Presentation) -> str | None:
    """The address that signed the presentation, or None when the signature is malformed."""
    if isinstance(p, CosePresentation):  # DC1: the COSE signature, by the key its cnf claim names
        return p.signer(domain)
    if len(p.holder_signature) != 65:
        return None
    try:
        return recover_typed_data(presentation_typed_data(domain, p), encode_hex(p.holder_signature))
    except SignatureError:
        return None


def holder_check(signer: str | None, expected: str | None, replaced: bool = False) -> Check:
    if signer is None:
        return Check("holder_signature", False, "the presentation is not signed, or its signature is damaged")
    if expected is None:
        return Check("holder_signature", False, "no key is registered for the credential's holder")
    if replaced:
        return Check(
            "holder_signature",
            False,
            "the credential is bound to a key its holder has since replaced: "
            "check it online, or ask the issuer to re-issue it",
        )
    if to_checksum_address(signer) != to_checksum_address(expected):
        return Check(
            "holder_signature",
            False,
            "signed by someone other than the credential's holder (or the presentation was changed after signing)",
        )
    return Check("holder_signature", True, "signed by the credential's holder")


def validity(p: Presentation, now: int) -> Check:
    h = p.header
    if now < h.valid_from:
        return Check("validity", False, "the credential is not valid yet")
    if now >= h.valid_until:
        return Check("validity", False, "the credential has expired")
    return Check("validity", True, "the credential is within its validity period")


def fresh(p: Presentation, now: int) -> Check:
    if p.expires_at <= p.created_at or p.expires_at - p.created_at > MAX_TTL:
        return Check("fresh", False, f"the presentation claims a lifetime over {MAX_TTL // 60} minutes")
    if now + CLOCK_SKEW < p.created_at:
        return Check(
            "fresh", False, "the presentation is dated in the future; check the phone's or this device's clock"
        )
    if now >= p.expires_at:
        return Check(
            "fresh", False, f"the presentation expired {now - p.expires_at} s ago; ask the holder to show a new code"
        )
    return Check("fresh", True, f"made {max(0, now - p.created_at)} s ago, good for {p.expires_at - now} s more")


def issuer_named(p: Presentation, anchoring: str) -> Check | None:
    """A failed check when the credential names a different issuer than the one that anchored
    (online) or signed (offline) its batch; None when they agree."""
    if p.header.issuer_address.lower() != anchoring.lower():
        return Check(
            "issuer_active", False, "the credential names another department than the one that issued its batch"
        )
    return None
