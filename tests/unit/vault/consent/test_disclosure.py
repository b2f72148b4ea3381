"""Field-path disclosure: a grant reveals exactly the paths it names, nothing beside them."""

from __future__ import annotations

import pytest

from vault.consent.disclosure import check_paths, select
from vault.errors import VaultValueError

FIELDS = {
    "姓名": "张三",
    "准驾车型": "C1",
    "住址": {"省": "北京市", "城市": "东城区", "门牌": "示例路1号"},
    "险种": ["养老", "医疗"],
}


def test_selects_only_named_top_level_fields() -> None:
    assert select(FIELDS, ["准驾车型"]) == {"准驾车型": "C1"}
    assert select(FIELDS, ["姓名", "险种"]) == {"姓名": "张三", "险种": ["养老", "医疗"]}


def test_nested_paths_keep_their_nesting_and_nothing_else() -> None:
    assert select(FIELDS, ["住址.城市"]) == {"住址": {"城市": "东城区"}}
    assert select(FIELDS, ["住址.城市", "住址.省"]) == {"住址": {"城市": "东城区", "省": "北京市"}}


def test_a_parent_path_selects_the_whole_subtree_in_either_order() -> None:
    whole = {"住址": FIELDS["住址"]}
    assert select(FIELDS, ["住址", "住址.城市"]) == whole
    assert select(FIELDS, ["住址.城市", "住址"]) == whole


def test_missing_paths_and_paths_through_non_objects_disclose_nothing() -> None:
    assert select(FIELDS, ["身份证号"]) == {}
    assert select(FIELDS, ["姓名.姓"]) == {}
    assert select(FIELDS, ["险种.0"]) == {}


def test_selection_is_a_copy() -> None:
    out = select(FIELDS, ["住址"])
    out["住址"]["城市"] = "changed"
    assert FIELDS["住址"]["城市"] == "东城区"


@pytest.mark.parametrize("paths", [[], ["a..b"], [""], ["a\x00b"], ["x" * 201], [1], ["p"] * 0])
def test_malformed_paths_are_refused(paths: list[object]) -> None:
    with pytest.raises(VaultValueError) as info:
        check_paths(paths)  # type: ignore[arg-type]
    assert info.value.field == "fields"


def test_paths_are_deduplicated_in_order() -> None:
    assert check_paths(["b", "a", "b", "住址.城市"]) == ("b", "a", "住址.城市")
    with pytest.raises(VaultValueError, match="at most 64"):
        check_paths([f"f{i}" for i in range(65)])
