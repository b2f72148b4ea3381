"""One ``Settings`` for every DATAVAULT_* variable, validated when it is made."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from chain.engines import KINDS
from keys import MasterKey
from vault.config import CHAIN_KINDS, ConfigError, Settings

KEY = bytes(range(32))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in (
        "DATAVAULT_DATADIR",
        "DATAVAULT_DATABASE_URL",
        "DATAVAULT_CHAIN",
        "DATAVAULT_RPC_URL",
        "DATAVAULT_SIGNER_KEY",
        "DATAVAULT_ZERO_GAS",
        "DATAVAULT_MASTER_KEY",
        "DATAVAULT_MASTER_KEY_FILE",
        "DATAVAULT_ANVIL",
        "DATAVAULT_MAX_BODY_BYTES",
        "DATAVAULT_LOG_LEVEL",
        "DATAVAULT_LOG_FORMAT",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults(tmp_path: Path) -> None:
    s = Settings.from_env()
    assert s.datadir == tmp_path / ".datavault"
    assert s.chain == "anvil" and s.database_url == "" and s.rpc_url is None and s.signer_key is None
    assert not s.zero_gas and s.max_body_bytes == 16 * 2**20 and s.anvil is None
    assert (s.log_level, s.log_format) == ("info", "text")
    assert s.master_key_file == tmp_path / ".datavault" / "master.key"
    assert s.db_url.endswith(str(tmp_path / ".datavault" / "vault.db"))


def test_the_environment_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATAVAULT_CHAIN", "rpc")
    monkeypatch.setenv("DATAVAULT_RPC_URL", "http://node:8545")
    monkeypatch.setenv("DATAVAULT_ZERO_GAS", "yes")
    monkeypatch.setenv("DATAVAULT_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("DATAVAULT_MASTER_KEY_FILE", "keys/master.key")
    monkeypatch.setenv("DATAVAULT_ANVIL", "/opt/anvil")
    monkeypatch.setenv("DATAVAULT_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("DATAVAULT_DATABASE_URL", "")  # empty is unset
    s = Settings.from_env(datadir=Path("d"), chain=None, rpc_url="http://other:8545", log_format="json")
    assert s.datadir == tmp_path / "d" and s.chain == "rpc" and s.rpc_url == "http://other:8545"
    assert s.zero_gas and s.max_body_bytes == 2048 and s.database_url == ""
    assert s.master_key_file == tmp_path / "keys" / "master.key" and s.anvil == Path("/opt/anvil")
    assert (s.log_level, s.log_format) == ("warning", "json")


@pytest.mark.parametrize(
    ("var", "value", "said"),
    [
        ("DATAVAULT_MAX_BODY_BYTES", "abc", "DATAVAULT_MAX_BODY_BYTES='abc': input should be a valid integer"),
        ("DATAVAULT_MAX_BODY_BYTES", "0", "DATAVAULT_MAX_BODY_BYTES='0'"),
        ("DATAVAULT_CHAIN", "foo", "DATAVAULT_CHAIN='foo': choose one of anvil, inprocess, hardhat, rpc"),
        ("DATAVAULT_ZERO_GAS", "maybe", "DATAVAULT_ZERO_GAS='maybe'"),
        ("DATAVAULT_LOG_LEVEL", "loud", "DATAVAULT_LOG_LEVEL='loud': choose one of debug"),
        ("DATAVAULT_LOG_FORMAT", "xml", "DATAVAULT_LOG_FORMAT='xml'"),
        ("DATAVAULT_MASTER_KEY", "c2VjcmV0", "DATAVAULT_MASTER_KEY: not 32 bytes of base64 or hex"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, var: str, value: str, said: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        Settings.from_env()
    assert said in str(info.value) and "\n" not in str(info.value)


def test_secrets_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "1111" not in repr(Settings(signer_key="0x" + "11" * 32))
    monkeypatch.setenv("DATAVAULT_MASTER_KEY", "not-a-key-but-secret")
    monkeypatch.setenv("DATAVAULT_DATABASE_URL", "postgresql://u:hunter2@h/db")
    monkeypatch.setenv("DATAVAULT_CHAIN", "nope")
    with pytest.raises(ConfigError) as info:
        Settings.from_env()
    assert "not-a-key-but-secret" not in str(info.value) and "hunter2" not in str(info.value)


def test_chain_kinds_are_the_chain_layers() -> None:
    assert CHAIN_KINDS == KINDS


def test_the_master_key_is_handed_down(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATAVAULT_MASTER_KEY", base64.b64encode(KEY).decode())
    s = Settings.from_env()
    monkeypatch.delenv("DATAVAULT_MASTER_KEY")  # read once, by the settings
    assert s.load_master_key() == MasterKey(KEY)
    assert not s.master_key_file.exists()
    # Without one, the file: made on request, and the same key again afterwards.
    file_based = Settings.from_env(datadir=tmp_path / "v")
    made = file_based.load_master_key(create=True)
    assert file_based.master_key_file.exists() and file_based.load_master_key() == made


def test_settings_are_frozen() -> None:
    s = Settings.from_env()
    with pytest.raises(ValueError, match="frozen"):
        s.chain = "rpc"  # type: ignore[misc]
