"""Tables of the vault. Times are integer Unix seconds (UTC) so SQLite and PostgreSQL agree.

Nothing here holds personal data in clear: subject ids are keyed hashes, record bodies and
titles are sealed (``keys.envelope``), and key material is wrapped by the master key.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Small key/value facts about this vault (the chain deployment, schema facts)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Admin(Base):
    __tablename__ = "admins"
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[int] = mapped_column(BigInteger)


class Auditor(Base):
    """An auditor (审计): reads the access log and its proofs, never personal data.
    Registered by the governance admin."""

    __tablename__ = "auditors"
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[int] = mapped_column(BigInteger)


class Department(Base):
    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(31), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The department signs API challenges with this key, which it holds itself.
    auth_address: Mapped[str] = mapped_column(String(42), unique=True)
    # The vault holds the chain key (keystore entry) so that one submitter owns every nonce.
    chain_address: Mapped[str] = mapped_column(String(42), unique=True)
    chain_key_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    # A registrar registers these kinds of subject (comma-separated: citizen, enterprise).
    subject_kinds: Mapped[str] = mapped_column(
        String(32), default="citizen,enterprise", server_default="citizen,enterprise"
    )
    # Its 统一社会信用代码 (GB 32100), the 颁发机构代码 of the e-licences it issues (GB/T 36904);
    # set once, since issued licences' identifiers contain it.
    authority_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    # government | bank | notary | enterprise (vault.accounts.data_users): the others read
    # and verify under grants, never issue or register.
    kind: Mapped[str] = mapped_column(String(16), default="government", server_default="government")
    # The licence a non-government data user operates under (金融许可证, 执业证, 统一社会信用代码).
    licence_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # sm suite: the public key (04 || x || y hex) of its SM2 key (keystore ``dept-<code>-sm2``),
    # which signs its batch roots beside the chain key (vault.accounts.issuer_sm2); NULL otherwise.
    sm2_public_key: Mapped[str | None] = mapped_column(String(130), nullable=True)


class Subject(Base):
    __tablename__ = "subjects"
    id: Mapped[str] = mapped_column(String(66), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # citizen | enterprise
    auth_address: Mapped[str] = mapped_column(String(42), unique=True)
    # Display name, sealed like a record body (it is personal data).
    profile_key: Mapped[bytes] = mapped_column(LargeBinary)
    profile: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # When the whole file was erased (vault.erasure): its keys are gone, its sealed columns empty.
    erased_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The registrar answerable for this subject: only it replaces the key or appoints a
    # guardian, until the admin hands the subject to another registrar.
    registered_by: Mapped[str | None] = mapped_column(String(31), index=True)


class SubjectKey(Base):
    """A subject's key-encryption key, one row per version, wrapped by the master key."""

    __tablename__ = "subject_keys"
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Record(Base):
    """One version of one record in a subject's vault."""

    __tablename__ = "records"
    # A subject's records in list order: a page is a range scan, whatever the subject holds.
    __table_args__ = (Index("ix_records_subject_created", "subject_id", "created_at", "id", "version"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), index=True)
    type: Mapped[str] = mapped_column(String(16))  # licence | certificate | data
    issuer_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    credential_hash: Mapped[str] = mapped_column(String(66), unique=True)
    valid_from: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int] = mapped_column(BigInteger)
    # pending -> anchored -> revoked; failed when the chain refused the anchor.
    status: Mapped[str] = mapped_column(String(16), index=True)
    batch_root: Mapped[str | None] = mapped_column(ForeignKey("anchor_batches.root"), index=True)
    proof: Mapped[str | None] = mapped_column(Text)  # JSON list of 0x hashes
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Its bit in the revocation bitmap of offline status snapshots (version 2 documents).
    status_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # When it was erased (vault.erasure): wrapped_key and body are then empty for good.
    erased_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AnchorBatch(Base):
    """One Merkle root anchored (or to be anchored) in one transaction."""

    __tablename__ = "anchor_batches"
    root: Mapped[str] = mapped_column(String(66), primary_key=True)
    issuer_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    size: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending | anchored | failed
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # The issuer's EIP-712 signature of the root (0x hex), carried in presentations so that a
    # verifier without the chain can tell who issued the batch.
    issuer_signature: Mapped[str | None] = mapped_column(String(132))
    # sm suite: the issuer's SM2 signature (r || s hex) of vault.credentials.root_signatures.root_text,
    # by its departments.sm2_public_key; NULL in the intl suite.
    sm2_signature: Mapped[str | None] = mapped_column(String(128))


class OutboxEntry(Base):
    """A chain write that the database has committed to and the submitter must carry out."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    sender: Mapped[str] = mapped_column(String(64))  # keystore entry of the sending key
    # pending -> signed -> done, or failed when the chain refused it (see vault.outbox.submitter).
    status: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    # The signed transaction, committed before it is broadcast so that after a crash the very
    # same bytes (same nonce) are looked up or sent again, never a second transaction.
    raw_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    tx_from: Mapped[str | None] = mapped_column(String(42))
    signed_at: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_outbox_status_id", "status", "id"),)


class Challenge(Base):
    """A one-time login challenge; deleted when redeemed so it cannot be replayed."""

    __tablename__ = "challenges"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    # The HTTP peer that asked: outstanding challenges are bounded per client.
    client: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __table_args__ = (
        UniqueConstraint("nonce", "address"),
        Index("ix_challenges_client_expires", "client", "expires_at"),
    )


class Counter(Base):
    """Numbers handed out in order (the next status index), one row per sequence."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class PresentationNonce(Base):
    """A nonce a verifier handed out (``verifier`` set), or one a presentation used: each
    is accepted once, until it expires."""

    __tablename__ = "presentation_nonces"
    nonce: Mapped[str] = mapped_column(String(34), primary_key=True)  # 0x + 16 bytes
    verifier: Mapped[str | None] = mapped_column(String(31))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class ReplacedSubjectKey(Base):
    """A key a subject used to sign with, replaced by a newer one: presentations it signs are
    refused, online and (through status snapshots) offline."""

    __tablename__ = "replaced_subject_keys"
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"))
    replaced_at: Mapped[int] = mapped_column(BigInteger)


class RevokedToken(Base):
    """A session token logged out before it expired; kept until then, pruned after."""

    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
