"""Who is who: subjects (citizens and enterprises), departments and their roles, platform
admins, auditors, logins, and who may act for whom now.

Public: ``subjects``, ``departments`` (and ``data_users``: the banks, notaries and enterprises
among them), ``admins``, ``auditors``, ``auth`` (challenge logins and sessions), ``agents``
(delegations in force), ``identifiers`` (ID number checks), ``ops`` (the roster's chain writes),
``issuer_sm2`` (issuing departments' SM2 keys, sm suite).
"""

from vault.accounts import (
    admins,
    agents,
    auditors,
    auth,
    data_users,
    department_changes,
    departments,
    identifiers,
    issuer_sm2,
    ops,
    subjects,
)

__all__ = [
    "admins",
    "agents",
    "auditors",
    "auth",
    "data_users",
    "department_changes",
    "departments",
    "identifiers",
    "issuer_sm2",
    "ops",
    "subjects",
]
