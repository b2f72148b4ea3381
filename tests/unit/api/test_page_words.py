"""The values the vault writes that pages show as words (an access log entry's action and actor
role, a tree head's status) each have a message in both languages: a page never shows a raw key
such as ``department.registered`` or the English ``public``."""

from __future__ import annotations

import ast
from pathlib import Path

from api.web.i18n import MESSAGES
from keys import SigningKey
from tests.support.harness import Actor, Harness

VAULT = Path(__file__).parents[3] / "vault"


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    for given in call.keywords:
        if given.arg == keyword:
            return given.value
    return call.args[position] if len(call.args) > position else None


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def vault_event_values(keyword: str, position: int) -> set[str]:
    """Every string the vault passes as ``keyword`` of a ``VaultEvent`` (or of the features'
    ``event(row, action, ...)`` helpers that make one): literals, both sides of a conditional,
    and the literals assigned to a name passed instead."""
    found: set[str] = set()
    for path in VAULT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assigned: dict[str, set[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, set()).update(_strings(node.value))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _called(node)
            if name == "VaultEvent":
                given = _argument(node, position, keyword)
            elif name == "event" and keyword == "action":
                given = _argument(node, 1, keyword)
            elif name == "event" and keyword == "actor_role":
                given = _argument(node, 99, keyword)
            else:
                continue
            if given is None:
                continue
            found |= _strings(given)
            if isinstance(given, ast.Name):
                found |= assigned.get(given.id, set())
    return {value for value in found if value}


def test_every_vault_action_has_words_in_both_languages() -> None:
    actions = {a for a in vault_event_values("action", 0) if "." in a}
    # The scan finds the literal, conditional and helper-made actions.
    assert {"grant.used", "grant.created", "delegation.set", "department.deactivated", "auditor.registered"} <= actions
    for lang in ("zh", "en"):
        missing = sorted(a for a in actions if f"action.{a}" not in MESSAGES[lang])
        assert not missing, (lang, missing)


def test_every_actor_role_has_words_in_both_languages() -> None:
    roles = {r for r in vault_event_values("actor_role", 3) if r.isidentifier()}
    assert {"public", "admin", "department", "subject", "registrar"} <= roles
    roles |= {"delegate", "system", "issuer", "verifier", "data_user", "auditor"}
    for lang in ("zh", "en"):
        missing = sorted(r for r in roles if f"role.{r}" not in MESSAGES[lang])
        assert not missing, (lang, missing)


def test_every_tree_head_status_has_words_in_both_languages() -> None:
    text = (VAULT / "audit" / "ops.py").read_text(encoding="utf-8") + (VAULT / "audit" / "log.py").read_text(
        encoding="utf-8"
    )
    statuses = {s for s in ("pending", "anchored", "superseded", "failed") if f'"{s}"' in text}
    assert statuses == {"pending", "anchored", "superseded", "failed"}
    for lang in ("zh", "en"):
        assert all(f"head.{s}" in MESSAGES[lang] for s in statuses)


async def test_the_auditor_page_shows_words_not_keys(harness: Harness) -> None:
    h = harness
    await h.department("gongan")  # department.registered, by admin
    auditor = Actor(SigningKey.generate())
    body = {"address": auditor.key.address, "name": "审计员"}
    assert (await h.http.post("/auditors", json=body, headers=h.admin.headers)).status_code == 201
    await h.login(auditor)
    h.http.cookies.set("dv_session", auditor.token)
    page = await h.http.get("/auditor")
    assert page.status_code == 200
    assert "登记部门" in page.text and "平台管理员" in page.text
    assert "department.registered" not in page.text.split("<tbody>")[1]
    assert "admin admin" not in page.text
