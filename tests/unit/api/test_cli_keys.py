"""`datavault keys list|export|import` and `datavault register`: a person's key leaves the
vault as a keystore v3 file that ethers opens, a file ethers made comes in, and a registrar
registers a subject with the address of the key they bring."""

from __future__ import annotations

import io
import json
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api import cli
from api.cli import common
from keys import Keystore, MasterKey, SigningKey
from tests.support.cli_bridge import run_cli, vault_of_its_own  # noqa: F401 - vault_of_its_own is the ``harness`` fixture
from tests.support.harness import CITIZEN_ID, Actor, Harness
from vault.config import Settings

ETHERS_KEYSTORE = Path(__file__).resolve().parents[2] / "support" / "ethers_keystore.js"
PASSWORD = "长城-correct horse 7"


def ethers(request: dict[str, Any]) -> str:
    node = shutil.which("node")
    assert node is not None, "Node.js is a requirement of the project"
    done = subprocess.run(
        [node, str(ETHERS_KEYSTORE)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def ethers_file(tmp_path: Path, key: SigningKey, password: str = PASSWORD, **options: Any) -> Path:
    path = tmp_path / f"ethers-{key.address}.json"
    request = {"op": "encrypt", "privateKey": key.hex(), "password": password, "scryptN": 4096, **options}
    path.write_text(ethers(request), encoding="utf-8")
    return path


def store_of(datadir: Path) -> Keystore:
    return Keystore(datadir / "keystore", MasterKey.load(Settings(datadir=datadir).master_key_file, create=True))


@pytest.fixture
def datadir(tmp_path: Path) -> Path:
    """A keystore as `datavault up --demo` leaves it (the vault's own keys and the demo's)."""
    path = tmp_path / "data"
    store = store_of(path)
    for name in (
        "admin",
        "audit-log",
        "dept-gongan",
        "dept-gongan-chain",
        "auditor",
        "citizen-zhang-san",
        "enterprise-minjiang",
        "agent-minjiang-wang-wu",
    ):
        store.create(name)
    return path


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password.txt"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], datadir: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--datadir", str(datadir), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], datadir: Path, *argv: str) -> str:
    code, out, err = run(capsys, datadir, *argv)
    assert code == common.EXIT_ERROR and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datavault: "), err
    return lines[0]


