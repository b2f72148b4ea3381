"""What several pages show the same way: a grant as a card, a person's name in a greeting, a
path to go to after a form. One statement each, for every page that shows them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vault.consent import grants, purposes
from vault.context import VaultContext
from vault.db.grants import GrantRow
from vault.record_bits import names_of


async def grant_cards(
    ctx: VaultContext, session: AsyncSession, rows: list[GrantRow], now: int, name_of: dict[str, str]
) -> list[dict[str, Any]]:
    """The grants as a page lists them, newest first, purposes opened."""
    words = await purposes.purposes(ctx.master, session, rows)
    return [
        {
            "id": row.id,
            "grantee": name_of.get(row.grantee_code, row.grantee_code),
            "types": [t.value for t in names_of(row.record_types)],
            "fields": json.loads(row.fields),
            "purpose": words[row.id],
            "status": grants.status_at(row, now),
            "uses": row.uses,
            "max_uses": row.max_uses,
            "expires_at": row.expires_at,
        }
        for row in reversed(rows)
    ]


def masked_name(name: str, kind: str) -> str:
    """A person's name as a greeting shows it in a queue: the family name, the rest hidden
    (张三 -> 张*); an enterprise's name is public and shown whole."""
    if kind == "enterprise" or len(name) < 2:
        return name
    return name[0] + "*" * (len(name) - 1)


def local_path(url: str) -> str:
    """Only a path on this site: a link elsewhere would make this an open redirect. Browsers
    drop tabs and line breaks from a URL and read a backslash as a slash, so "/", a tab, then
    "/evil" is "//evil": any whitespace, control character or backslash sends the reader home."""
    plain = all(" " < ch != "\x7f" for ch in url) and "\\" not in url
    return url if plain and url.startswith("/") and not url.startswith("//") else "/"
