"""The scale curve (issue 12): per-operation cost on indexed paths at 10k, 100k, 1M and 10M records.

Grows ONE PostgreSQL database (scripts/postgres.sh on its own port, DATAVAULT_PG_PORT, default
here 55441) to each size in ``--sizes`` in turn and, at each size, times what a citizen, a
department and the registrar do, through the real API in-process over ASGI (the test harness,
tests/support/harness.py, on the in-process chain), each as the median of ``--repeat`` requests
(after two untimed ones), the operations taking turns:

- ``GET /me/records``: a citizen's record list, first page (default limit);
- ``GET /me/records/{id}``: one of its records by id;
- ``POST /grants/{id}/read``: a department's read through the citizen's grant;
- ``POST /subjects/find``: the registrar finding the citizen by ID number;
- ``GET /me/access-log``: who accessed the citizen's data, first page, with inclusion proofs;
- ``POST /records``: a department issuing one record (a write into the grown indexes).

The rows those operations touch are real, made through the API: two departments, three
citizens with 40 records each, a grant. The bulk of the records are filler rows inserted with
SQL (``INSERT ... SELECT FROM generate_series``, in chunks), shaped like real ones: every column
filled, byte columns as long as a real record's sealed key and body, a unique credential hash,
anchored in filler batches of 1,000 with a 10-hash proof, spread over filler subjects
(``--per-subject`` records each; their rows have a real subject's column lengths). Filler rows
are never decrypted, so they need no real keys. The access log is not filled: it holds the
entries of the real operations only (a filler entry needs its Merkle tree nodes).

Each size's growth is bounded: ``--budget`` minutes of wall time for all the growing; a size
that cannot be reached within it (judged from the rows per second so far) is not started, and
the table says where it stopped. Prints a Markdown table and writes it, with how the data was
made, to bench/SCALE.md, and draws bench/scale_curve.png.

    .venv/bin/python bench/scale_curve.py [--sizes 10000,100000,1000000,10000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.harness import YEAR, Actor, Harness, open_harness
from vault import clock
from vault.accounts.identifiers import resident_id_check

OUT_MD = ROOT / "bench" / "SCALE.md"
OUT_PNG = ROOT / "bench" / "scale_curve.png"
PG_PORT = os.environ.get("DATAVAULT_PG_PORT", "55441")
REAL_CITIZENS = 3
REAL_RECORDS_EACH = 40
CHUNK = 250_000  # filler rows per INSERT statement
BATCH = 1_000  # filler records per filler anchor batch

OPS = [
    ("list", "record list, first page (`GET /me/records`)"),
    ("one", "one record by id (`GET /me/records/{id}`)"),
    ("read", "department read through a grant (`POST /grants/{id}/read`)"),
    ("find", "find a subject by ID number (`POST /subjects/find`)"),
    ("log", "access log, first page (`GET /me/access-log`)"),
    ("issue", "issue one record (`POST /records`)"),
]


def citizen_id(n: int) -> str:
    first17 = f"3301021985{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n // 336 % 1000:03d}"
    return first17 + resident_id_check(first17)


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, (r.request.url, r.status_code, r.text[:500])
    return r.json()


@dataclass
class World:
    gongan: Actor
    renshe: Actor
    citizens: list[Actor]
    identifiers: list[str]
    record_id: str
    grant_id: str


@dataclass
class Step:
    size: int  # records in the database when measured
    subjects: int
    build_seconds: float  # growing to this size (filler insert + VACUUM ANALYZE)
    ms: dict[str, float] = field(default_factory=dict)
    db_bytes: int = 0


async def seed(h: Harness) -> World:
    gongan = await h.department("gongan", roles=["issuer", "verifier", "registrar"])
    renshe = await h.department("renshe", roles=["data_user"])
    citizens, identifiers = [], []
    until = clock.now() + YEAR
    for i in range(REAL_CITIZENS):
        identifier = citizen_id(i)
        citizens.append(await h.subject(gongan, identifier=identifier, name=f"市民{i}"))
        identifiers.append(identifier)
        items = [
            {
                "subject": {"kind": "citizen", "identifier": identifier},
                "type": "licence" if n % 4 == 0 else "certificate",
                "title": "机动车驾驶证" if n % 4 == 0 else "无犯罪记录证明",
                "fields": {"姓名": f"市民{i}", "准驾车型": "C1", "编号": f"NCR-{i}-{n:04d}", "出具单位": "市公安局"},
                "valid_until": until,
            }
            for n in range(REAL_RECORDS_EACH)
        ]
        ok(await h.http.post("/records/bulk", json={"items": items}, headers=gongan.headers, timeout=600), 201)
    await h.settle()
    me = citizens[0]
    page = ok(await h.http.get("/me/records", headers=me.headers))
    record_id = page["records"][0]["id"]
    terms = {
        "grantee": "renshe",
        "record_types": ["licence"],
        "fields": ["姓名", "准驾车型"],
        "purpose_code": 101,
        "purpose": "核验驾驶资格",
        "expires_at": clock.now() + 30 * 86400,
        "max_uses": 1_000_000,
    }
    typed = ok(await h.http.post("/me/grants/prepare", json=terms, headers=me.headers))["typed_data"]
    signed = {"message": typed["message"], "signature": me.key.sign_typed_data(typed)}
    grant = ok(await h.http.post("/me/grants", json=signed, headers=me.headers), 201)
    await h.settle()
    ok(await h.http.post(f"/grants/{grant['id']}/read", json={}, headers=renshe.headers))
    await sign_head(h)
    return World(gongan, renshe, citizens, identifiers, record_id, grant["id"])


async def sign_head(h: Harness) -> None:
    """Sequence the queued access-log entries, sign a head and anchor it, so that the access
    log's entries come with proofs, as on a vault that signs heads every few minutes."""
    await h.settle()
    await h.vault.sequencer.sign_head(clock.now())
    await h.settle()


