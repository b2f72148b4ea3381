"""Status snapshots without a vault: the bitmap's bit order, the signed encoding, and that
decode refuses every tampered or malformed snapshot with a SnapshotError and nothing else."""

from __future__ import annotations

import base64
import json
import random
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak

from vault.credentials import status_bitmap
from vault.presentations.model import CredentialDomain
from vault.presentations.status_snapshot import (
    SnapshotError,
    SnapshotIssuer,
    StatusSnapshot,
    decode,
    encode,
    typed_data,
)

ADMIN = Account.from_key(b"\x01" * 32)
STRANGER = Account.from_key(b"\x02" * 32)
DOMAIN = CredentialDomain(31337, Account.from_key(b"\x05" * 32).address)
BAD_SIGNATURE = "the snapshot's signature does not match its contents"


def issuer(n: int, *, active: bool = True, roles: int = 3) -> SnapshotIssuer:
    address = Account.from_key(bytes([0x10 + n]) * 32).address
    return SnapshotIssuer(address, f"dept-{n}", f"第{n}局", roles, active)


def signed(s: StatusSnapshot, account: Any = ADMIN) -> StatusSnapshot:
    signature = account.sign_message(encode_typed_data(full_message=typed_data(s))).signature
    return replace(s, signer=account.address, signature=bytes(signature))


def make(size: int = 20, revoked: tuple[int, ...] = (3, 17), replaced: tuple[str, ...] = ()) -> StatusSnapshot:
    issuers = tuple(sorted((issuer(1), issuer(2, active=False), issuer(3, roles=4)), key=lambda i: i.address.lower()))
    keys = tuple(sorted(k.lower() for k in replaced))
    return signed(
        StatusSnapshot(DOMAIN, 1_760_000_000, issuers, size, status_bitmap.pack(size, revoked), keys, "", b"")
    )


OLD_KEY = Account.from_key(b"\x03" * 32).address


@pytest.fixture
def text() -> str:
    return encode(make(replaced=(OLD_KEY,)))


def refused(text: str, *, trusted: str | None = None) -> str:
    with pytest.raises(SnapshotError) as caught:
        decode(text, trusted_signer=trusted)
    return caught.value.reason


def edited(text: str, change: Callable[[dict[str, Any]], object]) -> str:
    doc = json.loads(text)
    change(doc)
    return json.dumps(doc, ensure_ascii=False)


def test_bits_are_ordered_as_in_the_w3c_bitstring_status_list() -> None:
    bitmap = status_bitmap.pack(12, [0, 9, 11])
    assert bitmap == bytes([0b1000_0000, 0b0101_0000])
    assert [i for i in range(12) if status_bitmap.is_set(bitmap, i)] == [0, 9, 11]
    assert status_bitmap.count(bitmap) == 3 and status_bitmap.pack(0, []) == b""
    with pytest.raises(ValueError):
        status_bitmap.pack(12, [12])


def test_round_trip_and_lookups(text: str) -> None:
    original = make(replaced=(OLD_KEY,))
    s = decode(text, trusted_signer=ADMIN.address.lower())
    assert s == original and s.signer == ADMIN.address and len(s.signature) == 65
    assert [i for i in range(s.size) if s.revoked(i)] == [3, 17] and s.revoked_count() == 2
    assert s.revoked(20) is None and s.revoked(10**9) is None  # handed out after the snapshot
    with pytest.raises(ValueError):
        s.revoked(-1)
    first = issuer(2)
    found = s.issuer(first.address.lower())
    assert found is not None and found.code == "dept-2" and not found.active and found.name == "第2局"
    assert s.issuer(STRANGER.address) is None
    assert s.key_replaced(OLD_KEY.upper().replace("0X", "0x")) and not s.key_replaced(STRANGER.address)
    assert s.age(1_760_000_042) == 42
    # Compact UTF-8 JSON, names as they are.
    assert "第2局" in text and ": " not in text and json.loads(text)["type"] == "datavault-status-snapshot"


def test_the_signed_digests_are_the_documented_encodings() -> None:
    s = make(replaced=(OLD_KEY, STRANGER.address))
    message = typed_data(s)["message"]
    issuers = b"".join(
        bytes.fromhex(i.address[2:])
        + bytes([i.roles, 1 if i.active else 0])
        + keccak(i.code.encode())
        + keccak(i.name.encode())
        for i in sorted(s.issuers, key=lambda i: bytes.fromhex(i.address[2:]))
    )
    keys = b"".join(sorted(bytes.fromhex(k[2:]) for k in (OLD_KEY, STRANGER.address)))
    assert message == {
        "createdAt": s.created_at,
        "size": s.size,
        "bitmap": keccak(s.bitmap),
        "issuers": keccak(issuers),
        "replacedKeys": keccak(keys),
    }
    assert typed_data(make())["message"]["replacedKeys"] == keccak(b"")


