"""Proving the access log complete and untampered: recompute it from its stored entries and
compare with the signed tree heads and the heads anchored on chain.

A run streams every entry (``vault.audit.scan``): the leaf hash is recomputed from the
entry's JSON and its MAC checked (the MAC binds the leaf, and through the JSON's ``"seq"`` the
position the entry was written at), the tree is rebuilt over the rows as stored, and then:

- every signed head (``audit_heads``): its signature must be the log key's, its SM2 signature
  (sm suite) the log's SM2 key's, and its root the recomputed root at its size
  (``bad_head_signature``, ``head_mismatch``);
- every head anchored on chain (``AuditAnchorClient.heads``, the constructor's empty tree
  left out): its root must be the recomputed root at its size (``anchor_mismatch``). This is
  what catches a rewrite by someone holding the keys: they can recompute MACs, nodes and
  signatures into a new self-consistent tree, but not change what the chain recorded;
- consecutive anchored heads must be consistent (RFC 9162 consistency proof built from the
  recomputed tree): when the tree reproduces the later head but the proof fails, the earlier
  anchored head is not a prefix of it and the chain's history forked (``inconsistent_anchors``);
- a head the database records as anchored must be on chain (``unanchored``).

Until a head is anchored on chain nothing is proven: whoever holds the vault's keys could have
rewritten the entries, nodes and signed heads consistently. Such a run reports no findings but
is not ``ok``: its ``status`` is ``nothing_anchored`` (``verified`` and ``findings`` otherwise).

Entry findings say exactly which positions: ``modified`` (MAC fails over the content, or a
derived column no longer matches the JSON), ``deleted`` (no authentic entry claims the
position: a gap, or fewer entries than a head covers; one finding per run, ``seq`` its first
position), ``inserted`` (a forged row claiming the seq of an authentic entry, or a second copy
of one; ``seq`` is the row's position), ``reordered`` (an authentic entry stored at a position
other than its seq; ``seq`` is the entry's). Stored subtree nodes that disagree with intact
entries (proofs served from them would not verify) are reported as ``modified`` with no seq.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import asdict, dataclass
from typing import Any

from eth_utils.hexadecimal import encode_hex
from sqlalchemy import select

from chain.audit_anchor import AnchoredHead, AuditAnchorClient
from keys import KeysError, Sm2PublicKey, recover_message
from vault.audit import log as audit_log
from vault.audit import scan as audit_scan
from vault.audit.proofs import consistency_proof, consistency_ranges
from vault.audit.scan import Raw, Scan, entry_findings, scan
from vault.audit.tree import NodeId, perfect_subtrees, verify_consistency
from vault.context import AUDIT_LOG_SM2_KEY, VaultContext
from vault.db.audit import AuditHead

KINDS = (
    "modified",
    "deleted",
    "inserted",
    "reordered",
    "head_mismatch",
    "bad_head_signature",
    "anchor_mismatch",
    "inconsistent_anchors",
    "unanchored",
)
# What a run concluded: proven against the chain, something found, or nothing to prove against.
STATUSES = ("verified", "findings", "nothing_anchored")


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    seq: int | None  # the entry concerned, when there is one
    detail: str  # a sentence an auditor understands


@dataclass
class AuditReport:
    ok: bool  # proven complete and untampered against the chain
    tree_size: int  # positions the log claims (its last seq + 1)
    entries_checked: int
    heads_checked: int
    anchors_checked: int
    findings: list[Finding]
    status: str = "verified"  # one of STATUSES
    anchored_size: int = 0  # entries the latest head anchored on chain covers
    summary: str = ""  # the conclusion in one sentence

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def verify_log(ctx: VaultContext, *, log_key_address: str, anchor: AuditAnchorClient | None) -> AuditReport:
    # Chain first, then heads, then the log's size: each was written after the one before,
    # so a head signed or anchored while this runs is never compared with a shorter log.
    anchored = [] if anchor is None else [a for a in await asyncio.to_thread(anchor.heads) if a.tree_size > 0]
    async with ctx.sessions() as session:
        heads = list(await session.scalars(select(AuditHead).order_by(AuditHead.tree_size)))
        upto = await audit_log.tree_size(session)
    sizes = {h.tree_size for h in heads} | {a.tree_size for a in anchored}
    needed: set[NodeId] = set()
    for a, b in itertools.pairwise(anchored):
        for r in consistency_ranges(a.tree_size, b.tree_size):
            needed.update(perfect_subtrees(*r))
    s = await scan(
        ctx.sessions, audit_log.mac_key(ctx.master), upto=upto, targets=sizes, needed=needed, chunk=audit_scan.CHUNK
    )

    raw = entry_findings(s, max(sizes, default=0))
    if not raw and s.first_node_error is not None:
        raw.append(_node_finding(s))
    raw += _head_findings(heads, s, log_key_address)
    raw += _sm2_head_findings(heads, ctx)
    raw += _anchor_findings(anchored, s)
    if anchor is not None:
        raw += await _unanchored(anchor, anchored, heads)
    findings = [Finding(kind, seq, detail) for kind, seq, detail in raw]
    anchored_size = max((a.tree_size for a in anchored), default=0)
    status, summary = _conclusion(findings, s.bound, anchored_size, len(heads))
    return AuditReport(
        ok=status == "verified",
        tree_size=s.bound,
        entries_checked=s.rows,
        heads_checked=len(heads),
        anchors_checked=len(anchored),
        findings=findings,
        status=status,
        anchored_size=anchored_size,
        summary=summary,
    )


def _conclusion(
    findings: list[Finding],
    size: int,
    anchored_size: int,
    heads: int,
) -> tuple[str, str]:
    if findings:
        plural = "s" if len(findings) != 1 else ""
        return "findings", f"{len(findings)} finding{plural}: the log was altered"
    if not anchored_size:
        return "nothing_anchored", (
            f"nothing anchored yet: no tree head is on chain, so the {size} entries and {heads} "
            "signed heads fit together but are not proven untampered (a holder of the vault's "
            "keys could rewrite them consistently); verify again once a head is anchored"
        )
    newer = size - anchored_size
    later = ""
    if newer > 0:
        later = f"; {newer} newer entr{'y is' if newer == 1 else 'ies are'} not anchored yet"
    return "verified", (
        f"the log is complete and untampered up to the head anchored on chain at size {anchored_size}{later}"
    )


async def _unanchored(anchor: AuditAnchorClient, anchored: list[AnchoredHead], heads: list[AuditHead]) -> list[Raw]:
    """Heads the database records as anchored that the chain does not hold."""

    def lost(on_chain: list[AnchoredHead]) -> list[AuditHead]:
        known = {(a.tree_size, a.root) for a in on_chain}
        return [h for h in heads if h.status == "anchored" and (h.tree_size, bytes(h.root)) not in known]

    missing = lost(anchored)
    if missing:  # anchored since the chain was read? Its record came after, so read it again.
        missing = lost(await asyncio.to_thread(anchor.heads))
    if not missing:
        return []
    head, others = missing[0], len(missing) - 1
    more = ""
    if others:
        more = f"; {others} later head{'s are' if others > 1 else ' is'} recorded as anchored but not on chain either"
    detail = (
        f"the tree head of size {head.tree_size} is recorded as anchored (tx {head.tx_hash}) but the chain "
        f"holds no such head{more}"
    )
    return [("unanchored", None, detail)]


def _others(count: int, what: str) -> str:
    if not count:
        return ""
    return f"; 1 later {what} fails too" if count == 1 else f"; {count} later {what}s fail too"


def _recomputed(s: Scan, size: int) -> str:
    root = s.roots.get(size)
    if root is None:
        return f"it cannot be recomputed: the log holds only {s.rows} entries"
    return f"the stored entries give {encode_hex(root)}"


def _node_finding(s: Scan) -> Raw:
    assert s.first_node_error is not None
    level, index = s.first_node_error
    first, last = index << level, ((index + 1) << level) - 1
    detail = (
        f"the stored tree node (level {level}, index {index}) over entries {first} to {last} does not "
        f"match those entries{_others(s.node_errors - 1, 'stored node')}: proofs served from the "
        "stored tree would not verify"
    )
    return ("modified", None, detail)


def _signed_by(head: AuditHead, address: str) -> bool:
    text = audit_log.head_text(head.tree_size, bytes(head.root), head.signed_at)
    try:
        return recover_message(text, head.signature).lower() == address.lower()
    except KeysError:
        return False


def _head_findings(heads: list[AuditHead], s: Scan, address: str) -> list[Raw]:
    out: list[Raw] = []
    unsigned = [h for h in heads if not _signed_by(h, address)]
    if unsigned:
        h = unsigned[0]
        detail = (
            f"the tree head of size {h.tree_size} (signed at {h.signed_at}) is not signed by the log key "
            f"{address}{_others(len(unsigned) - 1, 'head')}"
        )
        out.append(("bad_head_signature", None, detail))
    wrong = [h for h in heads if s.roots.get(h.tree_size) != bytes(h.root)]
    if wrong:
        h = wrong[0]
        detail = (
            f"the signed tree head of size {h.tree_size} has root {encode_hex(bytes(h.root))}, but "
            f"{_recomputed(s, h.tree_size)}{_others(len(wrong) - 1, 'signed head')}"
        )
        out.append(("head_mismatch", None, detail))
    return out


def _sm2_head_findings(heads: list[AuditHead], ctx: VaultContext) -> list[Raw]:
    """Heads signed in the sm suite carry an SM2 signature of the same text: it must be the log's
    SM2 key's. A head without one (intl) has nothing more to check."""
    signed = [h for h in heads if h.sm2_signature is not None]
    if not signed:
        return []
    public = _sm2_log_key(ctx)
    bad = [h for h in signed if public is None or not _sm2_signed(h, public)]
    if not bad:
        return []
    h = bad[0]
    detail = (
        f"the tree head of size {h.tree_size} (signed at {h.signed_at}) carries an SM2 signature that is not "
        f"the log's SM2 key's{_others(len(bad) - 1, 'head')}"
    )
    return [("bad_head_signature", None, detail)]


