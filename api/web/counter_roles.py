"""Which counter pages a department may use: each page serves one of the vault's department roles
(``vault.accounts.departments``), the menu shows only the pages of the roles the department has,
a page opened without its role answers a page naming the role, and a department signs in to the
first page it may use. The API checks the same roles again on every call the page makes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vault.accounts import departments
from vault.accounts.auth import Principal
from vault.errors import PermissionDeniedError

# The counter's pages in the menu's order, each with the roles it serves (the first is the one
# an error page names). Corrections: an issuer decides requests; a data user reads the notices of
# corrected records it had read.
PAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/counter", ("verifier",)),
    ("/counter/grants", ("data_user",)),
    ("/counter/issue", ("issuer",)),
    ("/counter/corrections", ("issuer", "data_user")),
    ("/registrar", ("registrar",)),
)


class RoleNeeded(PermissionDeniedError):
    """A department opened a counter page of a role it does not have: the error page names
    ``needs`` in the reader's language, and its menu still shows the pages of ``roles``."""

    def __init__(self, code: str, needs: str, roles: list[str]) -> None:
        self.needs = needs
        self.roles = roles
        super().__init__(f"department {code!r} does not have the {needs} role this page needs")


async def roles_of(session: AsyncSession, principal: Principal) -> list[str]:
    """The roles of the department the session's principal names (none once it is deactivated)."""
    if principal.role != "department":
        raise PermissionDeniedError("this page is a department counter's")
    row = await departments.get(session, principal.id)
    return departments.role_names(row.roles) if row.active else []


async def department_page(session: AsyncSession, principal: Principal, path: str) -> list[str]:
    """The department's roles, for the page's menu, once it is known to have one that the
    counter page at ``path`` serves."""
    roles = await roles_of(session, principal)
    serves = dict(PAGES)[path]
    if not set(serves) & set(roles):
        raise RoleNeeded(principal.id, serves[0], roles)
    return roles


def landing(roles: list[str]) -> str:
    """The first counter page a department with ``roles`` may use."""
    return next((path for path, serves in PAGES if set(serves) & set(roles)), PAGES[0][0])
