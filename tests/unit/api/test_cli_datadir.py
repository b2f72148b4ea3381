"""Where the CLI looks for the vault, and `records --export --out`: a newcomer's first stumbles.

The default data directory is `.datavault` in the working directory, so a second terminal
elsewhere finds no vault while one is up: the message must say where it looked and how to
point at the running one. A failed `records <id> --export > file` leaves the shell's empty
file behind; the command must fail before printing anything, and `--out FILE` must write the
file whole and only on success.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import cli
from api.cli import common, core
from api.client import VaultClient, command
from keys import Keystore, MasterKey
from vault.config import Settings

RECORD = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
DOCUMENT = {"title": "机动车驾驶证", "fields": {"姓名": "张三", "准驾车型": "C1"}}
PROOF = ["0x" + "ab" * 32]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def failed(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one `datavault:` line of a command that failed, having printed nothing to stdout."""
    code, out, err = run(capsys, *argv)
    assert (code, out) == (common.EXIT_ERROR, ""), (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datavault: "), err
    return lines[0]


def make_keystore(datadir: Path) -> None:
    store = Keystore(datadir / "keystore", MasterKey.load(datadir / "master.key", create=True))
    store.create("citizen-zhang-san")


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A terminal in another directory than the vault's, with no DATAVAULT_DATADIR."""
    cwd = tmp_path / "somewhere-else"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("DATAVAULT_DATADIR", raising=False)
    return cwd


def test_without_a_keystore_it_says_where_it_looked_and_how_to_point_elsewhere(
    capsys: pytest.CaptureFixture[str],
    elsewhere: Path,
) -> None:
    line = failed(capsys, "records", "--as", "citizen-zhang-san")
    assert f"no keystore in {elsewhere / '.datavault'};" in line  # absolute: where it looked
    assert "--datadir DIR" in line and "DATAVAULT_DATADIR=DIR" in line
    assert "--api" not in line  # keys come from the data directory even with --api


def test_without_a_running_vault_it_says_where_it_looked_and_how_to_point_elsewhere(
    capsys: pytest.CaptureFixture[str],
    elsewhere: Path,
) -> None:
    make_keystore(elsewhere / ".datavault")
    for argv in (["records", "--as", "citizen-zhang-san"], ["verify", "--hash", "0x" + "ab" * 32]):
        line = failed(capsys, *argv)
        assert f"no vault is running from {elsewhere / '.datavault'} (no api.json there)" in line, line
        assert "--datadir DIR" in line and "DATAVAULT_DATADIR=DIR" in line and "--api URL" in line
        assert "`datavault up`" in line  # or start one here

    relative = failed(capsys, "--datadir", "vault-data", "verify", "--hash", "0x" + "ab" * 32)
    assert f"no vault is running from {elsewhere / 'vault-data'} " in relative
    assert "`datavault --datadir vault-data up`" in relative


def test_hints_name_the_default_data_directory_briefly(elsewhere: Path) -> None:
    assert command(Path(".datavault"), "up") == "datavault up"
    assert command(elsewhere / ".datavault", "up") == "datavault up"  # absolute, but the default here
    assert command(Path("/srv/vault"), "demo") == "datavault --datadir /srv/vault demo"


def test_settings_make_the_data_directory_absolute_once(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env(datadir=Path(".datavault"))
    direct = Settings(datadir=Path("other"))
    monkeypatch.chdir(elsewhere.parent)  # a later change of directory changes nothing
    assert settings.datadir == elsewhere / ".datavault"
    assert settings.keystore_dir == elsewhere / ".datavault" / "keystore"
    assert str(elsewhere / ".datavault" / "vault.db") in settings.db_url
    assert direct.datadir == elsewhere / "other"
    monkeypatch.setenv("DATAVAULT_DATADIR", "from-env")
    assert Settings.from_env().datadir == elsewhere.parent / "from-env"


class FakeVault:
    """Answers the CLI's login and record requests as the API would."""

    def __init__(self, record: dict[str, Any] | None) -> None:
        self.record = record
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if request.url.path == "/auth/challenge":
            return httpx.Response(200, json={"challenge": "sign me", "expires_in": 60})
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": "t", "role": "subject", "subject": "0x01"})
        if request.url.path == f"/me/records/{RECORD}" and self.record is not None:
            return httpx.Response(200, json=self.record)
        problem = {"title": "Not Found", "status": 404, "detail": "record not found"}
        return httpx.Response(404, json=problem, headers={"content-type": "application/problem+json"})


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any] | None], FakeVault]:
    make_keystore(tmp_path)

    def serve(record: dict[str, Any] | None) -> FakeVault:
        fake = FakeVault(record)
        factory = lambda _args: lambda: VaultClient("http://vault.test", transport=httpx.MockTransport(fake))
        monkeypatch.setattr(core, "client_factory", factory)
        return fake

    return serve