def operations(h: Harness, w: World) -> dict[str, Callable[[], Awaitable[None]]]:
    me = w.citizens[0]
    until = clock.now() + YEAR
    issued = [0]

    async def list_page() -> None:
        body = ok(await h.http.get("/me/records", headers=me.headers))
        assert body["records"], body

    async def one() -> None:
        ok(await h.http.get(f"/me/records/{w.record_id}", headers=me.headers))

    async def read() -> None:
        ok(await h.http.post(f"/grants/{w.grant_id}/read", json={}, headers=w.renshe.headers))

    async def find() -> None:
        body = {"kind": "citizen", "identifier": w.identifiers[0]}
        ok(await h.http.post("/subjects/find", json=body, headers=w.gongan.headers))

    async def log() -> None:
        body = ok(await h.http.get("/me/access-log", headers=me.headers))
        assert body["entries"], body

    async def issue() -> None:
        issued[0] += 1
        subject = w.identifiers[1 + issued[0] % (len(w.identifiers) - 1)]  # not the citizen whose list is timed
        body = {
            "subject": {"kind": "citizen", "identifier": subject},
            "type": "certificate",
            "title": "无犯罪记录证明",
            "fields": {"编号": f"SCALE-{time.time_ns()}", "结论": "无犯罪记录"},
            "valid_until": until,
        }
        ok(await h.http.post("/records", json=body, headers=w.gongan.headers), 201)

    return {"list": list_page, "one": one, "read": read, "find": find, "log": log, "issue": issue}


async def measure(h: Harness, w: World, repeat: int) -> dict[str, float]:
    for actor in (w.gongan, w.renshe, w.citizens[0]):  # a session token lasts less than growing 10M rows
        await h.login(actor)
    ops = operations(h, w)
    times: dict[str, list[float]] = {k: [] for k in ops}
    for i in range(repeat + 2):
        for name, op in ops.items():
            started = time.perf_counter()
            await op()
            if i >= 2:  # two untimed rounds first
                times[name].append(time.perf_counter() - started)
    await sign_head(h)  # anchors the issued records and the new access-log entries
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


# -- filler rows ------------------------------------------------------------------------------


