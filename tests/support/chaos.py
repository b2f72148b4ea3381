"""A bounded load run with kill -9 (issue 12), shared by the test (short) and the bench (long).

`datavault up` runs as an operator runs it, on its own PostgreSQL cluster and an anvil node
reached by URL, each a process of its own. Three clients send mixed traffic (a department
issuing records, a citizen granting access, another department reading through a grant) while
the API, the node and PostgreSQL are each killed with SIGKILL and started again. Afterwards
``Outcome.check`` says what went wrong: an answer other than a success or a 503 with a reason,
a request that hung, a write answered 201 and lost, a grant or anchor on chain twice or not at
all, a read without its access-log entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from web3 import Web3

from chain.artifacts import load_artifact
from chain.engines.anvil import AnvilEngine
from chain.engines.base import DEV_KEY
from chain.engines.process import free_port
from chain.logs import with_anonymous_events
from keys import Keystore, SigningKey
from tests.grant_conformance import grant_body
from vault.config import Settings
from vault.presentations import codec
from vault.presentations.model import CredentialDomain, presentation_typed_data

ROOT = Path(__file__).resolve().parents[2]
CITIZEN_ID = "330102199001011234"
HANG = 20.0  # seconds: a request that takes longer is a hang, not an answer
LICENCE = {"姓名": "张三", "准驾车型": "C1"}


def _wait(what: str, ready: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def _killpg(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


class Cluster:
    """PostgreSQL, an anvil node and the vault, each started, killed and started again."""

    def __init__(self, root: Path, pg_port: int) -> None:
        self.root = root
        self.pg_env = {**os.environ, "DATAVAULT_PG_PORT": str(pg_port)}
        self.node_port, self.vault_port = free_port(), free_port()
        self.node_url = f"http://127.0.0.1:{self.node_port}"
        self.url = f"http://127.0.0.1:{self.vault_port}"
        self.datadir = root / "vault"
        self.pg_url = ""
        self.node: subprocess.Popen[bytes] | None = None
        self.vault: subprocess.Popen[bytes] | None = None

    # -- PostgreSQL ------------------------------------------------------------------------

    def _pg(self, action: str) -> str:
        done = subprocess.run(
            [str(ROOT / "scripts/postgres.sh"), action], env=self.pg_env, check=True, capture_output=True
        )
        return done.stdout.decode().strip()

    def start_pg(self) -> None:
        self.pg_url = self._pg("start")

    def kill_pg(self) -> None:
        self._pg("kill")

    def resume_pg(self) -> None:
        self._pg("resume")

    def stop_pg(self) -> None:
        self._pg("stop")

    # -- the node --------------------------------------------------------------------------

    def start_node(self) -> None:
        argv = AnvilEngine(self.root / "chain", zero_gas=True).command(self.node_port)
        (self.root / "chain").mkdir(exist_ok=True)
        log = (self.root / "anvil.log").open("ab")
        self.node = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait("anvil answers", lambda: _answers(self.node_url, json_rpc=True))

    def kill_node(self) -> None:
        assert self.node is not None
        _killpg(self.node)

    # -- the vault -------------------------------------------------------------------------

    def start_vault(self) -> None:
        env = {
            **os.environ,
            "DATAVAULT_SIGNER_KEY": DEV_KEY,
            "DATAVAULT_LOG_LEVEL": "warning",
            # Tree heads often, so that anchors of the access log happen during the run.
            "DATAVAULT_AUDIT_HEAD_EVERY": "25",
            "DATAVAULT_AUDIT_HEAD_INTERVAL": "5",
        }
        argv = [sys.executable, "-m", "api.cli", "--datadir", str(self.datadir), "up"]
        argv += ["--port", str(self.vault_port), "--chain", "rpc", "--rpc-url", self.node_url]
        argv += ["--database-url", self.pg_url]
        log = (self.root / "vault.log").open("ab")
        self.vault = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _wait("the vault answers", lambda: _answers(self.url + "/health"), timeout=120)

    def kill_vault(self) -> None:
        assert self.vault is not None
        _killpg(self.vault)

    def stop(self) -> None:
        if self.vault is not None and self.vault.poll() is None:
            os.killpg(self.vault.pid, signal.SIGINT)
            try:
                self.vault.wait(30)
            except subprocess.TimeoutExpired:
                _killpg(self.vault)
        if self.node is not None and self.node.poll() is None:
            _killpg(self.node)
        self.stop_pg()


def _answers(url: str, json_rpc: bool = False) -> bool:
    try:
        if json_rpc:
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
            return httpx.post(url, json=body, timeout=2).status_code == 200
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


@dataclass
class Outcome:
    statuses: Counter[int] = field(default_factory=Counter)
    refused_connections: int = 0
    hangs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)
    reads: int = 0

    def answered(self, what: str, r: httpx.Response, *, refusals: tuple[str, ...] = ()) -> bool:
        """True for a success; a 503 must say why; a refusal is expected only with one of the
        ``refusals`` codes; anything else is a problem."""
        self.statuses[r.status_code] += 1
        if r.status_code < 300:
            return True
        if r.status_code == 403 and r.json().get("code") in refusals:
            return False
        if r.status_code == 503:
            detail = r.json().get("detail") if r.headers.get("content-type", "").endswith("json") else None
            if not detail:
                self.problems.append(f"{what}: 503 without a reason: {r.text[:200]}")
        else:
            self.problems.append(f"{what}: {r.status_code} {r.text[:300]}")
        return False


class Api:
    def __init__(self, url: str, key: SigningKey, outcome: Outcome) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=HANG)
        self.url, self.key, self.outcome = url, key, outcome
        self.headers: dict[str, str] = {}

    async def login(self) -> Api:
        challenge = (await self.post("/auth/challenge", {"address": self.key.address}))["challenge"]
        token = await self.post("/auth/token", {"challenge": challenge, "signature": self.key.sign_message(challenge)})
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}
        return self

    async def post(self, path: str, body: Any) -> Any:
        """For seeding: retried until it succeeds (the chain may still be catching up)."""
        for _ in range(300):
            try:
                r = await self.http.post(path, json=body, headers=self.headers)
                if r.status_code < 300:
                    return r.json()
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"seeding {path} never succeeded: {r.status_code} {r.text}")

    async def attempt(self, method: str, path: str, body: Any = None) -> httpx.Response | None:
        """One request of the load: None if the API could not be reached (it was killed)."""
        started = time.monotonic()
        try:
            return await self.http.request(method, path, json=body, headers=self.headers)
        except httpx.TimeoutException:
            self.outcome.hangs.append(f"{method} {path} after {time.monotonic() - started:.0f} s")
        except httpx.TransportError:
            self.outcome.refused_connections += 1
            await asyncio.sleep(0.2)
        return None

    async def close(self) -> None:
        await self.http.aclose()


async def admin_of(url: str, datadir: Path, outcome: Outcome) -> Api:
    """The vault's admin, signed in with the key the vault serving ``datadir`` created."""
    settings = Settings(datadir=datadir)
    return await Api(url, Keystore(settings.keystore_dir, settings.load_master_key()).load("admin"), outcome).login()


