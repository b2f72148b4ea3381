"""Tables of consent: grants a subject signed, delegations to agents and guardians.

Signed messages are kept (terms + signature) so that anyone can re-check a grant against the
subject's key on chain; nothing here is personal data in clear: a grant's purpose in words is
sealed under the subject's key.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.models import Base


class GrantRow(Base):
    __tablename__ = "grants"
    # The subject's and the grantee's lists in page order (vault.pages): range scans, no sort.
    __table_args__ = (
        Index("ix_grants_subject_created", "subject_id", "created_at", "id"),
        Index("ix_grants_grantee_created", "grantee_code", "created_at", "id"),
    )
    # 0x keccak256(subject, nonce): the same id the consent registry uses.
    id: Mapped[str] = mapped_column(String(66), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    nonce: Mapped[int] = mapped_column(BigInteger)
    grantee_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    grantee_address: Mapped[str] = mapped_column(String(42))
    record_types: Mapped[int] = mapped_column(Integer)  # chain.consent.RECORD_TYPE_BITS
    fields: Mapped[str] = mapped_column(Text)  # JSON list of field paths, as signed
    purpose_code: Mapped[int] = mapped_column(Integer)
    # The purpose in words is personal data: sealed under the subject's key (vault.consent.purposes).
    # ``purpose`` holds plaintext only in rows written before revision 0009, until the vault
    # next opens and seals them.
    purpose: Mapped[str | None] = mapped_column(Text)
    purpose_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    purpose_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    not_before: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    signer: Mapped[str] = mapped_column(String(42))  # the subject's key or a delegate's
    signature: Mapped[str] = mapped_column(String(132))
    digest: Mapped[str] = mapped_column(String(66))
    # pending -> active (anchored) ; failed (the chain refused it) ; revoked (deny wins at once)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_by: Mapped[str | None] = mapped_column(String(42))
    revocation_signature: Mapped[str | None] = mapped_column(String(132))
    revoke_tx_hash: Mapped[str | None] = mapped_column(String(66))
    created_at: Mapped[int] = mapped_column(BigInteger)


class DelegationRow(Base):
    __tablename__ = "delegations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    agent_address: Mapped[str] = mapped_column(String(42), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # agent | guardian
    record_types: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[int] = mapped_column(BigInteger)  # 0 for guardians (set by a registrar)
    signature: Mapped[str | None] = mapped_column(String(132))
    appointed_by: Mapped[str] = mapped_column(String(64))  # subject key address or registrar code
    status: Mapped[str] = mapped_column(String(16))  # pending | active | revoked | failed
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Why a registrar appointed a guardian, sealed under the subject's key (personal data).
    reason_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    reason: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_delegations_subject_agent", "subject_id", "agent_address"),)
