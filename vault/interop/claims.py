"""What a credential says, as claims of the standard formats (SD-JWT VC, W3C VC, CWT).

One mapping from a version 2 document to claims, shared by every exported format, so that a
field shown in one format is named the same in all of them. Each claim here is selectively
disclosable in SD-JWT VC; the header facts (issuer, validity, status) are not claims here
but the formats' own registered claims.
"""

from __future__ import annotations

from typing import Any

from vault.errors import VaultValueError


def credential_claims(document: dict[str, Any]) -> dict[str, Any]:
    """The claims of the version 2 credential ``document``: its title and type, then its fields."""
    if document.get("version") != 2:
        raise VaultValueError("only version 2 credentials can be exported in standard formats", field="document")
    found: dict[str, Any] = {"title": document["title"], "record_type": document["type"]}
    for name, value in document["fields"].items():
        if name in found:
            raise VaultValueError(f"field {name!r} clashes with a claim the export adds", field="fields")
        found[name] = value
    return found
