"""The consent registry's EIP-712 domain, and typed data as JSON clients exchange it."""

from __future__ import annotations

from typing import Any

from chain.consent import ConsentClient, Domain
from vault.context import VaultContext
from vault.errors import ChainStateError


def consent_client(ctx: VaultContext) -> ConsentClient:
    if ctx.chain.consent is None:
        raise ChainStateError("this vault has no consent registry deployed")
    return ctx.chain.consent


def domain(ctx: VaultContext) -> Domain:
    return consent_client(ctx).domain()


def typed_data_json(typed: dict[str, Any]) -> dict[str, Any]:
    """Typed data with bytes as 0x hex, as JSON clients and wallets exchange it."""
    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return "0x" + value.hex()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value
    out: dict[str, Any] = plain(typed)
    return out
