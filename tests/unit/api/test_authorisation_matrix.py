"""The authorisation matrix: every operation of the OpenAPI document, as every kind of caller,
on the caller's own data and on another subject's.

The rule table says who may call each operation; an operation the document lists and the
table does not fails the test, so a new route cannot ship without a rule. A caller the rule
does not allow must be refused (401 without a token, else 403, or 404 where a path id is
hidden from it); one it allows must not be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keys import SigningKey
from tests.support.harness import Actor, Harness, open_harness
from tests.support.world import DAY, Subject, World, build_world
from vault import clock
from vault.interop import jose_keys

ROLES = ("anonymous", "citizen", "other_citizen", "agent", "dept_without", "dept_with", "auditor", "admin")
METHODS = {"get", "post", "put", "patch", "delete"}


@dataclass(frozen=True)
class Case:
    role: str
    own: bool  # the caller's own data, or another subject's
    caller: Actor | None
    subject: Subject  # whose objects the path and body name
    w: World


# -- who may: each kind answers whether the case's caller may, given who owns what -------------


def owner_role(w: World, subject: Subject) -> set[str]:
    """The roles that act for ``subject``: itself, and the agent for the firm."""
    owners = ((w.zhang, "citizen"), (w.li, "other_citizen"), (w.firm, "agent"))  # wang: no role here
    return {role for s, role in owners if s is subject}


def grantee_role(w: World, subject: Subject) -> str:
    return "dept_with" if subject is w.li else "dept_without"  # li granted gongan; the others renshe


Kind = Callable[[Case], bool]
PUBLIC: Kind = lambda c: True
LOGGED_IN: Kind = lambda c: c.role != "anonymous"
ADMIN: Kind = lambda c: c.role == "admin"
AUDITOR: Kind = lambda c: c.role == "auditor"
DEPARTMENT: Kind = lambda c: c.role in ("dept_with", "dept_without")
# The needed role (issuer, verifier, registrar): gongan has them all, renshe none of them. Its own
# data: what it issued and whom it registered (everyone but wang, whom minzheng registered).
NEEDED_ROLE: Kind = lambda c: c.role == "dept_with"
NEEDED_ROLE_OWN: Kind = lambda c: c.role == "dept_with" and c.subject is not c.w.wang
DELEGATE: Kind = lambda c: c.role == "agent"
SUBJECT: Kind = lambda c: c.role in ("citizen", "other_citizen")  # /me/..., nothing named
OWN_SUBJECT: Kind = lambda c: c.role in ("citizen", "other_citizen") and c.role in owner_role(c.w, c.subject)
ACTING: Kind = lambda c: c.role in owner_role(c.w, c.subject)  # the subject itself, or its agent
GRANTEE: Kind = lambda c: c.role == grantee_role(c.w, c.subject)
NOTICE_OWNER: Kind = lambda c: c.role == "dept_without"  # renshe read what was corrected

RULES: dict[tuple[str, str], Kind] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("POST", "/auth/challenge"): PUBLIC,
    ("POST", "/auth/token"): LOGGED_IN,  # whoever holds a registered key (anonymous holds none)
    ("POST", "/auth/logout"): LOGGED_IN,
    ("GET", "/departments"): PUBLIC,
    ("POST", "/departments"): ADMIN,
    ("POST", "/departments/{code}/deactivate"): ADMIN,
    ("POST", "/departments/{code}/reactivate"): ADMIN,
    ("PUT", "/departments/{code}/authority-code"): ADMIN,
    ("PUT", "/departments/{code}/roles"): ADMIN,
    ("POST", "/subjects"): NEEDED_ROLE,
    ("GET", "/me"): SUBJECT,
    ("POST", "/me/keys/rotate"): SUBJECT,
    ("POST", "/subjects/{subject_id}/keys/rotate"): ADMIN,
    ("POST", "/subjects/{subject_id}/registrar"): ADMIN,
    ("POST", "/records"): NEEDED_ROLE,
    ("POST", "/records/bulk"): NEEDED_ROLE,
    ("POST", "/records/status"): DEPARTMENT,
    ("POST", "/records/{record_id}/revoke"): NEEDED_ROLE_OWN,
    ("GET", "/me/records"): SUBJECT,
    ("GET", "/me/records/{record_id}"): OWN_SUBJECT,
    ("GET", "/me/records/{record_id}/vc"): OWN_SUBJECT,
    ("POST", "/me/records/{record_id}/sd-jwt"): OWN_SUBJECT,
    ("GET", "/consent/eip712"): PUBLIC,
    ("POST", "/me/grants/prepare"): SUBJECT,
    ("GET", "/me/grants"): SUBJECT,
    ("POST", "/me/grants"): SUBJECT,
    ("GET", "/me/grants/{grant_id}"): OWN_SUBJECT,
    ("GET", "/me/grants/{grant_id}/receipt"): OWN_SUBJECT,
    ("POST", "/me/grants/{grant_id}/revoke/prepare"): OWN_SUBJECT,
    ("POST", "/me/grants/{grant_id}/revoke"): OWN_SUBJECT,
    ("POST", "/subjects/{subject_id}/grants/prepare"): ACTING,
    ("POST", "/subjects/{subject_id}/grants"): ACTING,
    ("GET", "/subjects/{subject_id}/grants"): ACTING,
    ("POST", "/subjects/{subject_id}/grants/{grant_id}/revoke/prepare"): ACTING,
    ("POST", "/subjects/{subject_id}/grants/{grant_id}/revoke"): ACTING,
    ("GET", "/grants"): DEPARTMENT,
    ("POST", "/grants/{grant_id}/read"): GRANTEE,
    ("POST", "/me/delegations/prepare"): SUBJECT,
    ("GET", "/me/delegations"): SUBJECT,
    ("POST", "/me/delegations"): SUBJECT,
    ("POST", "/me/delegations/{delegation_id}/revoke/prepare"): OWN_SUBJECT,
    ("POST", "/me/delegations/{delegation_id}/revoke"): OWN_SUBJECT,
    ("GET", "/me/acting-for"): DELEGATE,
    ("POST", "/subjects/{subject_id}/guardians"): NEEDED_ROLE_OWN,
    ("DELETE", "/subjects/{subject_id}/guardians/{address}"): NEEDED_ROLE_OWN,
    ("POST", "/subjects/{subject_id}/key"): NEEDED_ROLE_OWN,
    ("POST", "/subjects/find"): NEEDED_ROLE_OWN,
    ("GET", "/delegations/check"): DEPARTMENT,
    ("POST", "/verify"): PUBLIC,
    ("GET", "/auditors"): ADMIN,
    ("POST", "/auditors"): ADMIN,
    ("GET", "/audit/entries"): AUDITOR,
    ("GET", "/audit/export"): AUDITOR,
    ("GET", "/audit/heads"): AUDITOR,
    ("GET", "/audit/proofs/inclusion"): AUDITOR,
    ("GET", "/audit/proofs/consistency"): AUDITOR,
    ("POST", "/audit/verify"): AUDITOR,
    ("GET", "/me/access-log"): SUBJECT,
    ("GET", "/subjects/{subject_id}/access-log"): ACTING,
    ("POST", "/me/records/{record_id}/corrections"): OWN_SUBJECT,
    ("GET", "/me/corrections"): SUBJECT,
    ("POST", "/subjects/{subject_id}/records/{record_id}/corrections"): ACTING,
    ("GET", "/subjects/{subject_id}/corrections"): ACTING,
    ("GET", "/corrections"): DEPARTMENT,
    ("POST", "/corrections/{correction_id}/accept"): NEEDED_ROLE_OWN,
    ("POST", "/corrections/{correction_id}/reject"): NEEDED_ROLE_OWN,
    ("GET", "/notifications"): DEPARTMENT,
    ("POST", "/notifications/{notice_id}/read"): NOTICE_OWNER,
    ("GET", "/status/snapshot"): PUBLIC,
    ("GET", "/status/token-list"): PUBLIC,
    ("GET", "/status/bitstring-list"): PUBLIC,
    ("GET", "/status/jwks.json"): PUBLIC,
    ("GET", "/issuers/{code}/jwks.json"): PUBLIC,
    ("GET", "/.well-known/jwt-vc-issuer/issuers/{code}"): PUBLIC,
    ("POST", "/me/presentations"): OWN_SUBJECT,
    ("POST", "/me/presentations/sign"): OWN_SUBJECT,
    ("POST", "/me/presentations/qr"): OWN_SUBJECT,
    ("POST", "/me/presentations/cose"): OWN_SUBJECT,
    ("POST", "/me/presentations/cose/sign"): OWN_SUBJECT,
    ("POST", "/presentations/challenges"): NEEDED_ROLE,
    ("POST", "/presentations/verify"): NEEDED_ROLE,
    ("POST", "/presentations/verify/image"): NEEDED_ROLE,
    ("POST", "/me/erasures"): OWN_SUBJECT,
    ("GET", "/me/erasures"): SUBJECT,
    ("POST", "/subjects/{subject_id}/erasures"): NEEDED_ROLE_OWN,
    ("GET", "/departments/me/erasure-notices"): DEPARTMENT,
    ("POST", "/departments/me/erasure-notices/read"): DEPARTMENT,
    ("PUT", "/retention-rules/{record_type}"): ADMIN,
    ("DELETE", "/retention-rules/{record_type}"): ADMIN,
    ("GET", "/retention-rules"): ADMIN,
    ("GET", "/retention/due"): ADMIN,
    ("POST", "/retention/run"): ADMIN,
    ("GET", "/system/crypto"): ADMIN,
    ("POST", "/system/crypto/migration"): ADMIN,
}

# -- what is sent: the path's ids and a body that is valid, so refusals are for who, not what ---


def path_ids(c: Case) -> dict[str, str]:
    s = c.subject
    return {
        "subject_id": s.id,
        "record_id": s.licence["id"],
        "grant_id": s.grant["id"],
        "correction_id": s.correction["id"],
        "delegation_id": str(s.delegation["id"]),
        "notice_id": str(c.w.notice_id),
        "code": "renshe",
        "address": s.delegation["agent"],
        "record_type": "licence",
    }


async def owner_typed(c: Case, path: str) -> dict[str, Any]:
    """Typed data as the subject's own key fetches it; the caller signs it with its own key."""
    owner = c.w.firm.actor if c.subject is c.w.firm else c.subject.actor
    r = await c.w.h.http.post(path, headers=owner.headers)
    typed: dict[str, Any] = r.json()["typed_data"] if r.status_code == 200 else {}
    return typed


