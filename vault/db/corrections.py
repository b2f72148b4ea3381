"""Tables of corrections (纠错): a subject's request to correct a record, the issuer's decision,
and the notices sent to every department that read the old version.

The subject's reason and the corrected values are personal data: they are sealed under the
subject's key like record bodies (``keys.seal``, AAD binding subject, correction and part),
and so is the issuer's decision note. Notices hold only codes, ids and versions.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.models import Base


class CorrectionRow(Base):
    __tablename__ = "corrections"
    # The subject's and the issuer's lists in page order (vault.pages): range scans, no sort.
    __table_args__ = (
        Index("ix_corrections_subject_created", "subject_id", "created_at", "id"),
        Index("ix_corrections_issuer_created", "issuer_code", "created_at", "id"),
        Index("ix_corrections_issuer_status", "issuer_code", "status", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    record_version: Mapped[int] = mapped_column(Integer)  # the version to be corrected
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    issuer_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    requested_by: Mapped[str] = mapped_column(String(42))  # the subject's key or its delegate's
    # Sealed JSON {"reason": ..., "fields": {...}}: the subject's words and corrected values.
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))  # requested | accepted | rejected
    # The record id while the request is open, NULL once decided: a unique column (NULLs do
    # not clash, on SQLite and PostgreSQL alike) so a record has one open request at a time,
    # even under concurrent requests.
    open_record_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    decided_by: Mapped[str | None] = mapped_column(String(42))  # the official's login address
    decided_at: Mapped[int | None] = mapped_column(BigInteger)
    # Sealed decision note (it may quote personal data), NULL when there is none.
    note_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    note_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    new_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)


class CorrectionNotice(Base):
    """A department that read an outdated version of a record learns of its correction."""

    __tablename__ = "correction_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    correction_id: Mapped[str] = mapped_column(ForeignKey("corrections.id"), index=True)
    subject_id: Mapped[str] = mapped_column(String(66))
    record_id: Mapped[str] = mapped_column(String(36))
    old_version: Mapped[int] = mapped_column(Integer)
    new_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    read_at: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_correction_notices_department", "department_code", "id"),)
