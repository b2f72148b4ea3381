"""Issuers' signatures of the batch roots they anchor.

On chain, the sender of ``issue(root)`` is the issuer. A verifier that cannot reach the chain
(a counter offline, with a status snapshot) needs the same fact in a form it can check alone:
the issuer's EIP-712 signature of the root, made with the same key when the batch is formed.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import encode_hex

from keys import SignatureError, recover_typed_data
from vault.context import VaultContext
from vault.db.models import Department
from vault.presentations.model import CredentialDomain, issued_batch_typed_data


def credential_domain(ctx: VaultContext) -> CredentialDomain:
    return CredentialDomain(chain_id=ctx.chain.chain_id(), registry=to_checksum_address(ctx.chain.client.address))


def sign_batch(ctx: VaultContext, issuer: Department, root: bytes) -> str:
    account = ctx.account(issuer.chain_key_name)
    signable = encode_typed_data(full_message=issued_batch_typed_data(credential_domain(ctx), root))
    return encode_hex(bytes(account.sign_message(signable).signature))


def signer(ctx: VaultContext) -> Callable[[Department, bytes], str]:
    """``sign_batch`` bound to ``ctx``: what the credential batcher signs each root with."""
    return lambda issuer, root: sign_batch(ctx, issuer, root)


def batch_signer(domain: CredentialDomain, root: bytes, signature: bytes) -> str | None:
    """The address that signed ``root``, or None for a malformed signature."""
    try:
        return recover_typed_data(issued_batch_typed_data(domain, root), encode_hex(signature))
    except SignatureError:
        return None
