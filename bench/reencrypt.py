"""Re-encryption throughput (issue 14): a vault of ``--subjects`` subjects with ``--records``
records each (1 KiB bodies) moved from intl to sm and back by the background job
(``vault.reencryption``), in process (SQLite, the tests' harness), one transaction per subject.
Reported per direction: subjects/s and record bodies/s of the moving pass alone and of the
whole run (moving, then the sweep that destroys the old keys and rewraps the keystore), the
median of ``--rounds`` rounds. Appends its table to bench/CRYPTO_SUITES.md.

    .venv/bin/python bench/reencrypt.py [--subjects 200] [--records 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.routes.crypto import job_of
from keys import SigningKey, Suite, seal
from tests.support.harness import Harness, open_harness
from vault import keyring
from vault.db.models import Record, Subject

MARK = "<!-- bench/reencrypt.py -->"


async def fill(h: Harness, subjects: int, records: int) -> None:
    """Subjects and sealed records written straight into the database (the API would take
    minutes to issue them; the job reads only what is sealed)."""
    await h.department("gongan")
    now = int(time.time())
    body = json.dumps({"fields": {"姓名": "张三", "备注": "x" * 900}}, ensure_ascii=False).encode()
    index = 10_000_000
    ctx = h.vault.ctx
    async with ctx.sessions.begin() as session:
        for _ in range(subjects):
            sid = "0x" + os.urandom(32).hex()
            subject = Subject(
                id=sid,
                kind="citizen",
                auth_address=SigningKey.generate().address,
                profile_key=b"",
                profile=b"",
                created_at=now,
            )
            session.add(subject)
            await session.flush()
            kek = await keyring.create_first_key(session, ctx.master, sid, now, ctx.suite)
            profile = seal(b'{"name": "bench"}', keyring.profile_aad(sid), kek)
            subject.profile_key, subject.profile = profile.wrapped_key, profile.body
            for _ in range(records):
                rid = str(uuid.uuid4())
                sealed = seal(body, keyring.record_aad(sid, rid, 1), kek)
                index += 1
                session.add(
                    Record(
                        id=rid,
                        version=1,
                        subject_id=sid,
                        type="licence",
                        issuer_code="gongan",
                        wrapped_key=sealed.wrapped_key,
                        body=sealed.body,
                        credential_hash="0x" + os.urandom(32).hex(),
                        valid_from=now,
                        valid_until=now + 86_400,
                        status="anchored",
                        created_at=now,
                        status_index=index,
                    )
                )
            await session.flush()


async def move(h: Harness, target: Suite) -> tuple[float, float]:
    """(seconds of the moving pass, seconds of the whole run) of one move to ``target``."""
    job = job_of(h.app)
    now = int(time.time())
    await job.start(target, now)
    started = time.perf_counter()
    await job.run_once(now)  # the moving pass, then the phase change to sweeping
    moved = time.perf_counter() - started
    await job.run_once(now + job.grace + 1)  # the sweep and the finish
    total = time.perf_counter() - started
    report = await job.report()
    assert report.suite is target and report.migration is not None and report.migration.last_error is None
    return moved, total


async def bench(subjects: int, records: int, rounds: int) -> dict[Suite, list[tuple[float, float]]]:
    os.environ.pop("DATAVAULT_CRYPTO", None)
    times: dict[Suite, list[tuple[float, float]]] = {Suite.SM: [], Suite.INTL: []}
    with tempfile.TemporaryDirectory() as tmp:
        h = await open_harness(Path(tmp))
        try:
            await fill(h, subjects, records)
            for _ in range(rounds):
                for target in (Suite.SM, Suite.INTL):
                    times[target].append(await move(h, target))
        finally:
            await h.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--records", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times = asyncio.run(bench(args.subjects, args.records, args.rounds))
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    n, r = args.subjects, args.subjects * args.records
    lines = [
        MARK,
        "## Re-encryption of a running vault",
        "",
        f"`bench/reencrypt.py`: {n} subjects × {args.records} records (1 KiB bodies) moved by the background",
        "job, one transaction per subject: a KEK of the target suite, every data key rewrapped, every",
        "body resealed; the whole run adds the sweep (old KEK versions destroyed, keystore rewrapped).",
        f"SQLite, in process. Median of {args.rounds} rounds. Load average while measuring: {load_avg}.",
        "",
        "| move | moving pass: subjects/s | records/s | whole run: subjects/s | records/s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for target, label in ((Suite.SM, "intl -> sm"), (Suite.INTL, "sm -> intl")):
        moved = statistics.median(t[0] for t in times[target])
        total = statistics.median(t[1] for t in times[target])
        lines.append(f"| {label} | {n / moved:.0f} | {r / moved:.0f} | {n / total:.0f} | {r / total:.0f} |")
    lines += [
        "",
        f"    .venv/bin/python bench/reencrypt.py --subjects {n} --records {args.records} --rounds {args.rounds}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    path = ROOT / "bench" / "CRYPTO_SUITES.md"
    kept = path.read_text().split(MARK)[0].rstrip("\n")
    path.write_text(kept + "\n\n" + text)


if __name__ == "__main__":
    main()
