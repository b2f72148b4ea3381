"""Errors of the vault domain. One root, ``VaultError``; subclasses carry data.

Only ``api/`` turns them into HTTP responses; the vault never mentions status codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


class VaultError(Exception):
    """Root of everything the vault raises on purpose."""


class VaultValueError(VaultError, ValueError):
    """Input that can never be valid (malformed ID number, bad window, unknown record type)."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(reason)


@dataclass(frozen=True)
class ItemProblem:
    """Why item ``index`` (0-based) of a request cannot be accepted; ``field`` within the item."""

    index: int
    field: str | None
    reason: str


class InvalidItems(VaultValueError):
    """Items of one request are invalid: every item was checked, the first ``problems`` are
    named (``total`` in all), and nothing of the request was written."""

    def __init__(self, problems: list[ItemProblem], total: int, count: int) -> None:
        self.problems = problems
        self.total = total
        first = problems[0]
        rest = f" (and {total - 1:,} more; see errors)" if total > 1 else ""
        super().__init__(
            f"item {first.index}: {first.reason}{rest}; {_items(total)} in {count:,} refused, nothing was written",
            field=f"items.{first.index}" + (f".{first.field}" if first.field else ""),
        )


def _items(total: int) -> str:
    return "1 problem" if total == 1 else f"{total:,} problems"


class NotFoundError(VaultError, LookupError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    def __init__(self, what: str, key: str) -> None:
        self.what = what
        self.key = key
        super().__init__(f"{what} not found: {key}")


class ConflictError(VaultError):
    """The request clashes with existing state (already registered, already revoked)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ErasedError(VaultError):
    """The thing asked for was erased (vault.erasure): it existed, and is gone for good."""

    def __init__(self, what: str, erased_at: int) -> None:
        self.what = what
        self.erased_at = erased_at
        day = datetime.fromtimestamp(erased_at, UTC).date().isoformat()
        self.reason = f"{what} was erased on {day} at its subject's request or on a legal basis; it cannot be read"
        super().__init__(self.reason)


class PermissionDeniedError(VaultError, PermissionError):
    """The caller is known but lacks the role or ownership the action needs."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class AccessRefused(PermissionDeniedError):
    """A read under a grant was refused; ``code`` names why for machines, ``reason`` for people."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        super().__init__(reason)


class AuthenticationError(VaultError):
    """Bad, expired or replayed challenge, signature or token. Deliberately vague.

    ``code`` names, for a page to say in the reader's language, the two refusals a person can
    act on once their signature has proven the key is theirs: ``unregistered`` (go to a
    registration counter) and ``replaced`` (sign in with the new key)."""

    def __init__(self, reason: str = "authentication failed", code: str | None = None) -> None:
        self.reason = reason
        self.code = code
        super().__init__(reason)


class RateLimitedError(VaultError):
    """Too many requests of one kind outstanding; ``retry_after`` seconds until one frees."""

    def __init__(self, reason: str, *, retry_after: int) -> None:
        self.reason = reason
        self.retry_after = max(1, retry_after)
        super().__init__(reason)


class ChainStateError(VaultError):
    """The chain disagrees with what the vault recorded (reset chain, missing deployment)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class AuditUnavailable(VaultError):
    """The access log cannot be written; the access is refused rather than left untraced."""

    def __init__(self) -> None:
        self.reason = "the access log cannot be written; the request was refused and nothing was disclosed"
        super().__init__(self.reason)
