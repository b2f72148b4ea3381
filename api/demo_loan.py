"""The demo's loan (普惠金融): a bank, a data user that is not a department, reads the enterprise's
business licence and tax certificate under a grant its legal representative signed, to approve
a small-business loan; the read shows in the enterprise's access log like any department's.

The bank is registered by the governance admin with its 金融许可证 number, as a verifier and
data user only (the vault refuses it the issuer and registrar roles). The read needs the grant
anchored first, so the seeder waits for it a while; ``settle`` lets a caller that drives the
submitter itself (a test) anchor it meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from api.client import VaultClient
from api.demo import DAY, ENTERPRISE, LIVE_GRANT, create, key, signed
from keys import Keystore

BANK: dict[str, Any] = {
    "code": "bank-demo",
    "name": "闽江农村商业银行 Minjiang Rural Commercial Bank",
    "roles": ["verifier", "data_user"],
    "kind": "bank",
    "licence_number": "B1234H235010001",  # 金融许可证 机构编码, made up
}
# Of the business licence (营业执照) and the tax certificate (纳税证明): what a credit officer
# needs for a small-business loan, and not the rest.
LOAN_GRANT: dict[str, Any] = {
    "grantee": BANK["code"],
    "record_types": ["licence", "certificate"],
    "fields": ["名称", "法定代表人", "注册资本", "纳税信用等级", "欠税情况"],
    "purpose_code": 201,  # vault.consent.purposes.LOAN_APPROVAL
    "purpose": "普惠金融：小微企业信用贷款审批",
    "max_uses": 5,
}
LOAN_DAYS = 30
# Long enough for a consortium chain's few blocks; the seeder says how to read later if not.
WAIT_SECONDS = 60.0


def register(admin: VaultClient, store: Keystore, say: Callable[[str], None]) -> None:
    login = key(store, f"dept-{BANK['code']}")
    created = create(admin, "/departments", {**BANK, "auth_address": login.address})
    say(
        f"data user {BANK['code']} ({BANK['kind']}, 金融许可证 {BANK['licence_number']}): "
        f"{'registered' if created else 'already registered'}"
    )


def _grant_once(firm: VaultClient, store: Keystore, now: int, say: Callable[[str], None]) -> str:
    """The enterprise's grant to the bank, signed with its own key (its legal representative's),
    unless one for the same purpose is live; its id."""
    what = f"{BANK['code']} {'、'.join(LOAN_GRANT['fields'])} for {LOAN_GRANT['purpose']}"
    for grant in firm.every("/me/grants", "grants"):
        if (
            grant["grantee"] == BANK["code"]
            and grant["purpose"] == LOAN_GRANT["purpose"]
            and grant["status"] in LIVE_GRANT
        ):
            say(f"  {ENTERPRISE['name']} already granted {what} -> grant {grant['id']} ({grant['status']})")
            return str(grant["id"])
    body = {**LOAN_GRANT, "expires_at": now + LOAN_DAYS * DAY}
    grant = signed(firm, store.load(ENTERPRISE["key"]), "/me/grants", body)
    say(
        f"  {ENTERPRISE['name']} (its legal representative's key) granted {what}, {LOAN_DAYS} days "
        f"-> grant {grant['id']} ({grant['status']})"
    )
    return str(grant["id"])


def _held(bank: VaultClient, grant_id: str) -> dict[str, Any] | None:
    return next((g for g in bank.every("/grants", "grants") if g["id"] == grant_id), None)


def lend(
    client_factory: Callable[[], VaultClient],
    store: Keystore,
    now: int,
    say: Callable[[str], None],
    settle: Callable[[], None] | None = None,
) -> None:
    """The grant, then the bank's one read once it is anchored (not again on the next run)."""
    with client_factory() as firm:
        firm.login(store.load(ENTERPRISE["key"]))
        grant_id = _grant_once(firm, store, now, say)
    with client_factory() as bank:
        bank.login(store.load(f"dept-{BANK['code']}"))
        deadline = time.monotonic() + WAIT_SECONDS
        held = _held(bank, grant_id)
        while held is not None and held["status"] == "pending" and time.monotonic() < deadline:
            if settle is not None:
                settle()
            else:
                time.sleep(0.5)
            held = _held(bank, grant_id)
        later = f"`datavault read --as dept-{BANK['code']} {grant_id}`"
        if held is None or held["status"] != "active":
            state = "not found" if held is None else held["status"]
            say(f"  {BANK['code']} has not read yet (grant {state}); once it is anchored: {later}")
            return
        if held["uses"]:
            say(f"  {BANK['code']} already read under grant {grant_id} ({held['uses']} of {held['max_uses']} uses)")
            return
        read = bank.request("POST", f"/grants/{grant_id}/read", {})
        titles = "、".join(r["title"] for r in read["records"])
        say(
            f"  {BANK['code']} read {titles} for loan approval (use {read['uses']} of {read['max_uses']}); "
            f"{ENTERPRISE['name']} sees it in its access log: `datavault access-log --as {ENTERPRISE['key']}`"
        )
