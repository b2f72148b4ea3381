"""Issuing departments' SM2 keys (sm suite): one per department, beside its chain key.

The chain key signs what the EVM checks (the anchoring transaction, the EIP-712 signature of
each batch root); in a vault whose suite is sm the SM2 key signs the same roots as well
(``vault.credentials.root_signatures``), which is what a 密评 (GB/T 39786) assessment asks of
an issuer's signature. The private key lives in the keystore as ``dept-<code>-sm2``; its public
key is published as a fact of the department (``departments.sm2_public_key``): in its API view,
its JWKS and its issuer metadata.

A department gets its key when it is registered as an issuer in an sm vault, or made one by a
role change, so that its key is published before anything it signs. Departments registered
before this existed (or before a new, still empty vault took the sm suite) get theirs lazily,
when the submitter forms their first batch, rather than at start-up: a start-up pass would have
every API worker writing keystore entries, and a department that never issues needs none. The
submitter is the vault's one writer of batches (one per chain, a leader lock on
Postgres), so two workers never race to create the same department's key; should they, the
keystore's exclusive create makes the loser take the winner's key.
"""

from __future__ import annotations

from keys import KeystoreEntryExists, KeystoreError, Sm2Key, Sm2PublicKey, Suite
from vault.context import VaultContext
from vault.db.models import Department


def key_name(code: str) -> str:
    return f"dept-{code}-sm2"


def ensure(ctx: VaultContext, dept: Department) -> Sm2PublicKey | None:
    """The department's SM2 public key, created (and set on ``dept``) if it has none yet;
    None in the intl suite, which has no SM2 keys."""
    if ctx.suite is not Suite.SM:
        return None
    if dept.sm2_public_key is not None:
        return Sm2PublicKey.from_hex(dept.sm2_public_key)
    name = key_name(dept.code)
    try:
        public = ctx.keystore.create_sm2(name)
    except KeystoreEntryExists:
        # Left by a registration whose transaction rolled back, or by a racing worker.
        public = ctx.keystore.load_sm2(name).public_key
    dept.sm2_public_key = public.hex
    return public


def load(ctx: VaultContext, dept: Department) -> Sm2Key:
    """The department's private SM2 key; :func:`ensure` first."""
    key = ctx.keystore.load_sm2(key_name(dept.code))
    # The published key is what verifiers trust: a keystore entry swapped under the vault
    # must not sign roots that then fail everywhere, or pass against a key never published.
    if dept.sm2_public_key is None or key.public_key.hex != dept.sm2_public_key:
        raise KeystoreError(f"keystore entry {key_name(dept.code)!r} is not the key department {dept.code!r} published")
    return key


def public_key(dept: Department) -> Sm2PublicKey | None:
    """As published, or None (intl suite, or a department that has signed nothing in SM2 yet)."""
    return Sm2PublicKey.from_hex(dept.sm2_public_key) if dept.sm2_public_key is not None else None