def filler_bytes(salt: str, length: int) -> str:
    """SQL for ``length`` bytes that look random, from one SHA-256 of the row number ``g``."""
    reps = length // 32 + 1
    one = f"encode(sha256(('{salt}' || g)::bytea), 'hex')"
    return f"substring(decode(repeat({one}, {reps}), 'hex') from 1 for {length})"


def subject_id_sql(expr: str) -> str:
    return f"'0x' || encode(sha256(('filler-subject-' || ({expr}))::bytea), 'hex')"


@dataclass
class Shapes:
    profile_key: int
    profile: int
    wrapped_key: int
    body: int
    valid_from: int
    valid_until: int


async def shapes(conn: asyncpg.Connection) -> Shapes:
    s = await conn.fetchrow("SELECT length(profile_key) AS k, length(profile) AS p FROM subjects LIMIT 1")
    r = await conn.fetchrow(
        "SELECT length(wrapped_key) AS k, length(body) AS b, valid_from, valid_until FROM records LIMIT 1"
    )
    return Shapes(s["k"], s["p"], r["k"], r["b"], r["valid_from"], r["valid_until"])


def free_gib() -> float:
    """Free space where scripts/postgres.sh keeps its cluster (TMPDIR)."""
    return shutil.disk_usage(tempfile.gettempdir()).free / 2**30


async def fill(
    conn: asyncpg.Connection, sh: Shapes, have: int, want: int, per_subject: int, deadline: float, min_free: float
) -> tuple[int, str]:
    """Filler records ``have`` .. ``want`` - 1 (their row numbers), with their subjects and
    batches; returns how many filler records there are when done and, if that is less than
    ``want``, why (the deadline passed, or the disk was nearly full)."""
    now = clock.now()
    while have < want:
        if time.monotonic() > deadline:
            return have, "the time budget ran out"
        if free_gib() < min_free:
            return have, f"less than {min_free:g} GiB of disk was left"
        hi = min(have + CHUNK, want)
        started = time.perf_counter()
        async with conn.transaction():
            # Subjects and batches whose first record is in this chunk.
            await conn.execute(
                f"""INSERT INTO subjects (id, kind, auth_address, profile_key, profile, created_at, registered_by)
                SELECT {subject_id_sql("g")}, 'citizen',
                       '0x' || substr(encode(sha256(('filler-address-' || g)::bytea), 'hex'), 1, 40),
                       {filler_bytes("filler-profile-key-", sh.profile_key)},
                       {filler_bytes("filler-profile-", sh.profile)}, {now} - 86400, 'gongan'
                FROM generate_series(($1::bigint + {per_subject} - 1) / {per_subject},
                                     ($2::bigint - 1) / {per_subject}) AS g""",
                have,
                hi,
            )
            await conn.execute(
                f"""INSERT INTO anchor_batches (root, issuer_code, size, valid_from, valid_until, status, tx_hash,
                                                block_number, created_at, issuer_signature)
                SELECT '0x' || encode(sha256(('filler-batch-' || g)::bytea), 'hex'), 'gongan', {BATCH},
                       {sh.valid_from}, {sh.valid_until}, 'anchored',
                       '0x' || encode(sha256(('filler-tx-' || g)::bytea), 'hex'), g + 1, {now} - 86400,
                       '0x' || repeat(encode(sha256(('filler-sig-' || g)::bytea), 'hex'), 2) || '1b'
                FROM generate_series(($1::bigint + {BATCH} - 1) / {BATCH}, ($2::bigint - 1) / {BATCH}) AS g""",
                have,
                hi,
            )
            hash_hex = "encode(sha256(('filler-proof-' || g)::bytea), 'hex')"
            await conn.execute(
                f"""INSERT INTO records (id, version, subject_id, type, issuer_code, wrapped_key, body,
                                         credential_hash, valid_from, valid_until, status, batch_root, proof,
                                         status_reason, created_at, status_index)
                SELECT md5('filler-record-' || g)::uuid::text, 1, {subject_id_sql(f"g / {per_subject}")},
                       (ARRAY['licence', 'certificate', 'data'])[1 + g % 3], 'gongan',
                       {filler_bytes("filler-key-", sh.wrapped_key)}, {filler_bytes("filler-body-", sh.body)},
                       '0x' || encode(sha256(('filler-credential-' || g)::bytea), 'hex'),
                       {sh.valid_from}, {sh.valid_until}, 'anchored',
                       '0x' || encode(sha256(('filler-batch-' || (g / {BATCH}))::bytea), 'hex'),
                       '["0x' || repeat({hash_hex} || '", "0x', 9) || {hash_hex} || '"]',
                       NULL, {now} - 86400 - ($2::bigint - g), NULL
                FROM generate_series($1::bigint, $2::bigint - 1) AS g""",
                have,
                hi,
            )
        have = hi
        print(f"    filler records {have:>12,}  ({CHUNK / (time.perf_counter() - started):,.0f} rows/s)", flush=True)
    return have, ""


