"""The table of re-encryptions: moving a vault from one crypto suite to the other, one row per
run, with the cursor a restarted job resumes from (``vault.reencryption``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.models import Base


class ReencryptionRow(Base):
    __tablename__ = "reencryptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(8))  # keys.Suite
    target: Mapped[str] = mapped_column(String(8))
    # moving (subjects in id order, after ``cursor``), settling (waiting for writes begun
    # before a subject moved to have committed), sweeping (every subject again, after
    # ``cursor``: stragglers and old keys), done
    phase: Mapped[str] = mapped_column(String(12), default="moving")
    cursor: Mapped[str | None] = mapped_column(String(66), nullable=True)  # the last subject id done
    subjects_moved: Mapped[int] = mapped_column(Integer, default=0)
    sealed_moved: Mapped[int] = mapped_column(Integer, default=0)  # values resealed in the target suite
    records_moved: Mapped[int] = mapped_column(Integer, default=0)  # of which record bodies
    keys_destroyed: Mapped[int] = mapped_column(Integer, default=0)  # old KEK versions, after the sweep
    started_at: Mapped[int] = mapped_column(BigInteger)
    moved_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # every subject moved
    finished_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
