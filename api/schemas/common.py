from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
HASH32 = r"^0x[0-9a-fA-F]{64}$"


class Strict(BaseModel):
    # Unknown fields are refused rather than ignored: a typo must not silently drop data.
    model_config = ConfigDict(extra="forbid")


Address = Field(pattern=ADDRESS, examples=["0x8ba1f109551bD432803012645Ac136ddd64DBA72"])
