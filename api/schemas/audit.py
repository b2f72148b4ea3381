"""The access log as auditors and subjects see it. Entries carry no personal data: ids are
pseudonymous, departments are codes and officials are login addresses."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import ADDRESS, Strict


class AuditorCreate(Strict):
    address: str = Field(pattern=ADDRESS, description="the key the auditor logs in with")
    name: str = Field(min_length=1, max_length=100, examples=["市审计局 审计员"])


class AuditorPublic(BaseModel):
    address: str
    name: str
    created_at: int


class EntryPublic(BaseModel):
    seq: int = Field(description="position in the log (the leaf index)")
    leaf_hash: str = Field(description="SHA-256(0x00 || canonical JSON of entry): the tree's leaf")
    entry: dict[str, Any] = Field(description="the entry as hashed (its canonical JSON is the leaf's preimage)")


class EntryPagePublic(BaseModel):
    entries: list[EntryPublic]
    next: int | None = Field(description="pass as after_seq for the next page; null: no more")


class SignedHeadPublic(BaseModel):
    tree_size: int
    root: str
    signed_at: int
    signature: str = Field(description="EIP-191 signature by the log key of vault.audit.log.head_text")
    sm2_signature: str | None = Field(
        default=None,
        description="sm suite: SM2 signature (r || s hex, user id 1234567812345678) of the same head text "
        "by sm2_public_key; null in the intl suite",
    )
    status: str = Field(description="pending | anchored | superseded | failed")
    tx_hash: str | None
    block_number: int | None


class HeadPublic(SignedHeadPublic):
    on_chain: bool = Field(description="the chain holds this very tree size and root")


class ChainHeadPublic(BaseModel):
    tree_size: int
    root: str
    block_number: int
    tx_hash: str


class HeadsPublic(BaseModel):
    log_key: str = Field(description="the address whose signatures every head carries")
    anchor_contract: str | None = Field(description="the AuditAnchor contract the heads are anchored in")
    tree_size: int = Field(description="entries in the log now")
    heads: list[HeadPublic] = Field(description="signed heads, newest first")
    anchored: list[ChainHeadPublic] = Field(description="the heads the chain holds over the same sizes, oldest first")
    next: int | None = Field(description="pass as before_size for older heads; null: no more")
    sm2_public_key: str | None = Field(
        default=None, description="sm suite: the log's SM2 public key (04 || x || y hex); null in the intl suite"
    )


class InclusionPublic(BaseModel):
    seq: int
    tree_size: int
    leaf_hash: str
    root: str
    proof: list[str] = Field(description="RFC 9162 audit path, leaf to root")
    entry: dict[str, Any]
    head: SignedHeadPublic | None = Field(description="the signed head of this size, if one was signed")


class ConsistencyPublic(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str] = Field(description="RFC 9162 consistency proof")
    first_head: SignedHeadPublic | None
    second_head: SignedHeadPublic | None


class FindingPublic(BaseModel):
    kind: str
    seq: int | None = None
    detail: str


class AuditReportPublic(BaseModel):
    ok: bool = Field(
        description="true only when the log is proven complete and untampered against a head anchored on chain"
    )
    status: Literal["verified", "findings", "nothing_anchored"] = Field(
        description="verified: proven against the chain; findings: see `findings`; "
        "nothing_anchored: no tree head is on chain yet, so nothing could be proven "
        "(no findings either)"
    )
    summary: str = Field(description="the conclusion in one sentence")
    tree_size: int
    anchored_size: int = Field(description="entries covered by the latest head anchored on chain (0: none)")
    entries_checked: int
    heads_checked: int
    anchors_checked: int = Field(description="heads anchored on chain that the log was checked against")
    findings: list[FindingPublic]


class AnchoredHeadPublic(BaseModel):
    tree_size: int
    root: str
    signed_at: int
    signature: str
    tx_hash: str | None
    block_number: int | None


class EntryProofPublic(BaseModel):
    tree_size: int
    root: str
    path: list[str] = Field(description="RFC 9162 audit path from this entry's leaf to root")
    tx_hash: str | None = Field(description="the transaction that anchored root on chain")
    block_number: int | None


class AccessPublic(BaseModel):
    seq: int
    at: int
    action: str = Field(examples=["grant.used"])
    outcome: str = Field(description="ok | refused")
    actor_role: str
    actor: str
    department: str | None = Field(description="the department's code, when a department acted")
    department_name: str | None = Field(default=None, description="its name (a bank's, a notary's...)")
    department_kind: str | None = Field(
        default=None, description="government | bank | notary | enterprise, when a department acted"
    )
    official: str | None = Field(description="the login address of the individual who acted")
    purpose_code: int | None
    grant_id: str | None
    record_types: list[str]
    fields: list[str]
    reason: str | None
    leaf_hash: str
    entry: dict[str, Any] = Field(description="the entry as hashed: recompute its leaf hash to check the proof")
    proof: EntryProofPublic | None = Field(description="inclusion in the latest anchored head; null while pending")
    pending: bool = Field(description="newer than the latest anchored head: proved once the next head is anchored")


class AccessLogPublic(BaseModel):
    subject_id: str
    head: AnchoredHeadPublic | None = Field(
        description="the latest head anchored on chain, which the proofs are against"
    )
    entries: list[AccessPublic]
    next: int | None = Field(description="pass as after_seq for the next page; null: no more")
