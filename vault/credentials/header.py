"""The header of a version 2 credential: what every presentation shows.

Who holds it, who issued it, which record and version, when it is valid and where its bit
sits in the revocation bitmap. It is committed as one leaf beside the fields, from a fixed
list (not an object), so a presentation can carry it without key names.
"""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass
from typing import Any

from vault.credentials import commitments
from vault.errors import VaultValueError

_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
MAX_UINT40 = 2**40 - 1


@dataclass(frozen=True)
class CredentialHeader:
    type: str
    title: str
    subject: str  # 0x + 64 lowercase hex: the pseudonymous subject id
    holder: str  # 0x + 40 lowercase hex: the key that signs presentations
    issuer_code: str
    issuer_address: str  # 0x + 40 lowercase hex
    record_id: str
    record_version: int
    issued_at: int
    valid_from: int
    valid_until: int
    status_index: int

    def __post_init__(self) -> None:
        for name in ("type", "title", "issuer_code", "record_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or len(value) > 200:
                raise VaultValueError(f"credential {name} must be 1-200 characters", field="header")
        if not isinstance(self.subject, str) or not _HEX32.fullmatch(self.subject):
            raise VaultValueError("credential subject must be 0x + 64 lowercase hex digits", field="header")
        for name in ("holder", "issuer_address"):
            if not isinstance(getattr(self, name), str) or not _ADDRESS.fullmatch(getattr(self, name)):
                raise VaultValueError(f"credential {name} must be 0x + 40 lowercase hex digits", field="header")
        for name in ("record_version", "issued_at", "valid_from", "valid_until", "status_index"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_UINT40:
                raise VaultValueError(f"credential {name} must be an integer from 0 to 2**40-1", field="header")

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> CredentialHeader:
        try:
            return cls(
                type=document["type"],
                title=document["title"],
                subject=_lower(document["subject"]),
                holder=_lower(document["holder"]),
                issuer_code=document["issuer"]["code"],
                issuer_address=_lower(document["issuer"]["address"]),
                record_id=document["record"]["id"],
                record_version=document["record"]["version"],
                issued_at=document["issued_at"],
                valid_from=document["valid_from"],
                valid_until=document["valid_until"],
                status_index=document["status_index"],
            )
        except (KeyError, TypeError):
            raise VaultValueError("document header is incomplete", field="document") from None

    def as_list(self) -> list[Any]:
        return list(astuple(self))

    def leaf(self, salt: bytes) -> bytes:
        return commitments.field_leaf(commitments.HEADER_NAME, self.as_list(), salt)


def _lower(value: Any) -> str:
    return value.lower() if isinstance(value, str) else value
