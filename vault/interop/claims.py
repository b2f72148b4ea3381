"""What a credential says, as claims of the standard formats (SD-JWT VC, W3C VC, CWT).

One mapping from a version 2 document to claims, shared by every exported format, so that a
field shown in one format is named the same in all of them. Each claim here is selectively
disclosable in SD-JWT VC; the header facts (issuer, validity, status) are not claims here
but the formats' own registered claims.

Given ``e_licence`` (``vault.interop.e_licence.ELicenceFacts``), the claims also carry the
basic metadata of a Chinese e-licence (GB/T 36903) as top-level claims named as the standard
names them (名称, 类型代码, 编号, 标识, 颁发机构名称, 颁发日期, 持证主体名称): top level, so
each is disclosed on its own (the 标识 without the holder's name). A field of one of those
names is that item (the metadata is taken from it) and is not repeated.
"""

from __future__ import annotations

from typing import Any

from vault.errors import VaultValueError
from vault.interop.e_licence import metadata
from vault.licence_codes import ELEMENTS, ELicenceFacts


def credential_claims(document: dict[str, Any], *, e_licence: ELicenceFacts | None = None) -> dict[str, Any]:
    """The claims of the version 2 credential ``document``: its title and type, then (with
    ``e_licence``) its GB/T 36903 metadata, then its fields."""
    if document.get("version") != 2:
        raise VaultValueError("only version 2 credentials can be exported in standard formats", field="document")
    found: dict[str, Any] = {"title": document["title"], "record_type": document["type"]}
    skip: frozenset[str] = frozenset()
    if e_licence is not None:
        found.update(metadata(document, e_licence))
        skip = frozenset(ELEMENTS)
    for name, value in document["fields"].items():
        if name in skip:
            continue
        if name in found:
            raise VaultValueError(f"field {name!r} clashes with a claim the export adds", field="fields")
        found[name] = value
    return found
