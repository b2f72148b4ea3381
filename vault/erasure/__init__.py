"""Erasure by crypto-shredding (被遗忘 / PIPL deletion) and retention rules.

The public face: ``erase`` (a record or a whole file, by the subject, its registrar on a legal
basis, or the retention job), ``retention`` (rules, the dry run, the job), ``notices`` (what
issuers are told) and ``storage.forget_freed_pages`` (run after an erasure commits).
"""

from vault.erasure import notices, retention, schedule, storage
from vault.erasure.requests import (
    BASES,
    REGISTRAR_BASES,
    GrantsStillLive,
    Requester,
    erase,
    list_for_subject,
    live_grants,
    page_for_subject,
    registrar_for,
)

__all__ = [
    "BASES",
    "REGISTRAR_BASES",
    "GrantsStillLive",
    "Requester",
    "erase",
    "list_for_subject",
    "live_grants",
    "notices",
    "page_for_subject",
    "registrar_for",
    "retention",
    "schedule",
    "storage",
]