# -- the run -----------------------------------------------------------------------------------


def postgres(action: str) -> str:
    env = {**os.environ, "DATAVAULT_PG_PORT": PG_PORT}
    out = subprocess.run([str(ROOT / "scripts/postgres.sh"), action], env=env, check=True, capture_output=True)
    return out.stdout.decode().strip()


async def run(
    url: str,
    sizes: list[int],
    repeat: int,
    per_subject: int,
    budget: float,
    min_free: float,
    steps: list[Step],
    done: Callable[[list[Step], str], None],
) -> str:
    """Grows and measures, appending to ``steps`` and calling ``done`` after each size (so
    that what was measured is written even if a later size fails); returns why it stopped early."""
    note = ""
    deadline = time.monotonic() + budget * 60
    with tempfile.TemporaryDirectory(prefix="scale-curve-") as tmp:
        h = await open_harness(Path(tmp), chain="inprocess", database_url=url)
        conn = await asyncpg.connect(url)
        try:
            t0 = time.perf_counter()
            w = await seed(h)
            print(f"  seeded through the API in {time.perf_counter() - t0:.1f} s", flush=True)
            sh = await shapes(conn)
            filler, rate = 0, 0.0
            for size in sizes:
                real = int(await conn.fetchval("SELECT count(*) FROM records")) - filler
                want = max(0, size - real)
                left = deadline - time.monotonic()
                if rate and (want - filler) / rate > left:
                    note = (
                        f"{size:,} records not attempted: at {rate:,.0f} filler rows/s it would take about "
                        f"{(want - filler) / rate / 60:.0f} min to grow there, {left / 60:.0f} min of the "
                        f"{budget:g} min budget were left"
                    )
                    print("  " + note, flush=True)
                    return note
                print(f"  growing to {size:,} records", flush=True)
                t0 = time.perf_counter()
                grown, why = await fill(conn, sh, filler, want, per_subject, deadline, min_free)
                fill_s = time.perf_counter() - t0
                if grown > filler:
                    rate = (grown - filler) / fill_s
                filler = grown
                await conn.execute("VACUUM ANALYZE records")
                await conn.execute("VACUUM ANALYZE subjects")
                await conn.execute("VACUUM ANALYZE anchor_batches")
                build = time.perf_counter() - t0
                total = int(await conn.fetchval("SELECT count(*) FROM records"))
                subjects = int(await conn.fetchval("SELECT count(*) FROM subjects"))
                if grown < want:
                    note = (
                        f"{size:,} records not reached: {why} (of {budget:g} min) at {total:,} records "
                        f"({rate:,.0f} filler rows/s)"
                    )
                    print("  " + note, flush=True)
                    return note
                step = Step(total, subjects, build)
                step.db_bytes = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
                step.ms = await measure(h, w, repeat)
                steps.append(step)
                done(steps, "")
                print(
                    f"  {total:,} records, {subjects:,} subjects, built in {build:.0f} s, "
                    f"database {step.db_bytes / 2**30:.2f} GiB: "
                    + ", ".join(f"{k} {v:.1f} ms" for k, v in step.ms.items()),
                    flush=True,
                )
        finally:
            await conn.close()
            await h.close()
    return note


