from __future__ import annotations

import copy
import random
import secrets
import uuid
import zlib
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from typing import Any

import cbor2
import pytest

from keys import SigningKey
from keys.signing import recover_typed_data
from vault.credentials import commitments
from vault.credentials.commitments import canonical_json
from vault.credentials.documents import DocumentSpec, build_document, leaves
from vault.credentials.header import CredentialHeader
from vault.errors import VaultValueError
from vault.presentations import base45
from vault.presentations import codec as presentation_codec
from vault.presentations.codec import (
    MAX_TEXT_CHARS,
    PREFIX,
    PresentationFormatError,
    decode,
    encode,
)
from vault.presentations.model import (
    CredentialDomain,
    DisclosedField,
    Presentation,
    credential_root,
    presentation_typed_data,
)

LICENCE = {
    "姓名": "张三",
    "性别": "男",
    "国籍": "中国",
    "住址": "北京市东城区景山前街4号故宫博物院院内西三所",
    "出生日期": "1990-01-01",
    "初次领证日期": "2010-06-15",
    "准驾车型": "C1",
    "证号": "11010519900101002X",
}
DOMAIN = CredentialDomain(chain_id=31337, registry="0x" + "ab" * 20)
HOLDER = SigningKey.generate()


def signature(rng: random.Random | None = None) -> bytes:
    """A random 65-byte signature of the right shape: low s, v 27 or 28."""
    raw = bytearray((rng or random.Random()).randbytes(65))
    raw[32] &= 0x7F
    raw[64] = 27 + raw[64] % 2
    return bytes(raw)


def present(
    fields: dict[str, Any], shown: list[str], *, record_id: str | None = None, sign: bool = True
) -> Presentation:
    """A presentation built as the vault builds one: real document, leaves and multiproof."""
    spec = DocumentSpec("licence", "机动车驾驶证", fields, 1_700_000_000, 1_900_000_000)
    document = build_document(
        spec,
        subject_id="0x" + secrets.token_hex(32),
        holder=HOLDER.address.lower(),
        issuer_code="gongan",
        issuer_address="0x" + secrets.token_hex(20),
        record_id=record_id or str(uuid.uuid4()),
        record_version=1,
        issued_at=1_700_000_000,
        status_index=4711,
    )
    tree = leaves(document)
    header = CredentialHeader.from_document(document)
    header_salt = bytes.fromhex(document["salts"][commitments.HEADER_NAME])
    disclosed = []
    for name in shown:
        salt = bytes.fromhex(document["salts"][name])
        disclosed.append(
            DisclosedField(tree.index(commitments.field_leaf(name, fields[name], salt)), name, fields[name], salt)
        )
    header_index = tree.index(header.leaf(header_salt))
    p = Presentation(
        header=header,
        header_index=header_index,
        header_salt=header_salt,
        leaf_count=len(tree),
        fields=tuple(disclosed),
        field_proof=tuple(commitments.multiproof(tree, [header_index, *(f.index for f in disclosed)])),
        batch_proof=tuple(secrets.token_bytes(32) for _ in range(14)),
        issuer_signature=signature(),
        nonce=secrets.token_bytes(16),
        created_at=1_750_000_000,
        expires_at=1_750_000_300,
        credential=commitments.root(tree),
    )
    assert credential_root(p) == p.credential
    if sign:
        typed = presentation_typed_data(DOMAIN, p)
        p = p.signed(bytes.fromhex(HOLDER.sign_typed_data(typed)[2:]))
    return p


def payload_array(text: str) -> list[Any]:
    payload = base45.decode(text[len(PREFIX) :])
    body = zlib.decompress(payload[1:]) if payload[0] == 1 else payload[1:]
    array = cbor2.loads(body)
    assert isinstance(array, list)
    return array


def text_of(body: bytes, flag: int = 0) -> str:
    return PREFIX + base45.encode(bytes([flag]) + body)


def refused(text: Any, match: str) -> PresentationFormatError:
    with pytest.raises(PresentationFormatError, match=match) as info:
        decode(text)
    return info.value


