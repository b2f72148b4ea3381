"""Issuers' SM2 signatures of the batch roots they anchor (sm suite).

In an sm vault each batch root is signed twice when its batch is formed: by the issuer's chain
key as EIP-712 ``IssuedBatch(root)`` (``vault.presentations.issuer_signatures``; the chain and
offline verifiers check it), and by the issuer's SM2 key (``vault.accounts.issuer_sm2``) over
:func:`root_text`, stored in ``anchor_batches.sm2_signature``.

What is signed is a text, not the EIP-712 digest: SM2 hashes its message with SM3 (with the
standard user id ``1234567812345678``), and over a Keccak-256 digest an SM2-only verifier (a
国密 toolkit, a 密评 assessor) would need Keccak and EIP-712's encoding to learn what was
signed. The text states the same facts the EIP-712 signature binds, the deployment (chain id
and credential registry, EIP-712's domain) and the root, plus the issuing department's code,
in the form of the access log's signed tree heads (``vault.audit.log.head_text``)::

    datavault credential batch root
    chain: 31337
    registry: 0x5FbDB2315678afecb367f032d93F642f64180aa3
    issuer: gongan
    root: 0x<64 lowercase hex digits>

UTF-8, lines joined by a single LF, no trailing newline; the registry's address checksummed
(EIP-55). The signature is r || s, 128 hex digits (``keys.sm2``).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from keys import KeysError, Suite
from vault.accounts import issuer_sm2
from vault.context import VaultContext
from vault.db.models import AnchorBatch, Department

TITLE = "datavault credential batch root"


def root_text(chain_id: int, registry: str, issuer_code: str, root: bytes) -> str:
    return (
        f"{TITLE}\nchain: {chain_id}\nregistry: {to_checksum_address(registry)}\n"
        f"issuer: {issuer_code}\nroot: 0x{bytes(root).hex()}"
    )


def text_of(ctx: VaultContext, issuer_code: str, root: bytes) -> str:
    """:func:`root_text` in this vault's deployment."""
    return root_text(ctx.chain.chain_id(), ctx.chain.client.address, issuer_code, root)


def sign_root(ctx: VaultContext, issuer: Department, root: bytes) -> str:
    """The issuer's SM2 signature of ``root`` (r || s hex); its key is created on first use."""
    issuer_sm2.ensure(ctx, issuer)
    return issuer_sm2.load(ctx, issuer).sign(text_of(ctx, issuer.code, root).encode()).hex()


@dataclass(frozen=True)
class Sm2Signer:
    """``sign_root`` bound to a vault: what the credential batcher signs each root with too."""

    ctx: VaultContext

    def __call__(self, issuer: Department, root: bytes) -> str:
        return sign_root(self.ctx, issuer, root)


def signer(ctx: VaultContext) -> Sm2Signer | None:
    """The SM2 root signer in an sm vault; None in an intl vault, whose batches carry none."""
    return Sm2Signer(ctx) if ctx.suite is Suite.SM else None


@dataclass(frozen=True)
class Finding:
    passed: bool
    reason: str


def check(ctx: VaultContext, batch: AnchorBatch | None, issuer: Department | None, anchored_by: str) -> Finding:
    """Whether ``batch`` carries an SM2 signature of its root by the published SM2 key of
    ``issuer``, the department whose chain key (``anchored_by``) anchored it."""
    if batch is None or issuer is None or batch.issuer_code != issuer.code:
        return Finding(False, "this vault holds no SM2 signature of the batch: it was not issued here")
    if issuer.chain_address.lower() != anchored_by.lower():
        return Finding(False, "the batch was anchored by another account than its issuer's")
    if batch.sm2_signature is None:
        return Finding(False, "the batch root carries no SM2 signature")
    try:
        signature = bytes.fromhex(batch.sm2_signature)
    except ValueError:
        signature = b""
    text = text_of(ctx, issuer.code, bytes.fromhex(batch.root.removeprefix("0x")))
    try:
        public = issuer_sm2.public_key(issuer)
        good = public is not None and public.verify(text.encode(), signature)
    except KeysError:  # a published key that is no point on the curve verifies nothing
        good = False
    if not good:
        return Finding(False, f"the batch root's SM2 signature is not {issuer.name}'s published SM2 key's")
    return Finding(True, f"the batch root is signed with {issuer.name}'s SM2 key (GB/T 32918)")
