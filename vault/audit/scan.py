"""One streaming pass over the stored access log, for ``vault.audit.verify``.

Reads ``audit_entries`` in position order (the ``seq`` column), a chunk at a time, and for
each row recomputes its leaf hash from its JSON and checks its MAC. The MAC binds the leaf,
and through the JSON's ``"seq"`` the position the entry was written at, so a row whose MAC
verifies is an *authentic* entry, wherever it now sits. Meanwhile it rebuilds the tree over
the rows as stored (a ``CompactRange``: O(log n) memory), keeps its root at each size asked
for and the nodes a consistency proof will need, and compares every stored subtree node with
the recomputed one.

Memory is O(log n) for the tree plus what is unusual: rows that are not an authentic entry
in its own place, and runs of missing positions. ``entry_findings`` then says what happened
to each position.
"""

from __future__ import annotations

import bisect
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vault.audit.macs import EntryMacs
from vault.audit.tree import CompactRange, NodeId, leaf_hash
from vault.db.audit import AuditEntry, AuditNode

CHUNK = 2_000
# The columns the sequencer copies out of the entry so that auditors can search by them:
# altering one hides an access from a search without touching the entry, so they are checked.
INDEXED = ("at", "action", "outcome", "actor_role", "actor", "official", "subject_id", "grant_id", "request_id")

# (kind, seq, detail): what ``vault.audit.verify`` turns into a ``Finding``.
Raw = tuple[str, int | None, str]


@dataclass
class Odd:
    """A stored row that is not an intact, authentic entry at its own position."""

    claimed: int | None  # the "seq" its JSON claims, if it has one
    authentic: bool  # its MAC verifies (the JSON is exactly what the sequencer wrote)
    problems: list[str]  # derived columns that no longer match the JSON


@dataclass
class Scan:
    key: EntryMacs
    targets: set[int]  # tree sizes whose recomputed root is wanted
    needed: set[NodeId]  # recomputed nodes to keep (for consistency proofs)
    tree: CompactRange = field(default_factory=CompactRange)
    roots: dict[int, bytes] = field(default_factory=dict)
    nodes: dict[NodeId, bytes] = field(default_factory=dict)
    rows: int = 0
    bound: int = 0  # last stored position + 1: the size the log claims
    top: int = 0  # highest seq an authentic entry claims + 1: the log held at least this many
    gaps: list[tuple[int, int]] = field(default_factory=list)  # [start, end) with no row
    odd: dict[int, Odd] = field(default_factory=dict)
    misplaced: dict[int, list[int]] = field(default_factory=dict)  # claimed seq -> positions
    outside: list[int] = field(default_factory=list)  # rows at negative positions
    node_errors: int = 0
    first_node_error: NodeId | None = None

    def add(
        self, position: int, entry: str, stored_leaf: bytes, mac: bytes, row: Any, computed: dict[NodeId, bytes]
    ) -> None:
        leaf = leaf_hash(entry.encode())
        # Either suite's MAC: the MAC's own form says which (vault.audit.macs).
        authentic = self.key.check(leaf, mac)
        document: Any = None
        with contextlib.suppress(ValueError):
            document = json.loads(entry)
        claimed = document.get("seq") if isinstance(document, dict) else None
        if not isinstance(claimed, int) or isinstance(claimed, bool):
            claimed, authentic = None, False  # the sequencer never wrote an entry without one
        problems = [] if stored_leaf == leaf else ["its stored leaf hash is not the hash of its JSON"]
        if authentic:
            problems += [
                f"its indexed column {c!r} differs from the entry"
                for c in INDEXED
                if getattr(row, c) != document.get(c)
            ]
        if authentic and claimed is not None:
            self.top = max(self.top, claimed + 1)
        if position < 0:
            self.outside.append(position)
        else:
            if position > self.bound:
                self.gaps.append((self.bound, position))
            self.bound = position + 1
            if not (authentic and claimed == position and not problems):
                self.odd[position] = Odd(claimed, authentic, problems)
            if authentic and claimed is not None and claimed != position:
                self.misplaced.setdefault(claimed, []).append(position)
        self._append(leaf, computed)

    def _append(self, leaf: bytes, computed: dict[NodeId, bytes]) -> None:
        index = self.tree.size
        for level, value in enumerate(self.tree.append(leaf)):
            node = (level, index >> level)
            if level:
                computed[node] = value
            if node in self.needed:
                self.nodes[node] = value
        self.rows += 1
        if self.rows in self.targets:
            self.roots[self.rows] = self.tree.root()

    async def check_nodes(self, session: AsyncSession, computed: dict[NodeId, bytes]) -> None:
        """Compare the nodes this chunk completed with the stored ones (one query)."""
        if not computed:
            return
        spans: dict[int, tuple[int, int]] = {}
        for level, index in computed:
            lo, hi = spans.get(level, (index, index))
            spans[level] = (min(lo, index), max(hi, index))
        where = or_(*(and_(AuditNode.level == lv, AuditNode.idx.between(lo, hi)) for lv, (lo, hi) in spans.items()))
        stored = {
            (int(lv), int(ix)): bytes(h)
            for lv, ix, h in await session.execute(select(AuditNode.level, AuditNode.idx, AuditNode.hash).where(where))
        }
        for node, value in computed.items():
            if stored.get(node) != value:
                self.node_errors += 1
                if self.first_node_error is None:
                    self.first_node_error = node


