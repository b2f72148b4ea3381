"""Where a vault keeps its state and which chain and database it talks to."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from vault.db.engine import sqlite_url

CHAIN_KINDS = ("anvil", "inprocess", "hardhat", "rpc")


@dataclass(frozen=True)
class Settings:
    datadir: Path
    database_url: str = ""
    chain: str = "anvil"
    rpc_url: str | None = None
    # Private key of the operator account on an RPC chain (hex); dev chains use their own.
    signer_key: str | None = field(default=None, repr=False)
    zero_gas: bool = False
    # How often the submitter wakes up when nobody nudges it.
    submit_interval: float = 0.5
    # Most credentials anchored under one root.
    batch_max: int = 10_000
    # A signed head of the access log every so many entries or seconds, whichever comes first.
    audit_head_every: int = 1_000
    audit_head_interval: int = 30
    # Largest request body the API reads (bytes); a 10,000-item bulk issuance needs a few MiB.
    max_body_bytes: int = 16 * 2**20

    def __post_init__(self) -> None:
        # Absolute once, here, where settings are made: the chain node, the database URL and
        # the hints printed for other terminals must all name the same directory, whatever
        # their working directory (`make run` passes the relative `.datavault`).
        object.__setattr__(self, "datadir", Path(self.datadir).absolute())

    @property
    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.datadir / "vault.db")

    @property
    def keystore_dir(self) -> Path:
        return self.datadir / "keystore"

    @property
    def master_key_file(self) -> Path:
        # Production keeps the master key elsewhere (env var or another disk); the embedded
        # default keeps a 0600 file next to, but never inside, the database.
        override = os.environ.get("DATAVAULT_MASTER_KEY_FILE")
        return Path(override) if override else self.datadir / "master.key"

    @classmethod
    def from_env(cls, datadir: Path | None = None, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "datadir": datadir or Path(env.get("DATAVAULT_DATADIR", ".datavault")),
            "database_url": env.get("DATAVAULT_DATABASE_URL", ""),
            "chain": env.get("DATAVAULT_CHAIN", "anvil"),
            "rpc_url": env.get("DATAVAULT_RPC_URL") or None,
            "signer_key": env.get("DATAVAULT_SIGNER_KEY") or None,
            "zero_gas": env.get("DATAVAULT_ZERO_GAS", "") in ("1", "true", "yes"),
        }
        if env.get("DATAVAULT_MAX_BODY_BYTES"):
            values["max_body_bytes"] = int(env["DATAVAULT_MAX_BODY_BYTES"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
