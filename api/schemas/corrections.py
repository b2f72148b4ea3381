from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Strict
from api.schemas.records import RecordPublic


class CorrectionRequest(Strict):
    reason: str = Field(min_length=1, max_length=500, examples=["姓名错误"])
    fields: dict[str, Any] = Field(
        min_length=1,
        description="the corrected values; merged over the record's fields",
        examples=[{"姓名": "张珊"}],
    )


class CorrectionAccept(Strict):
    note: str = Field(default="", max_length=500)


class CorrectionReject(Strict):
    note: str = Field(min_length=1, max_length=500, description="why the request is rejected")


class CorrectionPublic(BaseModel):
    id: str
    record_id: str
    record_version: int = Field(description="the version the request corrects")
    record_type: str
    subject_id: str
    issuer: str
    requested_by: str
    reason: str
    fields: dict[str, Any] = Field(description="the corrected values asked for")
    previous: dict[str, Any] | None = Field(
        default=None, description="(issuer) those fields' values in the version corrected"
    )
    status: str = Field(description="requested | accepted | rejected | erased (closed when the record was erased)")
    decided_by: str | None
    decided_at: int | None
    note: str | None
    new_version: int | None
    created_at: int


class CorrectionPagePublic(BaseModel):
    corrections: list[CorrectionPublic] = Field(description="oldest first (created_at, id)")
    total: int = Field(description="corrections the whole list holds, not only this page")
    next: str | None = Field(description="pass as `after` for the next page; null: no more")


class DecisionPublic(BaseModel):
    correction: CorrectionPublic
    record: RecordPublic | None = Field(description="the corrected version, when accepted")
    notified: list[str] = Field(description="departments told that the version they read is corrected")


class NotificationPublic(BaseModel):
    id: int
    correction_id: str
    subject_id: str
    record_id: str
    old_version: int
    new_version: int
    created_at: int
    read_at: int | None


class NotificationPagePublic(BaseModel):
    notifications: list[NotificationPublic] = Field(description="oldest first (id)")
    total: int = Field(description="notices the whole list holds (unread ones only, with unread=true)")
    next: str | None = Field(description="pass as `after` for the next page; null: no more")
