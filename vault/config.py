"""Where a vault keeps its state, which chain and database it talks to, how it logs.

The one reader of the ``DATAVAULT_*`` environment variables: every setting is a field of
``Settings`` (``DATAVAULT_`` + the field name in capitals), read and validated once, when a
vault starts. A bad value is a ``ConfigError`` that names the variable, so ``datavault up``
says it in one line. Layers below (``chain``, ``keys``) are handed their values.

Importing this module is cheap (pydantic, no SQLAlchemy, no web3): the CLI may use it to
build its parser.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.engines import KINDS as CHAIN_KINDS
from vault.errors import VaultError

if TYPE_CHECKING:
    from keys import MasterKey

ENV_PREFIX = "DATAVAULT_"
MASTER_KEY_ENV = ENV_PREFIX + "MASTER_KEY"  # keys.master.DEFAULT_ENV_VAR, which keys reads itself
MASTER_KEY_FILE_ENV = ENV_PREFIX + "MASTER_KEY_FILE"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LogFormat = Literal["text", "json"]
# Never echoed in an error message: secrets, and URLs that may carry a password.
_UNSHOWN = {"signer_key", "master_key", "database_url", "rpc_url"}

__all__ = ["CHAIN_KINDS", "LOG_LEVELS", "ConfigError", "LogFormat", "Settings"]


class ConfigError(VaultError):
    """A setting has a value the vault cannot start with; the message names the variable."""


class Settings(BaseSettings):
    """Every setting of a vault. Built from the environment, with keyword arguments taking
    precedence (``Settings(datadir=...)``, or ``from_env``, which skips ``None``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        validate_default=True,
    )

    datadir: Path = Path(".datavault")
    database_url: str = ""
    chain: str = "anvil"
    rpc_url: str | None = None
    # Private key of the operator account on an RPC chain (hex); dev chains use their own.
    signer_key: str | None = Field(default=None, repr=False)
    # Gas is free on this chain (a consortium chain); the engine also sees it for itself.
    zero_gas: bool = False
    # The master key itself (base64 or hex of 32 bytes); else it is read from master_key_file.
    master_key: str | None = Field(default=None, repr=False, validation_alias=MASTER_KEY_ENV)
    # Where the master key file is; default master.key in the data directory.
    master_key_path: Path | None = Field(default=None, validation_alias=MASTER_KEY_FILE_ENV)
    # An anvil binary other than the one npm installed in hardhat-node/ (DATAVAULT_ANVIL).
    anvil: Path | None = None
    # How often the submitter wakes up when nobody nudges it (seconds).
    submit_interval: float = Field(default=0.5, gt=0)
    # Transactions the submitter has with the node before it waits for a block (1: one at a time).
    submit_in_flight: int = Field(default=512, ge=1, le=10_000)
    # Most credentials anchored under one root.
    batch_max: int = Field(default=10_000, ge=1)
    # A signed head of the access log every so many entries or seconds, whichever comes first.
    audit_head_every: int = Field(default=1_000, ge=1)
    audit_head_interval: int = Field(default=30, ge=1)
    # How often the retention job shreds records kept past their type's rule (seconds; 0: never).
    retention_interval: int = Field(default=3_600, ge=0)
    # Largest request body the API reads (bytes); a 10,000-item bulk issuance needs a few MiB.
    max_body_bytes: int = Field(default=16 * 2**20, ge=1)
    # Where other systems reach this vault (https://vault.example.gov.cn): the base of issuers'
    # identifiers and status list URLs in exported credentials. Unset, each request's own base
    # URL is used, which suits one machine but not credentials that leave it.
    public_url: str | None = None
    # The crypto suite a new vault is initialised with (intl: AES-256-GCM/SHA-256; sm: 国密
    # SM4-GCM/SM3/SM2). Recorded in the database at initialisation; a vault later started with
    # another value refuses to start (re-encryption is the way, never silent mixing). Unset: the
    # suite the vault recorded (intl for a new one).
    crypto: Literal["intl", "sm"] | None = None
    log_level: str = "info"
    log_format: LogFormat = "text"

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, given=set(values))) from None

    # Absolute once, here, where settings are made: the chain node, the database URL and
    # the hints printed for other terminals must all name the same directory, whatever
    # their working directory (`make run` passes the relative `.datavault`).
    @field_validator("datadir", "master_key_path", "anvil")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return None if value is None else value.absolute()

    @field_validator("chain")
    @classmethod
    def _chain_kind(cls, value: str) -> str:
        if value not in CHAIN_KINDS:
            raise ValueError(f"choose one of {', '.join(CHAIN_KINDS)}")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("an http(s) URL without query or fragment, such as https://vault.example.org")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"choose one of {', '.join(LOG_LEVELS)}")
        return value.lower()

    @field_validator("master_key")
    @classmethod
    def _master_key(cls, value: str | None) -> str | None:
        from keys import MasterKey

        if value is not None and MasterKey.decode(value) is None:
            raise ValueError("not 32 bytes of base64 or hex")
        return value

    @property
    def db_url(self) -> str:
        from vault.db.engine import sqlite_url

        return self.database_url or sqlite_url(self.datadir / "vault.db")

    @property
    def keystore_dir(self) -> Path:
        return self.datadir / "keystore"

    @property
    def master_key_file(self) -> Path:
        # Production keeps the master key elsewhere (env var or another disk); the embedded
        # default keeps a 0600 file next to, but never inside, the database.
        return self.master_key_path or self.datadir / "master.key"

    def load_master_key(self, *, create: bool = False) -> MasterKey:
        """The master key: ``master_key`` if set, else the file (made with ``create``)."""
        from keys import MasterKey

        return MasterKey.load(self.master_key_file, text=self.master_key or "", create=create)

    @classmethod
    def from_env(cls, datadir: Path | None = None, **overrides: object) -> Settings:
        """The environment's settings, with ``datadir`` and ``overrides`` (None: not given)."""
        given = {k: v for k, v in {"datadir": datadir, **overrides}.items() if v is not None}
        return cls(**given)


def _describe(exc: ValidationError, *, given: set[str]) -> str:
    """One line naming each bad setting as the operator set it: variable, or keyword/option."""
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "settings"
        field = name.lower().removeprefix(ENV_PREFIX.lower())
        if name not in given and not name.startswith(ENV_PREFIX):
            name = ENV_PREFIX + name.upper()
        reason = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            problems.append(f"{name}: unknown setting")
            continue
        shown = "" if field in _UNSHOWN else f"={error['input']!r}"
        problems.append(f"{name}{shown}: {reason[:1].lower()}{reason[1:]}")
    return "bad setting " + "; ".join(problems)
