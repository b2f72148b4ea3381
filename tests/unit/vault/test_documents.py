from __future__ import annotations

import pytest

from vault.documents import (
    DocumentSpec,
    build_document,
    canonical_json,
    credential_hash,
    parse_document,
)
from vault.errors import VaultValueError


def spec(**overrides: object) -> DocumentSpec:
    values: dict[str, object] = {"type": "licence", "title": "驾驶证", "fields": {"准驾车型": "C1"}, "valid_from": 1, "valid_until": 2}
    values.update(overrides)
    return DocumentSpec(**values)  # type: ignore[arg-type]


def doc(**overrides: object) -> dict[str, object]:
    return build_document(
        spec(**overrides), subject_id="0x" + "aa" * 32, issuer_code="gongan", issuer_address="0x" + "bb" * 20,
        record_id="r1", record_version=1, issued_at=1,
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