def test_list_says_what_each_key_is_without_secrets(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    code, out, _ = run(capsys, datadir, "keys", "list")
    assert code == 0
    listed = {entry["name"]: entry for entry in json.loads(out)}
    store = store_of(datadir)
    assert {name: entry["address"] for name, entry in listed.items()} == {n: store.address_of(n) for n in store.names()}
    assert {name: entry["kind"] for name, entry in listed.items()} == {
        "admin": "admin",
        "audit-log": "platform",
        "dept-gongan": "department",
        "dept-gongan-chain": "department-chain",
        "auditor": "auditor",
        "citizen-zhang-san": "subject",
        "enterprise-minjiang": "subject",
        "agent-minjiang-wang-wu": "agent",
    }
    assert "department gongan's chain key" in listed["dept-gongan-chain"]["what"]
    assert "ciphertext" not in out and all(set(e) == {"name", "address", "kind", "what"} for e in listed.values())


def test_an_exported_key_opens_in_ethers_and_comes_back(
    capsys: pytest.CaptureFixture[str],
    datadir: Path,
    tmp_path: Path,
    password_file: Path,
) -> None:
    out_file = tmp_path / "zhang-san.json"
    code, out, err = run(
        capsys,
        datadir,
        "keys",
        "export",
        "citizen-zhang-san",
        "--out",
        str(out_file),
        "--password-file",
        str(password_file),
    )
    assert code == 0, err
    key = store_of(datadir).load("citizen-zhang-san")
    assert json.loads(out) == {"name": "citizen-zhang-san", "address": key.address, "file": str(out_file)}
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    v3 = json.loads(out_file.read_text(encoding="utf-8"))
    assert v3["version"] == 3 and v3["crypto"]["kdf"] == "scrypt" and v3["address"] == key.address[2:].lower()
    assert key.hex()[2:] not in out_file.read_text(encoding="utf-8")

    opened = json.loads(ethers({"op": "decrypt", "json": out_file.read_text(encoding="utf-8"), "password": PASSWORD}))
    assert opened == {"address": key.address, "privateKey": key.hex()}

    # The same file comes back in under another name, as the same key.
    code, out, err = run(
        capsys, datadir, "keys", "import", "zhang-san-phone", str(out_file), "--password-file", str(password_file)
    )
    assert code == 0, err
    assert json.loads(out) == {"name": "zhang-san-phone", "address": key.address}
    assert store_of(datadir).load("zhang-san-phone").hex() == key.hex()


def test_a_file_ethers_made_imports(
    capsys: pytest.CaptureFixture[str],
    datadir: Path,
    tmp_path: Path,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wallet = SigningKey.generate()
    made = ethers_file(tmp_path, wallet)
    assert json.loads(made.read_text(encoding="utf-8"))["crypto"]["kdfparams"]["n"] == 4096  # ethers' own choice
    code, out, err = run(
        capsys, datadir, "keys", "import", "citizen-li-si", str(made), "--password-file", str(password_file)
    )
    assert code == 0, err
    assert json.loads(out)["address"] == wallet.address and "--as citizen-li-si" in err
    assert store_of(datadir).load("citizen-li-si").hex() == wallet.hex()
    # The password may come on stdin too.
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(capsys, datadir, "keys", "import", "citizen-li-si-2", str(made), "--password-file", "-")
    assert code == 0 and json.loads(out)["address"] == wallet.address, err
    # Older geth files spell the key "Crypto".
    data = json.loads(made.read_text(encoding="utf-8"))
    data["Crypto"] = data.pop("crypto")
    older = tmp_path / "geth.json"
    older.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = run(
        capsys, datadir, "keys", "import", "citizen-li-si-3", str(older), "--password-file", str(password_file)
    )
    assert code == 0 and json.loads(out)["address"] == wallet.address, err


def test_import_refusals(
    capsys: pytest.CaptureFixture[str],
    datadir: Path,
    tmp_path: Path,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = ethers_file(tmp_path, SigningKey.generate())
    pw = ("--password-file", str(password_file))
    assert "already in" in refused(capsys, datadir, "keys", "import", "citizen-zhang-san", str(made), *pw)
    assert store_of(datadir).address_of("citizen-zhang-san") != json.loads(made.read_text(encoding="utf-8"))["address"]
    assert "a name the vault gives its own keys" in refused(
        capsys, datadir, "keys", "import", "dept-x-chain", str(made), *pw
    )
    assert "a name the vault gives its own keys" in refused(
        capsys, datadir, "keys", "import", "audit-log", str(made), *pw
    )
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the password\n", encoding="utf-8")
    assert "wrong password" in refused(capsys, datadir, "keys", "import", "x", str(made), "--password-file", str(wrong))

    def variant(name: str, change: Any) -> str:
        data = json.loads(made.read_text(encoding="utf-8"))
        change(data)
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return str(path)

    other = SigningKey.generate().address[2:].lower()
    assert "holds the key of" in refused(
        capsys, datadir, "keys", "import", "x", variant("a.json", lambda d: d.update(address=other)), *pw
    )
    greedy = variant("n.json", lambda d: d["crypto"]["kdfparams"].update(n=2**30))
    assert "outside what is accepted" in refused(capsys, datadir, "keys", "import", "x", greedy, *pw)
    assert "not an Ethereum keystore v3 file" in refused(
        capsys, datadir, "keys", "import", "x", variant("v.json", lambda d: d.update(version=1)), *pw
    )
    assert "x" not in store_of(datadir).names()
    # No terminal and no --password-file: said so, rather than waiting on a prompt.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert "--password-file" in refused(capsys, datadir, "keys", "import", "x", str(made))


def test_export_refusals(
    capsys: pytest.CaptureFixture[str], datadir: Path, tmp_path: Path, password_file: Path
) -> None:
    pw = ("--password-file", str(password_file))
    out = str(tmp_path / "k.json")
    assert "not exported" in refused(capsys, datadir, "keys", "export", "dept-gongan-chain", "--out", out, *pw)
    assert "not exported" in refused(capsys, datadir, "keys", "export", "audit-log", "--out", out, *pw)
    assert "no key named 'nobody'" in refused(capsys, datadir, "keys", "export", "nobody", "--out", out, *pw)
    short = tmp_path / "short.txt"
    short.write_text("1234567\n", encoding="utf-8")
    assert "at least 8 characters" in refused(
        capsys, datadir, "keys", "export", "citizen-zhang-san", "--out", out, "--password-file", str(short)
    )
    Path(out).write_text("precious", encoding="utf-8")
    assert "never overwritten" in refused(capsys, datadir, "keys", "export", "citizen-zhang-san", "--out", out, *pw)
    assert Path(out).read_text(encoding="utf-8") == "precious"


# -- `datavault register`, against the in-process vault ----------------------------------------


async def test_a_registrar_registers_the_key_a_person_brings(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = harness
    dept = await h.department("gongan")
    store_of(h.datadir).import_key("dept-gongan", dept.key.hex())
    wallet = SigningKey.generate()
    made = ethers_file(tmp_path, wallet)  # only its address is read: no password asked
    code, out, err = await run_cli(
        h,
        monkeypatch,
        "register",
        "--as",
        "dept-gongan",
        "--kind",
        "citizen",
        "--identifier",
        CITIZEN_ID,
        "--name",
        "张三",
        "--key-file",
        str(made),
    )
    assert code == 0, err
    subject = json.loads(out)
    assert subject["address"] == wallet.address and subject["kind"] == "citizen" and subject["name"] == "张三"
    await h.settle()
    person = await h.login(Actor(wallet))  # the person logs in with the key they brought
    me = await h.http.get("/me", headers=person.headers)
    assert me.status_code == 200 and me.json()["id"] == subject["id"]

    other = SigningKey.generate()
    code, out, err = await run_cli(
        h,
        monkeypatch,
        "register",
        "--as",
        "dept-gongan",
        "--kind",
        "enterprise",
        "--identifier",
        "91350100M000100Y43",
        "--name",
        "闽江数据科技有限公司",
        "--address",
        other.address,
    )
    assert code == 0 and json.loads(out)["address"] == other.address, err
    code, _, err = await run_cli(
        h,
        monkeypatch,
        "register",
        "--as",
        "dept-gongan",
        "--kind",
        "citizen",
        "--identifier",
        CITIZEN_ID,
        "--name",
        "张三",
        "--address",
        "0x1234",
    )
    assert code == common.EXIT_ERROR and "not an address" in err
    bare = tmp_path / "bare.json"
    bare.write_text(
        json.dumps({k: v for k, v in json.loads(made.read_text(encoding="utf-8")).items() if k != "address"}),
        encoding="utf-8",
    )
    code, _, err = await run_cli(
        h,
        monkeypatch,
        "register",
        "--as",
        "dept-gongan",
        "--kind",
        "citizen",
        "--identifier",
        CITIZEN_ID,
        "--name",
        "张三",
        "--key-file",
        str(bare),
    )
    assert code == common.EXIT_ERROR and "names no address" in err


def test_an_sm_vaults_sm2_keys_are_listed_by_public_key_and_never_exported(
    capsys: pytest.CaptureFixture[str], datadir: Path
) -> None:
    store = store_of(datadir)
    department = store.create_sm2("dept-gongan-sm2")
    log = store.create_sm2("audit-log-sm2")
    code, out, _ = run(capsys, datadir, "keys", "list")
    assert code == 0, out
    listed = {entry["name"]: entry for entry in json.loads(out)}
    assert listed["dept-gongan-sm2"] == {
        "name": "dept-gongan-sm2",
        "public_key": department.hex,
        "kind": "department-sm2",
        "what": "department gongan's SM2 key (signs its batch roots in an sm vault; never exported)",
    }
    assert listed["audit-log-sm2"]["public_key"] == log.hex and listed["audit-log-sm2"]["kind"] == "platform"
    assert "address" in listed["dept-gongan"]  # the secp256k1 entries as before
    line = refused(capsys, datadir, "keys", "export", "dept-gongan-sm2", "--out", str(datadir / "x.json"))
    assert "one of the vault's own keys" in line
    line = refused(capsys, datadir, "records", "--as", "nobody")
    assert "-sm2" not in line and "dept-gongan" in line
