from __future__ import annotations

import pytest

from vault.accounts.auth import Principal, issue_token, verify_token
from vault.errors import AuthenticationError

KEY = b"k" * 32


def test_token_round_trip_and_expiry() -> None:
    p = Principal("department", "gongan", "0x" + "aa" * 20)
    token = issue_token(KEY, p, now=1000, ttl=60)
    assert verify_token(KEY, token, now=1059) == p
    with pytest.raises(AuthenticationError, match="expired"):
        verify_token(KEY, token, now=1060)


@pytest.mark.parametrize(
    "mangle", [lambda t: t + "x", lambda t: "x" + t, lambda t: t.replace(".", ""), lambda t: "a.b.c"]
)
def test_mangled_tokens_are_refused(mangle: object) -> None:
    token = issue_token(KEY, Principal("admin", "a", "a"), now=0)
    with pytest.raises(AuthenticationError):
        verify_token(KEY, mangle(token), now=1)  # type: ignore[operator]


def test_token_from_another_key_is_refused() -> None:
    token = issue_token(b"other" * 7, Principal("admin", "a", "a"), now=0)
    with pytest.raises(AuthenticationError, match="invalid"):
        verify_token(KEY, token, now=1)
