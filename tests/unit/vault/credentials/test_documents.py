from __future__ import annotations

import pytest
from eth_hash.auto import keccak

from vault.credentials import commitments
from vault.credentials.commitments import canonical_json
from vault.credentials.documents import (
    DocumentSpec,
    build_document,
    credential_hash,
    leaves,
    parse_document,
)
from vault.errors import VaultValueError


def spec(**overrides: object) -> DocumentSpec:
    values: dict[str, object] = {
        "type": "licence",
        "title": "驾驶证",
        "fields": {"准驾车型": "C1"},
        "valid_from": 1,
        "valid_until": 2,
    }
    values.update(overrides)
    return DocumentSpec(**values)  # type: ignore[arg-type]


def doc(**overrides: object) -> dict[str, object]:
    return build_document(
        spec(**overrides),
        subject_id="0x" + "aa" * 32,
        holder="0x" + "cc" * 20,
        issuer_code="gongan",
        issuer_address="0x" + "bb" * 20,
        record_id="r1",
        record_version=1,
        issued_at=1,
        status_index=7,
    )


def test_canonical_json_is_stable_and_keeps_chinese() -> None:
    assert canonical_json({"b": 1, "a": "张三"}) == '{"a":"张三","b":1}'.encode()


def test_hash_changes_with_any_field_and_with_the_salt() -> None:
    a = doc()
    b = dict(a, fields={"准驾车型": "A1"})
    assert credential_hash(a) != credential_hash(b)
    assert credential_hash(a) == credential_hash(dict(a))
    assert credential_hash(doc()) != credential_hash(doc())  # fresh salt per document


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": "passport"}, "type"),
        ({"title": " "}, "title"),
        ({"fields": {}}, "fields"),
        ({"valid_until": 1}, "valid_until"),
        ({"valid_until": 2**41}, "valid_until"),
        ({"fields": {"x": "y" * 70_000}}, "fields"),
        ({"fields": {"@header": "x"}}, "fields"),
        ({"fields": {"": "x"}}, "fields"),
    ],
)
def test_bad_specs_are_refused(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(VaultValueError) as info:
        doc(**overrides)
    assert info.value.field == field


def test_parse_document_checks_shape() -> None:
    assert parse_document(doc())["type"] == "licence"
    with pytest.raises(VaultValueError, match="lacks"):
        parse_document({"version": 1})
    with pytest.raises(VaultValueError, match="version"):
        parse_document(dict(doc(), version=9))
    with pytest.raises(VaultValueError, match="JSON object"):
        parse_document(["not", "a", "document"])


def test_version_2_hash_is_the_root_of_the_field_commitments() -> None:
    d = doc(fields={"姓名": "张三", "准驾车型": "C1", "住址": {"省": "北京"}})
    leaves_ = leaves(d)
    assert len(leaves_) == 4  # header + 3 fields, already a power of two: no decoys
    assert credential_hash(d) == "0x" + commitments.root(leaves_).hex()
    salts = {name: bytes.fromhex(s) for name, s in d["salts"].items()}  # type: ignore[attr-defined]
    shown = commitments.field_leaf("准驾车型", "C1", salts["准驾车型"])
    index = leaves_.index(shown)
    proof = commitments.multiproof(leaves_, [index])
    assert commitments.root_from_multiproof(4, {index: shown}, proof) == commitments.root(leaves_)
    # Any change of a field, its salt or the header changes the hash.
    assert credential_hash(dict(d, fields={**d["fields"], "准驾车型": "A1"})) != credential_hash(d)  # type: ignore[dict-item]
    assert credential_hash(dict(d, status_index=8)) != credential_hash(d)


def test_decoys_pad_to_a_power_of_two_and_the_shape_is_checked() -> None:
    d = doc(fields={str(i): i for i in range(5)})  # 6 commitments -> 8 leaves
    assert len(d["decoys"]) == 2 and len(leaves(d)) == 8  # type: ignore[arg-type]
    assert parse_document(d) is d
    for broken, reason in [
        (dict(d, decoys=[]), "power of two"),
        (dict(d, salts={}), "salts"),
        (dict(d, holder="nope"), "holder"),
        (dict(d, status_index=-1), "status_index"),
    ]:
        with pytest.raises(VaultValueError, match=reason):
            parse_document(broken)


def test_version_1_documents_still_hash_as_before() -> None:
    v1 = {
        "version": 1,
        "type": "licence",
        "title": "t",
        "subject": "0x" + "aa" * 32,
        "issuer": {"code": "g", "address": "0x" + "bb" * 20},
        "record": {"id": "r", "version": 1},
        "issued_at": 1,
        "valid_from": 1,
        "valid_until": 2,
        "fields": {"a": 1},
        "salt": "00" * 16,
    }
    assert parse_document(v1) is v1
    assert credential_hash(v1) == "0x" + keccak(b"datavault:credential:v1\x00" + canonical_json(v1)).hex()