def _sm2_log_key(ctx: VaultContext) -> Sm2PublicKey | None:
    if not ctx.keystore.exists(AUDIT_LOG_SM2_KEY):
        return None
    try:
        return ctx.keystore.sm2_public_key(AUDIT_LOG_SM2_KEY)
    except KeysError:
        return None


def _sm2_signed(head: AuditHead, public: Sm2PublicKey) -> bool:
    text = audit_log.head_text(head.tree_size, bytes(head.root), head.signed_at)
    try:
        signature = bytes.fromhex(head.sm2_signature or "")
    except ValueError:
        return False
    return public.verify(text.encode(), signature)


def _anchor_findings(anchored: list[AnchoredHead], s: Scan) -> list[Raw]:
    out: list[Raw] = []
    wrong = [a for a in anchored if s.roots.get(a.tree_size) != a.root]
    if wrong:
        a = wrong[0]
        good = [g.tree_size for g in anchored if g.tree_size < a.tree_size and g not in wrong]
        since = f"; the change lies in entries {good[-1] if good else 0} to {a.tree_size - 1}"
        detail = (
            f"the head anchored on chain at size {a.tree_size} (block {a.block_number}, tx "
            f"{encode_hex(a.tx_hash)}) has root {encode_hex(a.root)}, but {_recomputed(s, a.tree_size)}{since}"
            f"{_others(len(wrong) - 1, 'anchored head')}"
        )
        out.append(("anchor_mismatch", None, detail))
    store = audit_log.PrefetchedNodes(s.nodes)
    for a, b in itertools.pairwise(anchored):
        if s.roots.get(b.tree_size) != b.root:
            continue  # the tree does not reproduce the later head: anchor_mismatch says so
        try:
            proof = consistency_proof(store, a.tree_size, b.tree_size)
        except LookupError:
            continue
        if not verify_consistency(a.tree_size, b.tree_size, a.root, b.root, proof):
            detail = (
                f"the head anchored at size {b.tree_size} (block {b.block_number}) does not extend the "
                f"head anchored at size {a.tree_size} (block {a.block_number}): the log was rewritten "
                "and re-anchored, so the chain holds two different histories"
            )
            out.append(("inconsistent_anchors", None, detail))
    return out
