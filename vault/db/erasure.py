"""Tables of erasure (被遗忘 / PIPL deletion): requests carried out, notices to issuers, and
retention rules per record type.

Nothing here is personal data: a request names the pseudonymous subject, record ids and the
legal basis by code; the subject's and registrar's words are not kept. What an erasure removes
is everywhere else: the subject's keys (``subject_keys``) and every sealed column.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.models import Base


class ErasureRow(Base):
    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_subject_at", "subject_id", "requested_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"))
    scope: Mapped[str] = mapped_column(String(8))  # record | file
    # JSON list of the record ids erased (for scope "file": every record the subject held).
    record_ids: Mapped[str] = mapped_column(Text)
    # subject | delegate | registrar | retention
    requested_by_role: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(66))  # key address, registrar code or "retention"
    basis: Mapped[str] = mapped_column(String(32))  # a code of vault.erasure.BASES
    requested_at: Mapped[int] = mapped_column(BigInteger)
    # JSON list of the grants the erasure revoked.
    revoked_grants: Mapped[str] = mapped_column(Text, default="[]")
    # JSON list of the subject's KEK versions it destroyed: what key backups must lose too
    # (vault.backups.key_files), and only that.
    destroyed_keys: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")


class ErasureNotice(Base):
    """Tells an issuer that a record it issued was erased: its copy of the subject's data is
    the issuer's own to handle, and its verifiers will be told "erased"."""

    __tablename__ = "erasure_notices"
    __table_args__ = (Index("ix_erasure_notices_department", "department_code", "created_at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    erasure_id: Mapped[str] = mapped_column(ForeignKey("erasures.id"))
    record_id: Mapped[str] = mapped_column(String(36))
    credential_hash: Mapped[str] = mapped_column(String(66))
    basis: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger)
    read_at: Mapped[int | None] = mapped_column(BigInteger)


class RetentionRule(Base):
    """How long records of one type are kept once they have expired; then they are shredded."""

    __tablename__ = "retention_rules"
    record_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    keep_days_after_expiry: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(66))
    set_at: Mapped[int] = mapped_column(BigInteger)