def export(capsys: pytest.CaptureFixture[str], datadir: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "--datadir", str(datadir), "records", "--as", "citizen-zhang-san", RECORD, "--export", *extra)


def test_export_out_writes_the_credential_whole_and_only_on_success(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    vault: Callable[[dict[str, Any] | None], FakeVault],
) -> None:
    out = tmp_path / "licence.json"
    vault({"id": RECORD, "status": "anchored", "document": DOCUMENT, "anchor": {"proof": PROOF}})
    code, stdout, stderr = export(capsys, tmp_path, "--out", str(out))
    assert (code, stdout) == (0, ""), stderr
    assert json.loads(out.read_text(encoding="utf-8")) == {"document": DOCUMENT, "proof": PROOF}
    assert f"wrote {out}" in stderr
    assert os.stat(out).st_mode & 0o077 == 0  # personal data: not readable by others

    # The vault refuses: the file from before stays as it was, and no temporary file is left.
    fake = vault(None)
    line = failed(
        capsys,
        "--datadir",
        str(tmp_path),
        "records",
        "--as",
        "citizen-zhang-san",
        RECORD,
        "--export",
        "--out",
        str(out),
    )
    assert "404" in line and "record not found" in line and f"GET /me/records/{RECORD}" in fake.requests
    assert json.loads(out.read_text(encoding="utf-8")) == {"document": DOCUMENT, "proof": PROOF}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keystore", "licence.json", "master.key"]

    # Nor is a new file created by a failure.
    fresh = tmp_path / "fresh.json"
    assert "record not found" in failed(
        capsys,
        "--datadir",
        str(tmp_path),
        "records",
        "--as",
        "citizen-zhang-san",
        RECORD,
        "--export",
        "--out",
        str(fresh),
    )
    assert not fresh.exists()


def test_export_failures_print_nothing_to_stdout(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    vault: Callable[[dict[str, Any] | None], FakeVault],
) -> None:
    vault(None)
    assert "record not found" in failed(
        capsys, "--datadir", str(tmp_path), "records", "--as", "citizen-zhang-san", RECORD, "--export"
    )
    vault({"id": RECORD, "status": "anchored", "document": DOCUMENT, "anchor": {"proof": PROOF}})
    line = failed(
        capsys,
        "--datadir",
        str(tmp_path),
        "records",
        "--as",
        "citizen-zhang-san",
        RECORD,
        "--export",
        "--out",
        str(tmp_path / "no-such-dir" / "licence.json"),
    )
    assert "cannot write the credential to" in line
    assert "is a directory" in failed(
        capsys,
        "--datadir",
        str(tmp_path),
        "records",
        "--as",
        "citizen-zhang-san",
        RECORD,
        "--export",
        "--out",
        str(tmp_path),
    )
    assert not (tmp_path / "no-such-dir").exists()


def test_records_out_without_export_writes_the_listing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    vault: Callable[[dict[str, Any] | None], FakeVault],
) -> None:
    record = {"id": RECORD, "status": "pending", "document": DOCUMENT, "anchor": None}
    vault(record)
    out = tmp_path / "record.json"
    code, stdout, stderr = run(
        capsys, "--datadir", str(tmp_path), "records", "--as", "citizen-zhang-san", RECORD, "--out", str(out)
    )
    assert (code, stdout) == (0, ""), stderr
    assert json.loads(out.read_text(encoding="utf-8")) == record