async def department(admin: Api, code: str, roles: list[str], name: str = "") -> Api:
    """A new department registered by ``admin``, signed in with its own new key."""
    key = SigningKey.generate()
    await admin.post("/departments", {"code": code, "name": name or code, "roles": roles, "auth_address": key.address})
    return await Api(admin.url, key, admin.outcome).login()


async def seed(url: str, datadir: Path, outcome: Outcome) -> tuple[Api, Api, Api, str]:
    """An issuing registrar, a reader, a citizen with a licence, and a grant of many reads, made
    over HTTP with the keys a vault serving ``datadir`` at ``url`` created (its admin's)."""
    admin = await admin_of(url, datadir, outcome)
    issuer = await department(admin, "gongan", ["issuer", "registrar"])
    reader = await department(admin, "renshe", ["data_user"])
    await admin.close()
    citizen_key = SigningKey.generate()
    person = {"kind": "citizen", "identifier": CITIZEN_ID, "name": "张三", "address": citizen_key.address}
    await issuer.post("/subjects", person)
    await issuer.post("/records", record_body("机动车驾驶证"))
    citizen = await Api(url, citizen_key, outcome).login()
    grant = await signed_grant(citizen, max_uses=1_000_000)
    assert grant is not None
    return issuer, citizen, reader, grant


def record_body(title: str) -> dict[str, Any]:
    return {
        "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
        "type": "licence",
        "title": title,
        "fields": LICENCE,
        "valid_until": int(time.time()) + 365 * 86400,
    }


def grant_terms(max_uses: int) -> dict[str, Any]:
    return grant_body(fields=["姓名", "准驾车型"], max_uses=max_uses)


