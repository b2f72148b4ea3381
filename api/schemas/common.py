from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vault import pages

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
HASH32 = r"^0x[0-9a-fA-F]{64}$"


class Strict(BaseModel):
    # Unknown fields are refused rather than ignored: a typo must not silently drop data.
    model_config = ConfigDict(extra="forbid")


Address = Field(pattern=ADDRESS, examples=["0x8ba1f109551bD432803012645Ac136ddd64DBA72"])
# A row id in a path: the database stores BIGINT, so a larger number names nothing and must
# be refused here rather than overflow the driver.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a row id (1 to 2^63-1)")]
# A list's page (vault.pages): up to `limit` items after the cursor `after`, the `next` of
# the page before; the first page without it. Default DEFAULT_LIMIT.
PageLimit = Annotated[
    int,
    Query(ge=1, le=pages.MAX_LIMIT, description=f"items per page, 1-{pages.MAX_LIMIT} (default {pages.DEFAULT_LIMIT})"),
]
After = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=pages.MAX_CURSOR,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="cursor: the `next` of the previous page; omit it for the first page",
    ),
]


class Problem(BaseModel):
    """An RFC 9457 problem document: the body of every refusal, served as
    ``application/problem+json``. Members beyond these may be added; ignore the unknown."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="always `about:blank`: `title` and `status` say it all")
    title: str = Field(description="short and fixed for the kind of refusal", examples=["Invalid input"])
    status: int = Field(ge=400, le=599, description="the HTTP status, repeated")
    detail: str = Field(description="the reason, for the person at the keyboard")
    field: str | None = Field(None, description="the input at fault, where one is")
    code: str | None = Field(None, description="a stable code for an access refusal (403)")
    errors: list[dict[str, Any]] | None = Field(None, description="every invalid input, for a 422 from validation")