def signed(c: Case, typed: dict[str, Any]) -> str:
    key = c.caller.key if c.caller is not None else SigningKey.generate()
    return key.sign_typed_data(typed) if typed else "0x" + "11" * 65


def grant_prepare(c: Case) -> dict[str, Any]:
    fields = ["名称"] if c.subject is c.w.firm else ["姓名"]
    return {
        "grantee": "renshe",
        "record_types": ["licence"],
        "fields": fields,
        "purpose_code": 101,
        "purpose": "核验",
        "expires_at": clock.now() + 10 * DAY,
        "max_uses": 1,
    }


async def grant_submit(c: Case, prepare_path: str) -> dict[str, Any]:
    owner = c.w.firm.actor if c.subject is c.w.firm else c.subject.actor
    if c.subject is c.w.firm:
        owner = c.w.agent
    r = await c.w.h.http.post(prepare_path, json=grant_prepare(c), headers=owner.headers)
    typed = r.json()["typed_data"]
    return {"message": typed["message"], "signature": signed(c, typed)}


async def presentation(c: Case) -> dict[str, Any]:
    """A presentation of the subject's licence, prepared by the subject itself."""
    owner = c.subject.actor
    r = await c.w.h.http.post("/me/presentations", json={"record_id": c.subject.licence["id"]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    prepared: dict[str, Any] = r.json()
    return prepared


async def body_for(method: str, path: str, c: Case) -> Any:
    s, w = c.subject, c.w
    fresh = SigningKey.generate().address
    until = clock.now() + 10 * DAY
    me = "/me/grants/prepare" if s is not w.firm else f"/subjects/{s.id}/grants/prepare"
    bodies: dict[tuple[str, str], Callable[[], Awaitable[Any]] | Any] = {
        ("POST", "/auth/challenge"): {"address": fresh},
        ("POST", "/departments"): {"code": "minzheng", "name": "民政局", "roles": ["data_user"], "auth_address": fresh},
        ("POST", "/subjects"): {
            "kind": "citizen",
            "identifier": "110101200001011237",
            "name": "赵六",
            "address": fresh,
        },
        ("POST", "/subjects/{subject_id}/registrar"): {"department": "gongan"},
        ("PUT", "/departments/{code}/authority-code"): {"authority_code": "11350100MB00000025"},
        ("PUT", "/departments/{code}/roles"): {"roles": ["data_user"]},  # renshe's own: a 409, nothing changes
        ("POST", "/records"): {
            "subject": {"subject_id": s.id},
            "type": "licence",
            "title": "证",
            "fields": {"a": "b"},
            "valid_until": until,
        },
        ("POST", "/records/bulk"): {
            "items": [
                {
                    "subject": {"subject_id": s.id},
                    "type": "licence",
                    "title": "证",
                    "fields": {"a": "b"},
                    "valid_until": until,
                }
            ],
            "dry_run": True,
        },
        ("POST", "/records/status"): {"ids": [s.licence["id"]]},
        ("POST", "/records/{record_id}/revoke"): {"reason": "核销"},
        ("POST", "/me/grants/prepare"): grant_prepare(c),
        ("POST", "/me/grants"): lambda: grant_submit(c, me),
        ("POST", "/me/grants/{grant_id}/revoke"): lambda: _sig(c, f"/me/grants/{s.grant['id']}/revoke/prepare"),
        ("POST", "/subjects/{subject_id}/grants/prepare"): grant_prepare(c),
        ("POST", "/subjects/{subject_id}/grants"): lambda: grant_submit(c, me),
        ("POST", "/subjects/{subject_id}/grants/{grant_id}/revoke"): lambda: _sig(
            c, f"/me/grants/{s.grant['id']}/revoke/prepare"
        ),
        ("POST", "/grants/{grant_id}/read"): {},
        ("POST", "/me/delegations/prepare"): {"agent": fresh, "record_types": ["licence"], "expires_at": until},
        ("POST", "/me/delegations"): lambda: _delegation(c, fresh, until),
        ("POST", "/me/delegations/{delegation_id}/revoke"): lambda: _sig(
            c, f"/me/delegations/{s.delegation['id']}/revoke/prepare"
        ),
        ("POST", "/subjects/{subject_id}/guardians"): {"address": fresh, "expires_at": until, "reason": "监护"},
        ("POST", "/subjects/{subject_id}/key"): {"address": fresh},
        ("POST", "/subjects/find"): {"kind": s.kind, "identifier": s.identifier},
        ("POST", "/verify"): {"document": s.licence["document"], "proof": (s.licence["anchor"] or {}).get("proof", [])},
        ("POST", "/auditors"): {"address": fresh, "name": "审计员二"},
        ("POST", "/me/records/{record_id}/corrections"): {"reason": "有误", "fields": {"准驾车型": "B1"}},
        ("POST", "/subjects/{subject_id}/records/{record_id}/corrections"): {
            "reason": "有误",
            "fields": {"准驾车型": "B1"},
        },
        ("POST", "/corrections/{correction_id}/accept"): {"note": "已核实"},
        ("POST", "/corrections/{correction_id}/reject"): {"note": "不予更正"},
        ("POST", "/me/presentations"): {"record_id": s.licence["id"]},
        ("POST", "/me/records/{record_id}/sd-jwt"): {"holder_jwk": jose_keys.public_jwk(s.actor.key.account)},
        ("POST", "/me/presentations/sign"): lambda: _presentation_signed(c),
        ("POST", "/me/presentations/qr"): lambda: _presentation_text(c),
        ("POST", "/me/presentations/cose"): {
            "record_id": s.licence["id"],
            "public_key": jose_keys.public_jwk(s.actor.key.account),
        },
        ("POST", "/me/presentations/cose/sign"): lambda: _cose_signed(c),
        ("POST", "/presentations/verify"): lambda: _presentation_text(c),
        ("POST", "/me/erasures"): {"scope": "record", "record_id": s.licence["id"]},
        ("POST", "/subjects/{subject_id}/erasures"): {"scope": "file", "basis": "court-order"},
        ("POST", "/departments/me/erasure-notices/read"): {"ids": [1]},
        ("PUT", "/retention-rules/{record_type}"): {"keep_days_after_expiry": 3650},
        ("POST", "/system/crypto/migration"): {"to": "sm"},
    }
    body = bodies.get((method, path))
    return await body() if callable(body) else body


async def _sig(c: Case, prepare_path: str) -> dict[str, Any]:
    return {"signature": signed(c, await owner_typed(c, prepare_path))}


async def _delegation(c: Case, agent: str, until: int) -> dict[str, Any]:
    owner = c.w.firm.actor if c.subject is c.w.firm else c.subject.actor
    body = {"agent": agent, "record_types": ["licence"], "expires_at": until}
    typed = (await c.w.h.http.post("/me/delegations/prepare", json=body, headers=owner.headers)).json()["typed_data"]
    return {"message": typed["message"], "signature": signed(c, typed)}


async def _presentation_signed(c: Case) -> dict[str, Any]:
    prepared = await presentation(c)
    key = c.caller.key if c.caller is not None else SigningKey.generate()
    return {"unsigned": prepared["unsigned"], "signature": key.sign_typed_data(prepared["typed_data"])}


async def _cose_signed(c: Case) -> dict[str, Any]:
    """A DC1 presentation of the subject's licence, prepared by the subject, signed by the caller."""
    from vault.presentations import cose_qr
    from vault.presentations.issuer_signatures import credential_domain

    owner = c.subject.actor
    body = {"record_id": c.subject.licence["id"], "public_key": jose_keys.public_jwk(owner.key.account)}
    r = await c.w.h.http.post("/me/presentations/cose", json=body, headers=owner.headers)
    assert r.status_code == 200, r.text
    key = c.caller.key if c.caller is not None else SigningKey.generate()
    private = jose_keys.private_jwk(key.account).export_private(as_dict=True)
    aad = cose_qr.external_aad(credential_domain(c.w.h.vault.ctx))
    signature = cose_qr.sign(r.json()["unsigned"], private, aad)
    return {"unsigned": r.json()["unsigned"], "signature": "0x" + signature.hex()}


async def _presentation_text(c: Case) -> dict[str, Any]:
    prepared = await presentation(c)
    body = {"unsigned": prepared["unsigned"], "signature": c.subject.actor.key.sign_typed_data(prepared["typed_data"])}
    r = await c.w.h.http.post("/me/presentations/sign", json=body, headers=c.subject.actor.headers)
    return {"text": r.json()["text"]}


QUERIES: dict[tuple[str, str], Callable[[Case], dict[str, Any]]] = {
    ("GET", "/delegations/check"): lambda c: {"subject_id": c.subject.id, "agent": c.subject.delegation["agent"]},
    ("GET", "/audit/proofs/inclusion"): lambda c: {"seq": 0, "size": 1},
    ("GET", "/audit/proofs/consistency"): lambda c: {"first": 1, "second": 1},
}

# Refused otherwise than 401/403/404, by design: a presentation's text is the caller's input, and
# one of another subject's credential is invalid input to the QR maker.
REFUSED_AS: dict[tuple[str, str], set[int]] = {("POST", "/me/presentations/qr"): {422}}

# Run last, in this order: each changes what the cases after it would find.
LAST = [
    # Starts moving the vault to sm: everything after it is sealed in SM4 (both stay readable).
    "/system/crypto/migration",
    "/me/grants/{grant_id}/revoke",
    "/subjects/{subject_id}/grants/{grant_id}/revoke",
    "/me/delegations/{delegation_id}/revoke",
    "/me/erasures",
    "/auth/logout",
    "/me/keys/rotate",
    "/subjects/{subject_id}/keys/rotate",
    "/records/{record_id}/revoke",
    "/subjects/{subject_id}/key",
    "/departments/{code}/deactivate",
    "/subjects/{subject_id}/registrar",
    "/subjects/{subject_id}/erasures",
]


def callers(w: World) -> dict[str, tuple[Actor | None, Subject, Subject]]:
    """Each role's key, its own subject and another one."""
    return {
        "anonymous": (None, w.zhang, w.li),
        "citizen": (w.zhang.actor, w.zhang, w.li),
        "other_citizen": (w.li.actor, w.li, w.zhang),
        "agent": (w.agent, w.firm, w.zhang),
        "dept_without": (w.renshe, w.zhang, w.li),
        "dept_with": (w.gongan, w.li, w.wang),
        "auditor": (w.auditor, w.zhang, w.li),
        "admin": (w.h.admin, w.zhang, w.li),
    }


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    h = await open_harness(tmp_path)
    try:
        yield await build_world(h)
    finally:
        await h.close()


async def test_every_route_refuses_whom_its_rule_does_not_allow(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = world, world.h
    doc = h.app.openapi()
    routes = [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if m in METHODS]
    missing = [r for r in routes if r not in RULES]
    assert not missing, f"routes without a rule in the authorisation matrix: {missing}"
    routes.sort(key=lambda r: LAST.index(r[1]) + 1 if r[1] in LAST else 0)
    who = callers(w)
    wrong: list[str] = []
    cases = 0
    for method, path in routes:
        rule = RULES[(method, path)]
        names_data = (
            "{" in path
            or (method, path) in QUERIES
            or path.startswith("/me/presentations")
            or path in ("/records", "/records/bulk", "/records/status", "/verify", "/presentations/verify")
        )
        for role in ROLES:
            actor, own, other = who[role]
            for is_own in (True, False) if names_data else (True,):
                case = Case(role, is_own, actor, own if is_own else other, w)
                url = path.format(**path_ids(case))
                headers = actor.headers if actor is not None else {}
                if path == "/auth/token":
                    body: Any = await _login_body(h, actor)
                else:
                    body = await body_for(method, path, case)
                query = QUERIES.get((method, path), lambda _c: {})(case)
                r = await h.http.request(
                    method, url, headers=headers, params=query, **({"json": body} if body is not None else {})
                )
                cases += 1
                allowed = rule(case)
                label = f"{method} {path} as {role} on {'own' if is_own else 'another'}'s data -> {r.status_code}"
                if r.status_code >= 500:
                    wrong.append(f"{label}: {r.text[:200]}")
                elif allowed and r.status_code in (401, 403):
                    wrong.append(f"{label} but the rule allows it: {r.text[:200]}")
                elif not allowed:
                    refused = {401} if actor is None else {401, 403, 404} if "{" in path or names_data else {401, 403}
                    refused |= REFUSED_AS.get((method, path), set()) if actor is not None else set()
                    if r.status_code not in refused:
                        wrong.append(f"{label} but the rule refuses it (wanted {sorted(refused)}): {r.text[:200]}")
                if path in LAST and actor is not None:
                    await _restore(h, actor, path, r.status_code)
        await h.settle()  # what the route issued or revoked is anchored before the next one looks
    with capsys.disabled():
        print(f"\nauthorisation matrix: {len(routes)} routes, {len(ROLES)} roles, {cases} cases, {len(wrong)} wrong")
        for line in wrong:
            print("  " + line)
    assert not wrong


async def _login_body(h: Harness, actor: Actor | None) -> dict[str, Any]:
    key = actor.key if actor is not None else SigningKey.generate()
    challenge = (await h.http.post("/auth/challenge", json={"address": key.address})).json()["challenge"]
    return {"challenge": challenge, "signature": key.sign_message(challenge)}


async def _restore(h: Harness, actor: Actor, path: str, status: int) -> None:
    """Undo what an allowed case changed that the cases after it rely on."""
    if path == "/departments/{code}/deactivate" and status == 200:
        r = await h.http.post("/departments/renshe/reactivate", headers=h.admin.headers)
        assert r.status_code == 200, r.text
    if path == "/auth/logout":
        await h.login(actor)