# -- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("shown", [["准驾车型"], ["姓名", "准驾车型", "证号"], list(LICENCE)])
def test_round_trip_is_equal_and_keeps_the_commitments(shown: list[str]) -> None:
    p = present(LICENCE, shown)
    text = encode(p)
    print(f"\n{len(shown)} fields: {len(text)} characters")
    assert text.startswith(PREFIX) and set(text[len(PREFIX) :]) <= set(base45.ALPHABET)
    assert len(text) < 2500  # sanity only; bench/PRESENTATION.md has the figures
    back = decode(text)
    assert back == p
    assert credential_root(back) == credential_root(p) is not None
    assert encode(back) == text  # one text per presentation


def test_real_holder_signature_still_recovers_after_the_round_trip() -> None:
    p = present(LICENCE, ["姓名"])
    back = decode(encode(p))
    assert credential_root(back) == back.credential and len(back.holder_signature) == 65
    typed = presentation_typed_data(DOMAIN, back)
    assert recover_typed_data(typed, "0x" + back.holder_signature.hex()) == HOLDER.address


def test_unsigned_presentation_round_trips() -> None:
    p = present(LICENCE, ["姓名"], sign=False)
    assert p.holder_signature == b""
    assert decode(encode(p)) == p


def test_the_stated_credential_hash_travels_as_is() -> None:
    p = present(LICENCE, ["姓名"])
    assert payload_array(encode(p))[13] == p.credential
    altered = replace(p, credential=bytes(32))  # a verdict must be able to tell it from the fields' hash
    assert decode(encode(altered)).credential == bytes(32)
    assert decode(encode(replace(p, credential=b""))).credential == b""


@pytest.mark.parametrize("v", [27, 28])
def test_signatures_are_carried_in_64_bytes_and_expanded_back(v: int) -> None:
    p = replace(present(LICENCE, ["姓名"]), issuer_signature=signature()[:64] + bytes([v]))
    text = encode(p)
    assert len(payload_array(text)[8]) == 64 and len(payload_array(text)[12]) == 64
    assert decode(text).issuer_signature == p.issuer_signature


VALUES: dict[str, Any] = {
    "中文": "中华人民共和国机动车驾驶证 — ✓ 𠀀",
    "nested": {"地址": {"省": "北京", "门牌": [4, "号", None]}, "b": []},
    "floats": [0.1, 1.5, -0.0, 1e300, 3.141592653589793, 2.5e-8],
    "ints": [0, -1, 2**64, -(2**70), 10**40],
    "flags": [True, False, None],
    "empty": {"": ""},
    "one": 1,
    "one_float": 1.0,
    "bool": True,
}


def test_json_values_come_back_equal_with_the_same_canonical_json() -> None:
    p = present(VALUES, list(VALUES))
    back = decode(encode(p))
    assert back == p
    for mine, theirs in zip(p.fields, back.fields, strict=True):
        assert canonical_json(theirs.value) == canonical_json(mine.value)
        assert theirs.leaf() == mine.leaf()
        assert type(theirs.value) is type(mine.value)  # 1 stays int, 1.0 float, True bool
    assert credential_root(back) == credential_root(p)


def test_uuid_record_id_goes_as_16_bytes_and_other_ids_as_text() -> None:
    rid = str(uuid.uuid4())
    assert payload_array(encode(present(LICENCE, ["姓名"], record_id=rid)))[1][6] == uuid.UUID(rid).bytes
    for other in (rid.upper(), "r-2024-0001", "{" + rid + "}"):
        p = present(LICENCE, ["姓名"], record_id=other)
        assert payload_array(encode(p))[1][6] == other
        assert decode(encode(p)).header.record_id == other


