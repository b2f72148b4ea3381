"""The consent registry's EIP-712 domain, and typed data as JSON clients exchange it."""

from __future__ import annotations

from typing import Any

from eth_utils.hexadecimal import encode_hex

from chain.consent import ConsentClient, Domain
from vault.context import VaultContext
from vault.errors import ChainStateError

# Nonces stay below 2**53: JavaScript wallets parse JSON numbers as doubles, and a larger
# uint64 would reach them altered. 53 random bits per subject are plenty.
MAX_SAFE_NONCE = 2**53 - 1


def json_int(value: Any) -> int | None:
    """An integer from typed-data JSON: a number, or a decimal string as wallets also send."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78:
        return int(value)
    return None


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
            return encode_hex(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    out: dict[str, Any] = plain(typed)
    return out


def published(ctx: VaultContext) -> dict[str, Any]:
    """The domain and every type a subject, agent or wallet signs here (eth_signTypedData_v4)."""
    from chain import consent as c

    return {
        "domain": domain(ctx).as_dict(),
        "types": {
            "EIP712Domain": c.DOMAIN_TYPE,
            "Grant": c.GRANT_TYPE,
            "Revocation": c.REVOCATION_TYPE,
            "Delegation": c.DELEGATION_TYPE,
            "DelegationRevocation": c.DELEGATION_REVOCATION_TYPE,
        },
        "record_type_bits": dict(c.RECORD_TYPE_BITS),
    }