def markdown(args: argparse.Namespace, steps: list[Step], note: str, load: str, wall: float) -> str:
    command = (
        f"`DATAVAULT_PG_PORT={PG_PORT} .venv/bin/python bench/scale_curve.py --sizes {args.sizes} "
        f"--repeat {args.repeat} --per-subject {args.per_subject} --budget {args.budget:g}`"
    )
    lines = [
        f"{command}: PostgreSQL (scripts/postgres.sh: fsync off, default shared_buffers), the API "
        f"in-process over ASGI on the in-process chain, one process; median of {args.repeat} requests per "
        f"operation and size, after two untimed rounds ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {load} at the end; {wall / 60:.0f} min in all).",
        "",
        "Median ms per operation: "
        + "; ".join(f"**{k}**: {d}" for k, d in OPS)
        + ". *Built in*: the wall time to grow from the size before (filler insert, then VACUUM ANALYZE).",
        "",
        "| records | subjects | built in | database | " + " | ".join(k for k, _ in OPS) + " |",
        "| ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in OPS) + " |",
    ]
    for s in steps:
        cells = " | ".join(f"{s.ms[k]:.1f}" for k, _ in OPS)
        lines.append(
            f"| {s.size:,} | {s.subjects:,} | {s.build_seconds:.0f} s | {s.db_bytes / 2**30:.2f} GiB | {cells} |"
        )
    if note:
        lines += ["", f"Stopped: {note}."]
    return "\n".join(lines) + "\n"


def plot(steps: list[Step], note: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=90)
    xs = [s.size for s in steps]
    for key, label in OPS:
        ax.plot(xs, [s.ms[key] for s in steps], marker="o", label=label.replace("`", ""))
    ax.set_xscale("log")
    ax.set_xlabel("records in the database (PostgreSQL)")
    ax.set_ylabel("median ms per operation")
    ax.set_ylim(bottom=0)
    ax.set_title("Per-operation cost as the vault grows" + (" (stopped early)" if note else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(OUT_PNG, pil_kwargs={"optimize": True})
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000,10000000", help="records, ascending, comma-separated")
    p.add_argument("--repeat", type=int, default=15, help="timed requests per operation and size")
    p.add_argument("--per-subject", type=int, default=10, help="filler records per filler subject")
    p.add_argument("--budget", type=float, default=40, help="minutes of wall time for growing the database")
    p.add_argument("--min-free", type=float, default=4, help="GiB of disk to leave free; growing stops there")
    p.add_argument("--no-write", action="store_true", help=f"print only; leave {OUT_MD.name} and the plot alone")
    args = p.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if not sizes or sizes[0] < 1_000:
        p.error("sizes must be at least 1,000")
    started = time.perf_counter()
    url = postgres("start")
    print(f"PostgreSQL on port {PG_PORT}", flush=True)
    try:
        steps: list[Step] = []
        done = lambda so_far, note: write(args, so_far, note, started, show=False)
        note = asyncio.run(run(url, sizes, args.repeat, args.per_subject, args.budget, args.min_free, steps, done))
    finally:
        postgres("stop")
    write(args, steps, note, started, show=True)


def write(args: argparse.Namespace, steps: list[Step], note: str, started: float, *, show: bool) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    text = markdown(args, steps, note, load, time.perf_counter() - started)
    if show:
        print(text)
    if not args.no_write and steps:
        doc = OUT_MD.read_text(encoding="utf-8") if OUT_MD.exists() else ""
        begin, end = "<!-- scale_curve.py: begin -->", "<!-- scale_curve.py: end -->"
        if begin in doc:
            head, _, rest = doc.partition(begin)
            _, _, tail = rest.partition(end)
            OUT_MD.write_text(f"{head}{begin}\n{text}{end}{tail}", encoding="utf-8")
        else:
            OUT_MD.write_text(f"# Scale curve\n\n{begin}\n{text}{end}\n", encoding="utf-8")
        plot(steps, note)


if __name__ == "__main__":
    main()