def test_header_hex_goes_as_bytes_and_proofs_as_one_byte_string() -> None:
    p = present(LICENCE, ["姓名"])
    array = payload_array(encode(p))
    assert [len(array[1][i]) for i in (2, 3, 5)] == [32, 20, 20]
    assert array[6] == b"".join(p.field_proof) and array[7] == b"".join(p.batch_proof)
    with pytest.raises(
        PresentationFormatError, match="cannot encode the presentation: the batch proof hash is not 32 bytes"
    ):
        encode(replace(p, batch_proof=(b"\x00" * 31, b"\x00" * 33)))  # joined, they would look like two good ones


def test_compression_only_when_it_is_shorter() -> None:
    plain = encode(present(LICENCE, list(LICENCE)))
    assert base45.decode(plain[len(PREFIX) :])[0] == 0  # random salts and hashes do not compress
    p = present({"备注": "同上。" * 200}, ["备注"])
    text = encode(p)
    assert base45.decode(text[len(PREFIX) :])[0] == 1
    assert decode(text) == p


def test_a_trailing_newline_is_ignored() -> None:
    p = present(LICENCE, ["姓名"])
    assert decode(encode(p) + "\r\n") == p


def test_the_codec_knows_every_part_of_a_presentation() -> None:
    # A part added to the dataclass must get a position here, or encode would silently drop it.
    assert [f.name for f in dataclass_fields(Presentation)] == [
        "header",
        "header_index",
        "header_salt",
        "leaf_count",
        "fields",
        "field_proof",
        "batch_proof",
        "issuer_signature",
        "nonce",
        "created_at",
        "expires_at",
        "holder_signature",
        "credential",
    ]


# -- refusals -----------------------------------------------------------------------------------


def test_oversized_text_is_refused_before_parsing_with_the_limit_named() -> None:
    e = refused(
        PREFIX + "!" * MAX_TEXT_CHARS,
        f"payload too large: {MAX_TEXT_CHARS + 4} characters, the limit is {MAX_TEXT_CHARS}",
    )
    assert isinstance(e, VaultValueError) and e.field == "presentation"


def test_encoding_too_much_is_refused() -> None:
    fields = {f"字段{i}": secrets.token_hex(40) for i in range(40)}
    with pytest.raises(PresentationFormatError, match=f"the limit is {MAX_TEXT_CHARS}"):
        encode(present(fields, list(fields)))


@pytest.mark.parametrize("text", ["", "hello", "HC1:6BFOXN*TS0BI$ZD", "dv1:BB8", b"DV1:BB8", None, 42])
def test_not_a_presentation(text: Any) -> None:
    refused(text, "not a datavault presentation")


def test_unsupported_version() -> None:
    array = payload_array(encode(present(LICENCE, ["姓名"])))
    refused(text_of(cbor2.dumps([2, *array[1:]])), "unsupported presentation version 2")
    refused(text_of(cbor2.dumps([True, *array[1:]])), "unsupported presentation version True")


@pytest.mark.parametrize(
    ("position", "value", "match"),
    [
        (2, -1, "header position"),
        (2, True, "header position"),
        (2, 1.0, "header position"),
        (3, "00" * 16, "header salt"),
        (4, 3, "power of two"),
        (4, 2048, "leaf count"),
        (5, "fields", "fields"),
        (6, b"\x00" * 31, "field proof"),
        (6, [b"\x00" * 32], "field proof"),
        (7, b"\x00" * 32 * 33, "batch proof"),
        (8, b"\x00" * 65, "issuer signature"),
        (9, b"\x00" * 15, "nonce"),
        (10, 2**40, "creation time"),
        (11, None, "expiry time"),
        (12, b"\x00" * 65, "holder signature"),
        (13, b"\x00" * 31, "credential hash"),
    ],
)
def test_wrong_types_and_ranges_are_damage(position: int, value: Any, match: str) -> None:
    array = payload_array(encode(present(LICENCE, ["姓名"])))
    array[position] = value
    refused(text_of(cbor2.dumps(array)), f"the code is damaged: .*{match}")


