"""Data users beside departments (数据使用方): banks, notary offices and enterprises that read a
subject's data under the subject's grant, registered by the governance admin like a department.

They are departments of another kind, so grants, reads, presentations and the access log
name them as they name departments, and the chain registry holds them by the same role
bits. What sets them apart is here: each names the licence it operates under, and none may
issue records or register subjects, which only a government department does.
"""

from __future__ import annotations

import re
from enum import StrEnum

from vault.errors import VaultValueError
from vault.licence_codes import check_uscc


class Kind(StrEnum):
    GOVERNMENT = "government"
    BANK = "bank"  # 银行: inclusive-finance loans read the borrower's licences
    NOTARY = "notary"  # 公证机构
    ENTERPRISE = "enterprise"  # 企业: an employer, a landlord...


KINDS: tuple[str, ...] = tuple(k.value for k in Kind)
# Issuing and registering are the state's: a data user of another kind reads and checks only.
GOVERNMENT_ONLY_ROLES: tuple[str, ...] = ("issuer", "registrar")

# 金融许可证 机构编码: the kind of institution (a letter), its 4-digit number, the kind of office
# (a letter: H head office, B branch, S sub-branch...) and a 9-digit area and sequence.
_FINANCIAL_LICENCE = re.compile(r"[A-Z][0-9]{4}[A-Z][0-9]{9}")
# 公证机构执业证 number: the justice ministry's numbering differs between provinces, so only
# its alphabet and length are checked.
_NOTARY_LICENCE = re.compile(r"[0-9A-Z]{6,24}")

_LICENCES = {
    Kind.BANK: "its 金融许可证 机构编码 (a letter, 4 digits, a letter, 9 digits, e.g. B0001H111000001)",
    Kind.NOTARY: "its 公证机构执业证 number (6-24 digits or capital letters)",
    Kind.ENTERPRISE: "its 统一社会信用代码 (18 characters)",
}


def kind_of(name: object) -> Kind:
    if not isinstance(name, str) or name not in KINDS:
        raise VaultValueError(f"kind must be one of {', '.join(KINDS)}", field="kind")
    return Kind(name)


def check_licence(kind: Kind, number: str | None) -> str | None:
    """The licence number a data user of ``kind`` operates under, checked; None for a
    government department, which has none (its 统一社会信用代码 is its authority code)."""
    if kind is Kind.GOVERNMENT:
        if number is not None:
            raise VaultValueError(
                "a government department has no licence number (give its 统一社会信用代码 as authority_code)",
                field="licence_number",
            )
        return None
    what = _LICENCES[kind]
    if number is None or not number.strip():
        raise VaultValueError(f"a {kind.value} is registered with {what}", field="licence_number")
    if kind is Kind.ENTERPRISE:
        return check_uscc(number, "licence_number")
    pattern = _FINANCIAL_LICENCE if kind is Kind.BANK else _NOTARY_LICENCE
    if not pattern.fullmatch(number):
        raise VaultValueError(f"licence_number is not {what}", field="licence_number")
    return number


def check_authority_code(kind: Kind) -> None:
    """A 颁发机构代码 names the authority of the e-licences a department issues: only a
    government department, the only kind that issues, has one."""
    if kind is not Kind.GOVERNMENT:
        raise VaultValueError(
            f"a {kind.value} issues nothing, so it has no authority code (its licence_number names it)",
            field="authority_code",
        )


def check_roles(kind: Kind, roles: list[str]) -> None:
    """Refuses the roles only a government department may hold."""
    barred = [r for r in GOVERNMENT_ONLY_ROLES if r in roles]
    if kind is not Kind.GOVERNMENT and barred:
        raise VaultValueError(
            f"a {kind.value} may be a verifier or a data_user, never {' or '.join(barred)}: "
            "only government departments issue records and register subjects",
            field="roles",
        )
