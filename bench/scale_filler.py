"""The scale curve's filler rows (bench/scale_curve.py): records shaped like real ones,
inserted with SQL in chunks, so that the database grows to millions in minutes."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vault import clock

CHUNK = 250_000  # filler rows per INSERT statement
BATCH = 1_000  # filler records per filler anchor batch


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
