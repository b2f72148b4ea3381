"""`datavault consortium genesis`: writes a QBFT genesis and one private key file per
validator, prints the next steps without a key, and refuses bad input in one line (exit 2)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from api import cli
from chain import consortium


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["consortium", "genesis", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_writes_genesis_and_keys_and_prints_no_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "network"
    operator = "0x627306090abaB3A6e1400e9345bC60c78a8BEf57"
    code, out, err = run(
        capsys, "--validators", "4", "--block-period", "2", "--chain-id", "1337", "--out", str(out_dir),
        "--alloc", operator,
    )  # fmt: skip
    assert (code, err) == (0, "")
    genesis = json.loads((out_dir / "genesis.json").read_text(encoding="utf-8"))
    assert genesis["config"]["chainId"] == 1337
    assert genesis["config"]["qbft"]["blockperiodseconds"] == 2
    assert operator[2:].lower() in genesis["alloc"]
    validators = consortium.decode_extra_data(genesis["extraData"]).validators
    assert len(validators) == 4
    for n, address in enumerate(validators, 1):
        key_file = out_dir / f"validator-{n}" / "key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = consortium.NodeKey.from_private_key(bytes.fromhex(key_file.read_text(encoding="ascii")[2:]))
        assert key.address.lower() == address  # validator-N holds the Nth validator's key
        assert key.private_key.hex() not in out
        assert key.address in out
    assert sorted(p.name for p in out_dir.iterdir()) == ["genesis.json"] + [f"validator-{n}" for n in range(1, 5)]
    # The next steps: Besu's free gas option, the first validator as bootnode, the vault's settings.
    assert "--min-gas-price=0" in out
    first = consortium.NodeKey.from_private_key(bytes.fromhex((out_dir / "validator-1" / "key").read_text()[2:]))
    assert f"--bootnodes=enode://{first.node_id}@HOST_1:30303" in out
    for setting in ("DATAVAULT_CHAIN=rpc", "DATAVAULT_RPC_URL=http://HOST_1:8545,", "DATAVAULT_ZERO_GAS=true"):
        assert setting in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--validators", "0", "--chain-id", "1"], "--validators: 0 validators: choose 1 to"),
        (["--block-period", "0", "--chain-id", "1"], "--block-period: block period 0 s: choose 1 to 60"),
        (["--block-period", "61", "--chain-id", "1"], "--block-period: block period 61 s: choose 1 to 60"),
        (["--chain-id", "0"], "--chain-id: chain id 0: choose 1 to"),
        (["--chain-id", "1", "--alloc", "0x12"], "--alloc: '0x12' is not an address"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    out_dir = tmp_path / "network"
    code, out, err = run(capsys, *argv, "--out", str(out_dir))
    assert (code, out) == (2, "")
    assert err == f"datavault: {message}" + err.split(message, 1)[1]
    assert err.count("\n") == 1
    assert not out_dir.exists()


def test_a_non_empty_out_dir_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "key").write_text("0x" + "11" * 32, encoding="ascii")
    code, out, err = run(capsys, "--chain-id", "1", "--out", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"datavault: --out {tmp_path}: not empty; node keys are never overwritten, choose a new directory\n"
    assert [p.name for p in tmp_path.iterdir()] == ["key"]


def test_an_empty_out_dir_is_used_and_a_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "--validators", "1", "--chain-id", "7", "--out", str(tmp_path))[0] == 0
    assert (tmp_path / "validator-1" / "key").exists()
    code, _, err = run(capsys, "--validators", "1", "--chain-id", "7", "--out", str(tmp_path / "genesis.json"))
    assert code == 2
    assert "exists and is not a directory" in err


def test_a_non_number_is_argparses_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["consortium", "genesis", "--validators", "four", "--chain-id", "1", "--out", str(tmp_path)])
    assert caught.value.code == 2
    assert "--validators: invalid int value: 'four'" in capsys.readouterr().err