def mutated_field(change: Any) -> str:
    array = payload_array(encode(present(LICENCE, ["姓名", "性别"])))
    change(array)
    return text_of(zlib.compress(cbor2.dumps(array)), flag=1)  # zlib: room for a 7,000-digit integer


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda a: a[5][0].__setitem__(1, "@header"), "no valid name"),
        (lambda a: a[5][0].__setitem__(1, ""), "no valid name"),
        (lambda a: a[5][0].__setitem__(1, 7), "no valid name"),
        (lambda a: a[5][1].__setitem__(1, a[5][0][1]), "repeats"),
        (lambda a: a[5][1].__setitem__(0, a[5][0][0]), "repeats"),
        (lambda a: a[5][0].__setitem__(0, a[2]), "repeats"),
        (lambda a: a[5][0].__setitem__(2, float("nan")), "JSON cannot carry"),
        (lambda a: a[5][0].__setitem__(2, b"bytes"), "JSON cannot carry"),
        (lambda a: a[5][0].__setitem__(2, {b"k": 1}), "not text"),
        (lambda a: a[5][0].__setitem__(2, 2**24000 - 1), "cannot be written as JSON"),
        (lambda a: a[5][0].append(b""), "field 1"),
        (lambda a: a[1].__setitem__(2, b"\x00" * 31), "subject"),
        (lambda a: a[1].__setitem__(1, ""), "title"),
        (lambda a: a[1].__setitem__(7, "1"), "record_version"),
        (lambda a: a[1].__setitem__(6, b"\x00" * 15), "record id"),
        (lambda a: a[1].pop(), "header"),
        (lambda a: a.append(0), "14"),
        (lambda a: a.pop(), "14"),
    ],
)
def test_malformed_parts_are_damage(change: Any, match: str) -> None:
    refused(mutated_field(change), f"the code is damaged: .*{match}")


@pytest.mark.parametrize(
    "body",
    [
        cbor2.dumps(cbor2.CBORTag(1, 0)),  # a datetime
        cbor2.dumps(cbor2.CBORTag(35, "(a+)+$")),  # a regex
        cbor2.dumps(cbor2.CBORTag(258, [1, 2])),  # a set
        cbor2.dumps(cbor2.CBORTag(9999, [1])),  # an unknown tag
        bytes([0xD8, 28, 0x81, 0xD8, 29, 0x00]),  # a list that contains itself
        b"\x81" * 100 + b"\x00",  # a nesting bomb
        b"\x9f\x01\xff",  # indefinite length
        b"\x5b" + (2**62).to_bytes(8, "big"),  # a 4 EiB byte string, announced
        b"\x82\x01",  # cut short
        cbor2.dumps([1]) + b"\x00",  # trailing bytes
        b"\xa2\x61a\x01\x61a\x02",  # duplicate keys
        b"\xf7",  # undefined
        b"",
    ],
)
def test_hostile_cbor_is_damage(body: bytes) -> None:
    refused(text_of(body), "the code is damaged")
    refused(text_of(zlib.compress(body + body[-1:] * 20_000), flag=1), "the code is damaged")


def test_zlib_bomb_is_refused() -> None:
    bomb = zlib.compress(cbor2.dumps([1, "x" * 1_000_000]), 9)
    assert len(text_of(bomb)) < MAX_TEXT_CHARS
    refused(text_of(bomb, flag=1), "payload too large: more than 65536 bytes once decompressed")
    deep = zlib.compress(b"\x81" * 60_000 + b"\x00", 9)  # fits once inflated, but 60,000 levels deep
    refused(text_of(deep, flag=1), "the code is damaged: nested too deep")


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"\x02" + cbor2.dumps([1]), "compression flag"),
        (b"\x01not zlib", "compressed data is corrupt"),
        (b"\x01" + zlib.compress(b"\x01")[:-2], "cut short"),
        (b"\x01" + zlib.compress(b"\x01") + b"x", "extra bytes"),
    ],
)
def test_bad_compression_is_damage(payload: bytes, match: str) -> None:
    refused(PREFIX + base45.encode(payload), match)


def test_bad_base45_is_damage() -> None:
    refused(PREFIX + "GGW", "the code is damaged: .*above 65535")
    refused(PREFIX + "bb8", "the code is damaged: .*not Base45")


