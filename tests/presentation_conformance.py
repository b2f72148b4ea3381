"""扫码亮证 end to end through the API, for any chain engine and database: a holder shows some
fields of a credential as a signed QR code; a counter verifies it online, from the text or a
picture, and is told each check's outcome; altered, stale, replayed or foreign presentations
are each "invalid" with the failing check named, never an error.

Test modules import these tests and provide a ``harness`` fixture (tests/support/harness.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import secrets
from dataclasses import dataclass
from typing import Any

from keys import SigningKey
from tests.support.harness import CITIZEN_ID, Actor, Harness, freeze
from vault import clock
from vault.credentials import commitments
from vault.presentations import codec as presentation_codec
from vault.presentations.model import DisclosedField

LICENCE = {
    "姓名": "张三",
    "性别": "男",
    "出生日期": "1949-12-31",
    "住址": "北京市朝阳区建国路88号",
    "准驾车型": "C1",
    "证号": "11010519491231002X",
}
SHOWN = ["姓名", "准驾车型"]


@dataclass
class World:
    issuer: Actor
    counter: Actor  # a verifier department
    citizen: Actor
    licence: dict[str, Any]


async def world(h: Harness, **licence: Any) -> World:
    issuer = await h.department("gongan")
    counter = await h.department("jiaotong", roles=["verifier"])
    citizen = await h.subject(issuer)
    record = await h.issue(issuer, fields=LICENCE, **licence)
    await h.settle()
    return World(issuer, counter, citizen, record)


async def prepared(h: Harness, holder: Actor, record_id: str, fields: list[str], **body: Any) -> dict[str, Any]:
    r = await h.http.post(
        "/me/presentations", json={"record_id": record_id, "fields": fields, **body}, headers=holder.headers
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def present(
    h: Harness, holder: Actor, record_id: str, fields: list[str] = SHOWN, *, key: SigningKey | None = None, **body: Any
) -> str:
    p = await prepared(h, holder, record_id, fields, **body)
    signature = (key or holder.key).sign_typed_data(p["typed_data"])
    r = await h.http.post(
        "/me/presentations/sign", json={"unsigned": p["unsigned"], "signature": signature}, headers=holder.headers
    )
    assert r.status_code == 200, r.text
    text: str = r.json()["text"]
    return text


async def check(h: Harness, counter: Actor, text: str) -> dict[str, Any]:
    r = await h.http.post("/presentations/verify", json={"text": text}, headers=counter.headers)
    assert r.status_code == 200, r.text
    verdict: dict[str, Any] = r.json()
    return verdict


def failed(verdict: dict[str, Any]) -> list[str]:
    assert verdict["valid"] is False
    names: list[str] = verdict["failed"]
    reasons = {c["name"]: c["reason"] for c in verdict["checks"]}
    assert all(reasons[n] for n in names)
    return names


def altered(text: str, **changes: Any) -> str:
    return presentation_codec.encode(dataclasses.replace(presentation_codec.decode(text), **changes))


ALL_CHECKS = [
    "holder_signature",
    "disclosed_fields",
    "batch_inclusion",
    "issuer_active",
    "not_revoked",
    "validity",
    "fresh",
    "not_replayed",
]


async def test_a_presentation_shows_only_the_chosen_fields_and_verifies(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    assert text.startswith("DV1:") and len(text) < presentation_codec.MAX_TEXT_CHARS
    verdict = await check(h, w.counter, text)
    assert verdict["valid"] is True, verdict
    assert [c["name"] for c in verdict["checks"]] == ALL_CHECKS
    assert verdict["disclosed"] == {"姓名": "张三", "准驾车型": "C1"}
    assert verdict["credential"]["title"] == "机动车驾驶证" and verdict["credential"]["issuer_code"] == "gongan"
    assert verdict["credential"]["credential_hash"] == w.licence["credential_hash"]
    # Nothing hidden travels: not the values, not the names.
    decoded = presentation_codec.decode(text)
    assert {f.name for f in decoded.fields} == set(SHOWN)
    for hidden in ("住址", "证号", "出生日期"):
        assert hidden not in repr(decoded) and LICENCE[hidden] not in repr(decoded)
    # The counter's reading is in the subject's access log.
    await h.settle()
    log = (await h.http.get("/me/access-log", headers=w.citizen.headers)).json()
    entries = log["entries"] if isinstance(log, dict) else log
    seen = [e for e in entries if e["action"] == "credential.verified"]
    assert seen, entries
    assert [(e["actor"], sorted(e["fields"])) for e in seen] == [("jiaotong", sorted(SHOWN))]


async def test_only_the_header_can_be_shown(harness: Harness) -> None:
    h = harness
    w = await world(h)
    verdict = await check(h, w.counter, await present(h, w.citizen, w.licence["id"], []))
    assert verdict["valid"] is True and verdict["disclosed"] == {}


async def test_a_tampered_field_fails_the_commitment_check_only(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    p = presentation_codec.decode(text)
    forged = tuple(dataclasses.replace(f, value="A1") if f.name == "准驾车型" else f for f in p.fields)
    assert failed(await check(h, w.counter, altered(text, fields=forged))) == ["disclosed_fields"]
    # The genuine presentation was not spent by the forgery scanned first.
    assert (await check(h, w.counter, text))["valid"] is True


async def test_a_hidden_field_cannot_be_guessed_or_added(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    p = presentation_codec.decode(text)
    # The verifier knows (or guesses right) a hidden value, but not its salt: no node matches.
    for _ in range(200):
        guess = commitments.field_leaf("证号", LICENCE["证号"], secrets.token_bytes(16))
        assert guess not in p.field_proof
    # Adding the guessed field to the presentation breaks it.
    taken = {p.header_index, *(f.index for f in p.fields)}
    free = next(i for i in range(p.leaf_count) if i not in taken)
    extra = DisclosedField(free, "证号", LICENCE["证号"], secrets.token_bytes(16))
    names = failed(await check(h, w.counter, altered(text, fields=(*p.fields, extra))))
    assert "disclosed_fields" in names


async def test_a_proof_from_another_batch_fails_inclusion(harness: Harness) -> None:
    h = harness
    w = await world(h)  # the licence is anchored alone: its batch proof is empty
    other = [await h.issue(w.issuer, fields={"x": i}) for i in range(3)]  # one more batch of three
    await h.settle()
    mine = {r["id"]: r for r in (await h.http.get("/me/records", headers=w.citizen.headers)).json()["records"]}
    stolen = tuple(bytes.fromhex(x[2:]) for x in mine[other[1]["id"]]["anchor"]["proof"])
    assert stolen and mine[other[1]["id"]]["anchor"]["root"] != mine[w.licence["id"]]["anchor"]["root"]
    text = await present(h, w.citizen, w.licence["id"])
    assert presentation_codec.decode(text).batch_proof == ()
    assert failed(await check(h, w.counter, altered(text, batch_proof=stolen))) == [
        "batch_inclusion",
        "issuer_active",
        "not_revoked",
    ]
    # And a member of the other batch with its proof swapped for a sibling's.
    text = await present(h, w.citizen, other[0]["id"], [])
    sibling = tuple(bytes.fromhex(x[2:]) for x in mine[other[2]["id"]]["anchor"]["proof"])
    assert sibling != presentation_codec.decode(text).batch_proof
    assert "batch_inclusion" in failed(await check(h, w.counter, altered(text, batch_proof=sibling)))


async def test_a_revoked_credential_is_invalid(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    r = await h.http.post(f"/records/{w.licence['id']}/revoke", json={"reason": "吊销"}, headers=w.issuer.headers)
    assert r.status_code == 200, r.text
    assert failed(await check(h, w.counter, text)) == ["not_revoked"]  # deny wins before it is mined
    await h.settle()
    assert failed(await check(h, w.counter, text)) == ["not_revoked"]
    r = await h.http.post(
        "/me/presentations", json={"record_id": w.licence["id"], "fields": []}, headers=w.citizen.headers
    )
    assert r.status_code == 409 and "revoked" in r.json()["detail"]


async def test_an_inactive_issuer_is_invalid(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    r = await h.http.post("/departments/gongan/deactivate", headers=h.admin.headers)
    assert r.status_code == 200, r.text
    await h.settle()
    names = failed(await check(h, w.counter, text))
    assert names == ["issuer_active"]


async def test_an_expired_credential_is_invalid(harness: Harness) -> None:
    h = harness
    now = clock.now()
    w = await world(h, valid_until=now + 100)
    text = await present(h, w.citizen, w.licence["id"], ttl=600)
    freeze(h.app, now + 150)
    assert failed(await check(h, w.counter, text)) == ["validity"]


async def test_an_expired_presentation_is_invalid(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"], ttl=60)
    freeze(h.app, clock.now() + 61)
    assert failed(await check(h, w.counter, text)) == ["fresh"]


async def test_a_failed_verification_is_logged_as_refused_naming_the_failed_checks(harness: Harness) -> None:
    """The access log says what happened: an expired presentation, or a credential checked with a
    proof that does not lead to its batch, was refused, and why."""
    h = harness
    w = await world(h)
    stale = await present(h, w.citizen, w.licence["id"], ttl=60)
    freeze(h.app, clock.now() + 61)
    assert failed(await check(h, w.counter, stale)) == ["fresh"]
    h.app.dependency_overrides.clear()
    assert (await check(h, w.counter, await present(h, w.citizen, w.licence["id"])))["valid"] is True
    r = await h.http.post(
        "/verify", json={"credential_hash": w.licence["credential_hash"], "proof": ["0x" + "11" * 32]}
    )
    assert r.status_code == 200 and r.json()["valid"] is False
    bad = [c["name"] for c in r.json()["checks"] if not c["passed"]]
    await h.settle()
    log = (await h.http.get("/me/access-log", headers=w.citizen.headers)).json()
    seen = sorted(
        (e["actor"], e["outcome"], e["reason"]) for e in log["entries"] if e["action"] == "credential.verified"
    )
    assert seen == [
        ("jiaotong", "ok", "presentation valid"),
        ("jiaotong", "refused", "failed checks: fresh"),
        ("public", "refused", "failed checks: " + ", ".join(bad)),
    ], seen


async def test_a_presentation_is_accepted_once(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    assert (await check(h, w.counter, text))["valid"] is True
    assert failed(await check(h, w.counter, text)) == ["not_replayed"]
    other = await h.department("minzheng", roles=["verifier"])
    assert failed(await check(h, other, text)) == ["not_replayed"]


async def test_a_code_scanned_at_several_counters_at_once_is_accepted_by_one(harness: Harness) -> None:
    h = harness
    w = await world(h)
    counters = [w.counter] + [await h.department(f"chuangkou{i}", roles=["verifier"]) for i in range(4)]
    text = await present(h, w.citizen, w.licence["id"])
    verdicts = await asyncio.gather(*(check(h, c, text) for c in counters))
    assert sorted(v["valid"] for v in verdicts) == [False] * 4 + [True]
    assert all(v["failed"] == ["not_replayed"] for v in verdicts if not v["valid"])


async def test_a_counters_challenge_binds_the_presentation_to_it(harness: Harness) -> None:
    h = harness
    w = await world(h)
    r = await h.http.post("/presentations/challenges", headers=w.counter.headers)
    assert r.status_code == 200, r.text
    nonce = r.json()["nonce"]
    text = await present(h, w.citizen, w.licence["id"], nonce=nonce)
    other = await h.department("minzheng", roles=["verifier"])
    assert failed(await check(h, other, text)) == ["not_replayed"]  # made for another counter
    verdict = await check(h, w.counter, text)
    assert verdict["valid"] is True and "challenge" in verdict["checks"][-1]["reason"]
    assert failed(await check(h, w.counter, text)) == ["not_replayed"]


async def test_a_presentation_signed_by_someone_else_is_invalid(harness: Harness) -> None:
    h = harness
    w = await world(h)
    p = await prepared(h, w.citizen, w.licence["id"], SHOWN)
    stranger = SigningKey.generate()
    r = await h.http.post(
        "/me/presentations/sign",
        json={"unsigned": p["unsigned"], "signature": stranger.sign_typed_data(p["typed_data"])},
        headers=w.citizen.headers,
    )
    assert r.status_code == 422 and "not by your key" in r.json()["detail"]
    # Signed outside the vault by another key: the counter refuses it.
    forged = altered(p["unsigned"], holder_signature=bytes.fromhex(stranger.sign_typed_data(p["typed_data"])[2:]))
    assert failed(await check(h, w.counter, forged)) == ["holder_signature"]
    assert failed(await check(h, w.counter, p["unsigned"])) == ["holder_signature"]  # never signed


async def test_a_qr_code_round_trips_from_png_and_svg(harness: Harness) -> None:
    from PIL import Image

    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    r = await h.http.post("/me/presentations/qr", json={"text": text, "format": "png"}, headers=w.citizen.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    png = r.content
    assert Image.open(io.BytesIO(png)).size[0] > 100
    r = await h.http.post(
        "/presentations/verify/image", content=png, headers={**w.counter.headers, "Content-Type": "image/png"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True and r.json()["disclosed"] == {"姓名": "张三", "准驾车型": "C1"}
    r = await h.http.post("/me/presentations/qr", json={"text": text, "format": "svg"}, headers=w.citizen.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml") and b"<svg" in r.content


async def test_a_corrupted_image_or_oversized_payload_is_a_verdict_not_an_error(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    png = (await h.http.post("/me/presentations/qr", json={"text": text}, headers=w.citizen.headers)).content
    damaged = png[: len(png) // 2] + bytes(len(png) - len(png) // 2)
    for body in (damaged, b"not an image at all", png[:40]):
        r = await h.http.post(
            "/presentations/verify/image", content=body, headers={**w.counter.headers, "Content-Type": "image/png"}
        )
        assert r.status_code == 200, r.text
        assert failed(r.json()) == ["qr_image"]
    for junk in ("DV1:" + "A" * 5000, "hello", "DV1:%%%%", "DV1:" + text[4:-3]):
        assert failed(await check(h, w.counter, junk)) == ["format"]
    r = await h.http.post(
        "/presentations/verify/image", content=png, headers={**w.counter.headers, "Content-Type": "text/plain"}
    )
    assert r.status_code == 422


async def test_bad_requests_are_refused_with_a_reason(harness: Harness) -> None:
    h = harness
    w = await world(h)
    rid = w.licence["id"]
    cases = [
        ({"record_id": rid, "fields": ["驾龄"]}, 422, "no field 驾龄"),
        ({"record_id": rid, "fields": [], "ttl": 5}, 422, "30-600"),
        ({"record_id": rid, "fields": [], "nonce": "0x1234"}, 422, "nonce"),
        ({"record_id": "0197aaaa-0000-7000-8000-000000000000", "fields": []}, 404, "not found"),
    ]
    for body, status, words in cases:
        r = await h.http.post("/me/presentations", json=body, headers=w.citizen.headers)
        assert r.status_code == status and words in r.text, r.text
    someone = await h.subject(w.issuer, identifier="110101199003073511", name="李四")
    r = await h.http.post("/me/presentations", json={"record_id": rid, "fields": []}, headers=someone.headers)
    assert r.status_code == 404  # another subject's record: as if it did not exist
    pending = await h.issue(w.issuer, fields={"a": 1})
    r = await h.http.post(
        "/me/presentations", json={"record_id": pending["id"], "fields": []}, headers=w.citizen.headers
    )
    assert r.status_code == 409 and "anchored" in r.json()["detail"]
    r = await h.http.post("/me/presentations", json={"record_id": rid, "fields": []}, headers=w.issuer.headers)
    assert r.status_code == 403
    text = await present(h, w.citizen, rid)
    r = await h.http.post("/me/presentations/qr", json={"text": text}, headers=someone.headers)
    assert r.status_code == 422
    issuer_only = await h.department("jiaoyu", roles=["issuer"])
    r = await h.http.post("/presentations/verify", json={"text": text}, headers=issuer_only.headers)
    assert r.status_code == 403 and "verifier" in r.json()["detail"]
    assert CITIZEN_ID not in text


# -- offline: a status snapshot instead of the chain ---------------------------------------------


async def snapshot(h: Harness) -> Any:
    from vault.presentations import status_snapshot

    r = await h.http.get("/status/snapshot")
    assert r.status_code == 200, r.text
    return status_snapshot.decode(r.text, trusted_signer=h.vault.ctx.chain.operator.address)


async def offline(snap: Any, text: str, now: int | None = None, **kwargs: Any) -> dict[str, Any]:
    from api.schemas.presentations import verdict_public
    from vault.presentations.verify import verify_offline

    verdict = await verify_offline(snap, text, now=clock.now() if now is None else now, **kwargs)
    return verdict_public(verdict).model_dump()


async def test_offline_a_snapshot_replaces_the_chain(harness: Harness, tmp_path: Any) -> None:
    from vault.presentations.nonces import FileReplayCache

    h = harness
    w = await world(h)
    snap = await snapshot(h)
    text = await present(h, w.citizen, w.licence["id"])
    seen = FileReplayCache(tmp_path / "seen.json")
    verdict = await offline(snap, text, replay=seen)
    assert verdict["valid"] is True, verdict
    assert [c["name"] for c in verdict["checks"]] == [*ALL_CHECKS, "snapshot"]
    assert (
        verdict["mode"] == "offline" and 0 <= verdict["snapshot_age"] < 60 and verdict["issuer_name"] == "gongan bureau"
    )
    assert failed(await offline(snap, text, replay=seen)) == ["not_replayed"]
    # Tampering is caught offline as online.
    p = presentation_codec.decode(text)
    forged = tuple(dataclasses.replace(f, value="A1") for f in p.fields)
    assert failed(await offline(snap, altered(text, fields=forged))) == ["disclosed_fields"]
    assert "batch_inclusion" in failed(await offline(snap, altered(text, batch_proof=(secrets.token_bytes(32),))))
    # An old snapshot says so.
    assert failed(await offline(snap, text, now=snap.created_at + 30, max_age=10)) == ["snapshot"]


async def test_offline_revocations_and_issuers_are_as_of_the_snapshot(harness: Harness) -> None:
    h = harness
    w = await world(h)
    before = await snapshot(h)
    text = await present(h, w.citizen, w.licence["id"])
    later = await h.issue(w.issuer, fields={"a": 1})
    await h.settle()
    r = await h.http.post(f"/records/{w.licence['id']}/revoke", json={"reason": "吊销"}, headers=w.issuer.headers)
    assert r.status_code == 200, r.text
    await h.settle()
    assert (await offline(before, text))["valid"] is True  # it cannot know yet; its age says how old it is
    after = await snapshot(h)
    assert failed(await offline(after, text)) == ["not_revoked"]
    newer = await present(h, w.citizen, later["id"], [])
    names = failed(await offline(before, newer))
    assert names == ["not_revoked"]  # issued after the snapshot: status unknown
    assert (await offline(after, newer))["valid"] is True
    r = await h.http.post("/departments/gongan/deactivate", headers=h.admin.headers)
    assert r.status_code == 200, r.text
    await h.settle()
    assert failed(await offline(await snapshot(h), newer)) == ["issuer_active"]


async def test_offline_a_replaced_holder_key_is_refused(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = await present(h, w.citizen, w.licence["id"])
    new_key = SigningKey.generate()
    sid = (await h.http.get("/me", headers=w.citizen.headers)).json()["id"]
    r = await h.http.post(f"/subjects/{sid}/key", json={"address": new_key.address}, headers=w.issuer.headers)
    assert r.status_code == 200, r.text
    await h.settle()
    after = await snapshot(h)
    assert failed(await offline(after, text)) == ["holder_signature"]
    assert failed(await check(h, w.counter, text)) == ["holder_signature"]  # online: the chain's key
    # With the new key the holder presents online at once; offline the credential still names
    # the old key, and the verdict says what to do.
    holder = await h.login(Actor(new_key))
    newer = await present(h, holder, w.licence["id"])
    assert (await check(h, w.counter, newer))["valid"] is True
    verdict = await offline(after, newer)
    assert failed(verdict) == ["holder_signature"] and "re-issue" in verdict["checks"][0]["reason"]