async def signed_grant(citizen: Api, max_uses: int, *, load: bool = False) -> str | None:
    """Prepares, signs and submits a grant; its id once answered 201."""
    if not load:
        prepared = await citizen.post("/me/grants/prepare", grant_terms(max_uses))
        typed = prepared["typed_data"]
        body = {"message": typed["message"], "signature": citizen.key.sign_typed_data(typed)}
        return str((await citizen.post("/me/grants", body))["id"])
    r = await citizen.attempt("POST", "/me/grants/prepare", grant_terms(max_uses))
    if r is None or not citizen.outcome.answered("prepare a grant", r):
        return None
    typed = r.json()["typed_data"]
    body = {"message": typed["message"], "signature": citizen.key.sign_typed_data(typed)}
    r = await citizen.attempt("POST", "/me/grants", body)
    if r is None or not citizen.outcome.answered("grant", r):
        return None
    return str(r.json()["id"])


async def traffic(issuer: Api, citizen: Api, reader: Api, long_grant: str, until: float) -> None:
    outcome = issuer.outcome

    async def issuing() -> None:
        n = 0
        while time.monotonic() < until:
            n += 1
            r = await issuer.attempt("POST", "/records", record_body(f"证明 {n}"))
            if r is not None and outcome.answered("issue", r):
                outcome.records.append(str(r.json()["id"]))
            await asyncio.sleep(0.2)

    async def granting() -> None:
        while time.monotonic() < until:
            grant = await signed_grant(citizen, 3, load=True)
            if grant is not None:
                outcome.grants.append(grant)
            await asyncio.sleep(0.3)

    async def reading() -> None:
        while time.monotonic() < until:
            r = await reader.attempt("POST", f"/grants/{long_grant}/read", {})
            # "pending": anvil saves its state every second, so a node killed under load comes
            # back without its last blocks, the grant's among them; until the vault has carried
            # it out again, a read is refused with that reason. A consortium chain with
            # immediate finality loses no block.
            if r is not None and outcome.answered("read", r, refusals=("pending",)):
                outcome.reads += 1

    await asyncio.gather(issuing(), granting(), reading())


async def run(
    cluster: Cluster, seconds: float, kills: Sequence[tuple[float, str, float]], say: Callable[[str], None]
) -> tuple[Outcome, str]:
    """Traffic for ``seconds`` while ``kills`` happen: (at, "vault"|"node"|"postgres", down for)."""
    outcome = Outcome()
    issuer, citizen, reader, long_grant = await seed(cluster.url, cluster.datadir, outcome)
    start = time.monotonic()
    until = start + seconds

    async def chaos() -> None:
        for at, what, down in kills:
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            say(f"{time.monotonic() - start:5.1f} s: kill -9 {what}")
            kill, again = {
                "vault": (cluster.kill_vault, cluster.start_vault),
                "node": (cluster.kill_node, cluster.start_node),
                "postgres": (cluster.kill_pg, cluster.resume_pg),
            }[what]
            await asyncio.to_thread(kill)
            await asyncio.sleep(down)
            await asyncio.to_thread(again)
            say(f"{time.monotonic() - start:5.1f} s: {what} back")

    await asyncio.gather(traffic(issuer, citizen, reader, long_grant, until), chaos())
    for api in (issuer, citizen, reader):
        await api.close()
    return outcome, long_grant


async def settled(cluster: Cluster, timeout: float = 120.0) -> dict[str, Any]:
    """Waits until nothing is queued (chain writes, access-log entries); returns the database's
    view: grants, records, anchored roots, the long grant's uses, and the deployment."""
    deadline = time.monotonic() + timeout
    while True:
        conn = await asyncpg.connect(cluster.pg_url)
        try:
            waiting = await conn.fetchval(
                "SELECT (SELECT count(*) FROM outbox WHERE status IN ('pending', 'signed'))"
                " + (SELECT count(*) FROM audit_queue)"
                " + (SELECT count(*) FROM records WHERE status = 'pending')"
            )
            if waiting == 0:
                return {
                    "grants": dict(await conn.fetch("SELECT id, status FROM grants")),
                    "records": dict(await conn.fetch("SELECT id, status FROM records")),
                    "roots": {
                        r for (r,) in await conn.fetch("SELECT root FROM anchor_batches WHERE status = 'anchored'")
                    },
                    "used": dict(
                        await conn.fetch(
                            "SELECT grant_id, count(*) FROM audit_entries WHERE action = 'grant.used' GROUP BY grant_id"
                        )
                    ),
                    "uses": dict(await conn.fetch("SELECT id, uses FROM grants")),
                    "deployment": json.loads(
                        await conn.fetchval("SELECT value FROM settings WHERE key = 'chain.deployment'")
                    ),
                    "failed": await conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'failed'"),
                }
        finally:
            await conn.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{waiting} writes still queued after {timeout:.0f} s")
        await asyncio.sleep(0.5)