@pytest.mark.parametrize(
    "bad",
    [b"\x00" * 64, signature()[:64] + b"\x1d", signature()[:32] + b"\xff" * 32 + b"\x1b"],
    ids=["64 bytes", "v is 29", "s is above n"],  # fixed ids: the signatures are random
)
def test_encode_refuses_signatures_the_compact_form_cannot_carry(bad: bytes) -> None:
    with pytest.raises(PresentationFormatError, match="cannot encode the presentation: the issuer signature"):
        encode(replace(present(LICENCE, ["姓名"]), issuer_signature=bad))


def test_nesting_allowed_by_encode_is_what_decode_allows() -> None:
    deep: Any = "底"
    for _ in range(presentation_codec.MAX_DEPTH - 3):
        deep = [deep] if len(str(deep)) % 2 else {"层": deep}
    p = present({"深": deep}, ["深"])
    assert decode(encode(p)) == p
    with pytest.raises(PresentationFormatError, match=r"cannot encode the presentation: .*nested too deep"):
        encode(replace(p, fields=(replace(p.fields[0], value=[deep]),)))
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(PresentationFormatError, match="nested too deep"):
        encode(replace(p, fields=(replace(p.fields[0], value=cyclic),)))


def test_encode_refuses_what_decode_would_refuse() -> None:
    p = present(LICENCE, ["姓名"])
    with pytest.raises(PresentationFormatError, match="cannot encode the presentation: the nonce"):
        encode(replace(p, nonce=b"short"))
    with pytest.raises(PresentationFormatError, match=r"cannot encode the presentation: .*JSON cannot carry"):
        encode(replace(p, fields=(replace(p.fields[0], value={"when": uuid.uuid4()}),)))


# -- fuzzing: either a presentation or PresentationFormatError, nothing else ---------------------


def decodes_or_refuses(text: Any) -> None:
    try:
        assert isinstance(decode(text), Presentation)
    except PresentationFormatError as e:
        assert e.reason


def test_fuzz_random_payloads() -> None:
    rng = random.Random(1)
    for _ in range(3000):
        n = rng.randrange(0, 300)
        decodes_or_refuses(PREFIX + base45.encode(rng.randbytes(n)))
        decodes_or_refuses(PREFIX + "".join(rng.choice(base45.ALPHABET + "a!é\n") for _ in range(n)))
        decodes_or_refuses(text_of(bytes([rng.randrange(0x80, 0xA0)]) + rng.randbytes(n)))


def test_fuzz_truncations_and_bit_flips_of_a_valid_payload() -> None:
    rng = random.Random(2)
    for p in (present(LICENCE, ["姓名", "住址"]), present({"备注": "同上。" * 100}, ["备注"], sign=False)):
        text = encode(p)
        payload = base45.decode(text[len(PREFIX) :])
        for cut in range(len(payload)):
            decodes_or_refuses(PREFIX + base45.encode(payload[:cut]))
        for cut in range(0, len(text), 7):
            decodes_or_refuses(text[:cut])
        for _ in range(3000):
            flipped = bytearray(payload)
            for _ in range(rng.choice((1, 1, 2, 8))):
                flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            decodes_or_refuses(PREFIX + base45.encode(bytes(flipped)))


def test_fuzz_swapped_parts() -> None:
    rng = random.Random(3)
    p = present(LICENCE, ["姓名", "住址"])
    pool: list[Any] = [0, -1, 2**64, True, None, 1.5, "", "x" * 300, b"", b"\x00" * 32, [], [[]], {}, {"a": 1}]
    for _ in range(2000):
        array = payload_array(encode(p))
        target = array
        while isinstance(target, list) and target and rng.random() < 0.6:
            inner = target[rng.randrange(len(target))]
            if not isinstance(inner, list) or not inner:
                break
            target = inner
        if isinstance(target, list) and target:
            target[rng.randrange(len(target))] = copy.deepcopy(rng.choice([*pool, array[5], array[1]]))
        decodes_or_refuses(text_of(cbor2.dumps(array)))
