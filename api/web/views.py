"""What several pages show the same way: a grant as a card, a person's name in a greeting, a
path to go to after a form. One statement each, for every page that shows them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vault.audit.access_log import Access
from vault.consent import grants, purposes
from vault.consent.disclosure import paths_in
from vault.context import VaultContext
from vault.credentials import holdings
from vault.db.grants import GrantRow
from vault.record_bits import names_of
from vault.record_types import RecordType


def data_user_kind(kind_of: Mapping[str, str] | None, code: str | None) -> str | None:
    """The kind a page names beside a grantee's name (银行, 公证机构, 企业); None for a government
    department, which is named as it always was."""
    kind = (kind_of or {}).get(code or "", "government")
    return None if kind == "government" else kind


async def grant_cards(
    ctx: VaultContext,
    session: AsyncSession,
    rows: Sequence[GrantRow],
    now: int,
    name_of: dict[str, str],
    kind_of: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The grants as a page lists them, in the order given (a page of them, newest first),
    purposes opened; ``kind_of``: the grantees' kinds, for a bank's or notary's badge."""
    words = await purposes.purposes(ctx.master, session, rows)
    return [
        {
            "id": row.id,
            "grantee": name_of.get(row.grantee_code, row.grantee_code),
            "grantee_kind": data_user_kind(kind_of, row.grantee_code),
            "types": [t.value for t in names_of(row.record_types)],
            "fields": json.loads(row.fields),
            "purpose": words[row.id],
            "status": grants.status_at(row, now),
            "uses": row.uses,
            "max_uses": row.max_uses,
            "expires_at": row.expires_at,
        }
        for row in rows
    ]


async def grant_form(
    ctx: VaultContext, session: AsyncSession, subject_id: str, bits: int
) -> tuple[list[tuple[str, list[str]]], dict[str, list[str]]]:
    """What a new grant may name, from the subject's disclosable records of the types in
    ``bits`` (the newest version of each, as a read discloses): the field names by record type,
    in the issuer's order and the record types' order, and the credentials' titles by type.
    Names only, never values; only names a grant's path can take (what prepare accepts)."""
    fields: dict[str, list[str]] = {}
    titles: dict[str, list[str]] = {}
    for record, document in await holdings.latest(ctx, session, subject_id, bits):
        title = document.get("title")
        if title and title not in titles.setdefault(record.type, []):
            titles[record.type].append(title)
        names = fields.setdefault(record.type, [])
        nameable = set(paths_in(document.get("fields", {})))
        for name in document.get("fields", {}):
            if name in nameable and name not in names:
                names.append(name)
    return [(t.value, fields[t.value]) for t in RecordType if fields.get(t.value)], titles


def access_entry(a: Access, name_of: dict[str, str], kind_of: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An access-log entry as a page lists it: when, what, by which department (or bank,
    notary, enterprise: ``kind_of``), why."""
    return {
        "seq": a.seq,
        "at": a.at,
        "action": a.action,
        "outcome": a.outcome,
        "who": name_of.get(a.department or "", a.department or ""),
        "who_kind": data_user_kind(kind_of, a.department),
        "purpose_code": a.purpose_code,
        "fields": a.fields,
    }


def masked_name(name: str | None, kind: str) -> str:
    """A person's name as a greeting shows it in a queue: the family name, the rest hidden
    (张三 -> 张*); an enterprise's name is public and shown whole; an erased file's, nothing."""
    if name is None:
        return ""
    if kind == "enterprise" or len(name) < 2:
        return name
    return name[0] + "*" * (len(name) - 1)


def local_path(url: str) -> str:
    """Only a path on this site: a link elsewhere would make this an open redirect. Browsers
    drop tabs and line breaks from a URL and read a backslash as a slash, so "/", a tab, then
    "/evil" is "//evil": any whitespace, control character or backslash sends the reader home."""
    plain = all(" " < ch != "\x7f" for ch in url) and "\\" not in url
    return url if plain and url.startswith("/") and not url.startswith("//") else "/"