async def scan(
    sessions: async_sessionmaker[AsyncSession],
    key: EntryMacs,
    *,
    upto: int,
    targets: set[int],
    needed: set[NodeId],
    chunk: int = CHUNK,
) -> Scan:
    """Stream the rows at positions below ``upto`` (the log's size when verification began)."""
    state = Scan(key=key, targets=targets, needed=needed)
    columns = [getattr(AuditEntry, c) for c in INDEXED]
    last: int | None = None
    while True:
        query = select(AuditEntry.seq, AuditEntry.entry, AuditEntry.leaf_hash, AuditEntry.mac, *columns)
        query = query.where(AuditEntry.seq < upto).order_by(AuditEntry.seq).limit(chunk)
        if last is not None:
            query = query.where(AuditEntry.seq > last)
        async with sessions() as session:
            rows = list(await session.execute(query))
            computed: dict[NodeId, bytes] = {}
            for row in rows:
                state.add(int(row.seq), row.entry, bytes(row.leaf_hash), bytes(row.mac), row, computed)
            await state.check_nodes(session, computed)
        if len(rows) < chunk:
            return state
        last = int(rows[-1].seq)


def _span(start: int, end: int) -> str:
    return f"entry {start}" if end - start == 1 else f"entries {start} to {end - 1} ({end - start} entries)"


def entry_findings(s: Scan, covered: int) -> list[Raw]:
    """What happened to each position, given that signed or anchored heads cover the first
    ``covered`` entries. One finding per row, except deletions: one per run of positions.

    A position is known to have held an entry if a head covers it or an authentic entry
    with a higher seq exists (seqs are given contiguously); only those can be deleted.
    """
    known = max(covered, s.top)

    def in_gap(q: int) -> bool:
        i = bisect.bisect_right(s.gaps, (q, 2**63)) - 1
        return i >= 0 and s.gaps[i][0] <= q < s.gaps[i][1]

    def here(c: int) -> bool:  # an authentic entry c stored at position c
        odd = s.odd.get(c)
        if odd is not None:
            return odd.authentic and odd.claimed == c
        return 0 <= c < s.bound and not in_gap(c)

    def holder(c: int) -> str:
        return f"position {c}" if here(c) else f"position {s.misplaced[c][0]}"

    found: list[Raw] = [("inserted", p, f"a row was added at position {p}, outside the log") for p in s.outside]
    modified: set[int] = set()
    for p, odd in sorted(s.odd.items()):
        if odd.authentic:
            if odd.problems:
                found.append(("modified", p, f"entry {p} was altered: " + "; ".join(odd.problems)))
                modified.add(p)
        elif odd.claimed is not None and (here(odd.claimed) or odd.claimed in s.misplaced):
            c = odd.claimed
            detail = (
                f"position {p} holds a forged row claiming to be entry {c}: its MAC does not verify, "
                f"and the authentic entry {c} is at {holder(c)}"
            )
            found.append(("inserted", p, detail))
        else:
            found.append(("modified", p, f"entry {p} was altered: its MAC does not verify over its content"))
            modified.add(p)
    for c, positions in sorted(s.misplaced.items()):
        copies = positions if here(c) else positions[1:]
        if not here(c):
            found.append(("reordered", c, f"entry {c} is authentic but stored at position {positions[0]}"))
        found += [("inserted", p, f"position {p} holds a copy of entry {c}, which is at {holder(c)}") for p in copies]

    # Deleted: positions below the expected size that no authentic entry claims and whose
    # row (if any) is not simply a modified version of the entry.
    claimed = sorted(s.misplaced)
    candidates = [*s.gaps, (s.bound, known), *((p, p + 1) for p in s.odd)]
    missing: list[tuple[int, int]] = []
    for start, end in sorted(candidates):
        end = min(end, known)
        cut = start
        for c in claimed[bisect.bisect_left(claimed, start) : bisect.bisect_left(claimed, end)]:
            if cut < c:
                missing.append((cut, c))
            cut = c + 1
        if cut < end:
            missing.append((cut, end))
    runs: list[list[int]] = []
    for start, end in missing:
        if end - start == 1 and (start in modified or here(start)):
            continue
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    for start, end in runs:
        verb = "is" if end - start == 1 else "are"
        beyond = f"; the log now ends at {s.bound} entries but held at least {known}" if end > s.bound else ""
        found.append(("deleted", start, f"{_span(start, end)} {verb} missing from the log{beyond}"))
    return sorted(found, key=_order)


def _order(finding: Raw) -> tuple[int, str]:
    return (-1 if finding[1] is None else finding[1], finding[0])