def on_chain(node_url: str, deployment: dict[str, Any], db: dict[str, Any]) -> dict[str, Any]:
    """What the chain holds: whether each grant the database holds active is active in the
    contract's state, whether each anchored root is issued, and how many times each grant,
    root and tree size was written (events; a node restored from its state file may have
    kept the state and not every log, so a count of 0 is not itself a defect)."""
    w3 = Web3(Web3.HTTPProvider(node_url))

    def contract(name: str, address: str) -> Any:
        # CredentialIssued is anonymous: found by its topic count (chain.logs).
        abi = list(load_artifact(name).abi)
        return with_anonymous_events(w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi))

    consent = contract("ConsentRegistry", deployment["consent"])
    registry = contract("CredentialRegistry", deployment["registry"])
    audit = contract("AuditAnchor", deployment["audit"])
    active = {g for g, status in db["grants"].items() if status == "active"}
    return {
        "inactive": [g for g in active if not consent.functions.isGrantActive(g).call()],
        "unissued": [r for r in db["roots"] if registry.functions.rootStatus(r).call()[1] == 0],
        "grants": Counter(
            "0x" + bytes(e["args"]["grantId"]).hex() for e in consent.events.GrantCreated().get_logs(from_block=0)
        ),
        "roots": Counter(
            "0x" + bytes(e["args"]["root"]).hex() for e in registry.events.CredentialIssued().get_logs(from_block=0)
        ),
        "heads": Counter(str(e["args"]["treeSize"]) for e in audit.events.TreeHeadAnchored().get_logs(from_block=0)),
    }


def check(outcome: Outcome, db: dict[str, Any], chain: dict[str, Any], long_grant: str) -> list[str]:
    """Everything that went wrong; empty when nothing did."""
    wrong = list(outcome.problems) + [f"hung: {h}" for h in outcome.hangs]
    for g in outcome.grants:
        if db["grants"].get(g) != "active":
            wrong.append(f"grant {g} answered 201 is {db['grants'].get(g)!r}")
    wrong += [f"grant {g} is active in the vault, not on chain" for g in chain["inactive"]]
    wrong += [f"grant {g} was written on chain {n} times" for g, n in chain["grants"].items() if n > 1]
    for r in outcome.records:
        if db["records"].get(r) != "anchored":
            wrong.append(f"record {r} answered 201 is {db['records'].get(r)!r}")
    wrong += [f"root {r} is anchored in the vault, not on chain" for r in chain["unissued"]]
    wrong += [f"root {r} was issued on chain {n} times" for r, n in chain["roots"].items() if n > 1]
    twice = [size for size, n in chain["heads"].items() if n > 1]
    if twice:
        wrong.append(f"tree heads anchored twice: {twice}")
    if db["failed"]:
        wrong.append(f"{db['failed']} chain writes failed")
    used = db["used"].get(long_grant, 0)
    if used != db["uses"][long_grant]:
        wrong.append(f"{db['uses'][long_grant]} uses counted but {used} in the access log")
    if used < outcome.reads:
        wrong.append(f"{outcome.reads} reads answered 200 but {used} in the access log")
    return wrong


def verify_body(key: SigningKey, prepared: dict[str, Any], **changes: Any) -> bytes:
    """The body of `POST /presentations/verify`: the presentation `POST /me/presentations`
    prepared, with ``changes`` (a fresh nonce, new times), signed by the holder's ``key`` as
    its phone would sign it."""
    d = prepared["typed_data"]["domain"]
    domain = CredentialDomain(int(d["chainId"]), d["verifyingContract"])
    p = dataclasses.replace(codec.decode(prepared["unsigned"]), **changes)
    signature = key.sign_typed_data(presentation_typed_data(domain, p))
    return json.dumps({"text": codec.encode(p.signed(bytes.fromhex(signature[2:])))}).encode()