def _set_bit(doc: dict[str, Any]) -> None:
    doc["bitmap"] = status_bitmap.compress(status_bitmap.pack(20, [3, 17, 5]))


def _clear_bits(doc: dict[str, Any]) -> None:
    doc["bitmap"] = status_bitmap.compress(status_bitmap.pack(20, []))


TAMPERING: dict[str, Callable[[dict[str, Any]], object]] = {
    "a bit set": _set_bit,
    "the bits cleared": _clear_bits,
    "a department reactivated": lambda d: [i.update(active=True) for i in d["issuers"]],
    "a department's roles": lambda d: d["issuers"][0].update(roles=255),
    "a department's name": lambda d: d["issuers"][0].update(name="假冒局"),
    "a department's code": lambda d: d["issuers"][0].update(code="fake"),
    "a department dropped": lambda d: d["issuers"].pop(),
    "a department added": lambda d: d["issuers"].append({**d["issuers"][0], "address": STRANGER.address}),
    "created_at": lambda d: d.update(created_at=d["created_at"] + 3600),
    "size": lambda d: d.update(size=19),  # still 3 bytes, bit 19 clear: only the signature tells
    "a replaced key dropped": lambda d: d.update(replaced_keys=[]),
    "a replaced key added": lambda d: d["replaced_keys"].append(STRANGER.address.lower()),
    "the chain": lambda d: d["domain"].update(chain_id=1),
    "the registry": lambda d: d["domain"].update(registry=STRANGER.address),
    "the signer": lambda d: d.update(signer=STRANGER.address),
    "the signature": lambda d: d.update(
        signature=d["signature"][:-4] + ("1b1c" if d["signature"][-4:] != "1b1c" else "1b1b")
    ),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampering_breaks_the_signature(text: str, what: str) -> None:
    assert refused(edited(text, TAMPERING[what])) == BAD_SIGNATURE


def test_the_order_of_lists_is_not_signed(text: str) -> None:
    reordered = edited(text, lambda d: d["issuers"].reverse())
    assert decode(reordered) == decode(text)


def test_a_snapshot_by_another_key_is_refused_when_a_signer_is_trusted(text: str) -> None:
    other = encode(signed(make(), STRANGER))
    assert decode(other).signer == STRANGER.address  # it is a valid snapshot ...
    reason = refused(other, trusted=ADMIN.address)  # ... just not by the one trusted
    assert reason == f"the snapshot is signed by {STRANGER.address}, not by the trusted {ADMIN.address}"
    assert "trusted signer must be an address" in refused(text, trusted="admin")


def _deflated_zeros(megabytes: int) -> str:
    packer = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    data = b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_zlib_bomb_is_refused_without_inflating_it(text: str) -> None:
    bomb = _deflated_zeros(256)  # 256 MiB of zeros in ~250 KB
    tracemalloc.start()
    try:
        for size in (20, status_bitmap.MAX_BITS):
            doc = json.loads(text)
            doc.update(size=size, bitmap=bomb)
            assert "not one zlib stream of exactly" in refused(json.dumps(doc))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, peak  # at most the 16 MiB cap is inflated, never 256 MiB
    too_big = edited(text, lambda d: d.update(size=status_bitmap.MAX_BITS + 1, bitmap=bomb))
    assert "more than the" in refused(too_big)


MALFORMED: dict[str, str | Callable[[dict[str, Any]], object]] = {
    "not JSON": "{",
    "a list": "[]",
    "nested too deep": "[" * 100_000 + "]" * 100_000,
    "other JSON": '{"type": "VerifiableCredential"}',
    "a newer version": lambda d: d.update(version=2),
    "version true": lambda d: d.update(version=True),
    "a key missing": lambda d: d.pop("replaced_keys"),
    "an unknown key": lambda d: d.update(note="trust me"),
    "bitmap not base64url": lambda d: d.update(bitmap=d["bitmap"] + "+/=="),
    "bitmap padded": lambda d: d.update(bitmap=d["bitmap"] + "="),
    "bitmap not zlib": lambda d: d.update(bitmap="AAAA"),
    "bitmap too short": lambda d: d.update(bitmap=status_bitmap.compress(b"\x00\x00")),
    "bitmap too long": lambda d: d.update(bitmap=status_bitmap.compress(bytes(4))),
    "bits past the size": lambda d: d.update(bitmap=status_bitmap.compress(b"\x00\x00\x01")),
    "two zlib streams": lambda d: d.update(
        bitmap=base64.urlsafe_b64encode(zlib.compress(bytes(3)) * 2).rstrip(b"=").decode()
    ),
    "size negative": lambda d: d.update(size=-1),
    "size a float": lambda d: d.update(size=20.0),
    "size a bool": lambda d: d.update(size=True),
    "created_at too large": lambda d: d.update(created_at=2**40),
    "a huge number": lambda d: d.update(created_at=10**4000),
    "issuers not a list": lambda d: d.update(issuers={}),
    "an issuer not an object": lambda d: d["issuers"].append("0x00"),
    "an issuer listed twice": lambda d: d["issuers"].append(d["issuers"][0]),
    "an issuer's roles above uint8": lambda d: d["issuers"][0].update(roles=256),
    "an issuer's active 1": lambda d: d["issuers"][0].update(active=1),
    "an issuer's address short": lambda d: d["issuers"][0].update(address="0x1234"),
    "an issuer's code too long": lambda d: d["issuers"][0].update(code="x" * 33),
    "an issuer with an extra key": lambda d: d["issuers"][0].update(extra=1),
    "a replaced key listed twice": lambda d: d["replaced_keys"].append(
        d["replaced_keys"][0].upper().replace("0X", "0x")
    ),
    "a replaced key not an address": lambda d: d["replaced_keys"].append(17),
    "signature short": lambda d: d.update(signature=d["signature"][:-2]),
    "signature not hex": lambda d: d.update(signature="0x" + "zz" * 65),
    "signer not an address": lambda d: d.update(signer="admin"),
    "domain missing its chain": lambda d: d["domain"].pop("chain_id"),
    "chain id above uint256": lambda d: d["domain"].update(chain_id=2**256),
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_malformed_snapshots_are_refused(text: str, what: str) -> None:
    mutation = MALFORMED[what]
    reason = refused(mutation if isinstance(mutation, str) else edited(text, mutation))
    assert reason.startswith("not a status snapshot"), reason


def test_lone_surrogates_are_refused_raw_or_escaped(text: str) -> None:
    doc = json.loads(text)
    doc["issuers"][0]["name"] = "\ud800"  # valid JSON as an escape, but no UTF-8 text
    for escaped in (True, False):
        assert refused(json.dumps(doc, ensure_ascii=escaped)).startswith("not a status snapshot")


def test_anything_but_text_is_refused() -> None:
    for value in (None, b"{}", 17, {"type": "datavault-status-snapshot"}):
        with pytest.raises(SnapshotError):
            decode(value)  # type: ignore[arg-type]


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    choices: list[Any] = [None, True, False, 0, -1, 2**64, 1.5, "", "0x" + "ab" * 20, "\ud800", "第"]
    if depth < 3:
        choices += [[_random_json(rng, depth + 1)], {"k": _random_json(rng, depth + 1)}]
    return rng.choice(choices)


def _mutate_tree(rng: random.Random, node: Any) -> Any:
    """``node`` with one value somewhere in it replaced, dropped or added."""
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(sorted(node))
        action = rng.random()
        if action < 0.1:
            node.pop(key)
        elif action < 0.2:
            node[key + "x"] = _random_json(rng)
        else:
            node[key] = _mutate_tree(rng, node[key])
        return node
    if isinstance(node, list) and node and rng.random() < 0.8:
        at = rng.randrange(len(node))
        node[at] = _mutate_tree(rng, node[at])
        return node
    return _random_json(rng)


def test_fuzz_decode_raises_nothing_but_snapshot_errors(text: str) -> None:
    rng = random.Random(20240617)
    original = decode(text)
    accepted = 0
    for round_ in range(3000):
        if round_ % 2:
            raw = bytearray(text.encode())
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(raw))
                kind = rng.random()
                if kind < 0.4:
                    raw[at] = rng.randrange(256)
                elif kind < 0.7:
                    del raw[at : at + rng.randint(1, 40)]
                else:
                    raw[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            candidate = raw.decode("utf-8", "surrogateescape")
        else:
            candidate = json.dumps(_mutate_tree(rng, json.loads(text)), ensure_ascii=rng.random() < 0.5)
        try:
            got = decode(candidate, trusted_signer=ADMIN.address)
        except SnapshotError:
            continue
        # Whatever is accepted says exactly what was signed (e.g. a change in the hex's case).
        assert got == original, candidate
        accepted += 1
    assert accepted < 300


def test_measured_size_of_a_million_credentials() -> None:
    rng = random.Random(1)
    size = 1_000_000
    revoked = rng.sample(range(size), size // 100)
    issuers = tuple(
        sorted(
            (
                SnapshotIssuer(
                    Account.from_key(bytes([i + 1]) * 32).address, f"dept-{i:02d}", f"某某市第{i}局", 3, i % 7 != 0
                )
                for i in range(20)
            ),
            key=lambda i: i.address.lower(),
        )
    )
    s = signed(StatusSnapshot(DOMAIN, 1_760_000_000, issuers, size, status_bitmap.pack(size, revoked), (), "", b""))
    text = encode(s)
    encoded = len(text.encode())
    bitmap = len(status_bitmap.compress(s.bitmap))
    print(
        f"\nstatus snapshot of {size:,} indexes, {len(revoked):,} revoked, 20 issuers: {encoded:,} bytes "
        f"(bitmap {bitmap:,})"
    )
    assert decode(text) == s
    assert encoded < 40_000  # the raw bitmap alone is 125,000 bytes
