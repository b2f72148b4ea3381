"""`datavault demo`: realistic sample data, issued through the API like any client would.

Every key it makes lives in the data directory's keystore, so the terminal commands
(`datavault records --as citizen-zhang-san`, ...) can log in as these people afterwards.
Consent is signed the way a wallet would sign it: 张三 grants the social-security bureau two
fields of his licences, and the enterprise appoints an agent (经办人) for its licences. The
governance admin also registers an auditor (审计), who reads the access log and nothing else,
and a bank that lends to the enterprise under its grant (``api.demo_loan``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api import demo_keys
from api.client import ApiError, VaultClient
from keys import Keystore, SigningKey

DAY = 24 * 3600
YEAR = 365 * DAY

DEPARTMENTS = [
    ("gongan", "市公安局 Municipal Public Security Bureau", ["issuer", "verifier", "registrar"]),
    (
        "renshe",
        "市人力资源和社会保障局 Human Resources and Social Security Bureau",
        ["issuer", "verifier", "data_user"],
    ),
    ("shichang", "市市场监督管理局 Market Regulation Administration", ["issuer", "verifier", "registrar"]),
    ("jiaoyu", "市教育局 Education Bureau", ["issuer"]),
    ("shuiwu", "国家税务总局市税务局 Tax Bureau", ["issuer"]),
]

# Their 统一社会信用代码 (颁发机构代码): made up, with valid GB 32100 check characters, so that
# the demo's credentials carry a GB/T 36904 licence identifier (标识) and type codes.
AUTHORITY_CODES = {
    "gongan": "11350100MB00000012",
    "renshe": "11350100MB00000025",
    "shichang": "11350100MB00000038",
    "jiaoyu": "11350100MB0000004B",
    "shuiwu": "11350100MB0000005E",
}

CITIZEN = {"key": "citizen-zhang-san", "kind": "citizen", "identifier": "11010519491231002X", "name": "张三"}
ENTERPRISE = {
    "key": "enterprise-minjiang",
    "kind": "enterprise",
    "identifier": "91350100M000100Y43",
    "name": "闽江数据科技有限公司",
}


# 张三 lets the social-security bureau (the demo's data user) check what his driving licence
# allows him to drive, and nothing else on it; the enterprise has an agent (经办人) for licences.
GRANT: dict[str, Any] = {
    "grantee": "renshe",
    "record_types": ["licence"],
    "fields": ["姓名", "准驾车型"],
    "purpose_code": 101,
    "purpose": "灵活就业人员参保登记：核验网约车驾驶员准驾车型",
    "max_uses": 20,
}
GRANT_DAYS = 90
AGENT: dict[str, Any] = {"key": "agent-minjiang-wang-wu", "name": "王五", "record_types": ["licence"]}
AUDITOR: dict[str, str] = {"key": "auditor", "name": "市审计局 审计员 Municipal Audit Bureau auditor"}
LIVE_GRANT = ("pending", "active", "not_yet_valid")
LIVE_DELEGATION = ("pending", "active")


def key(store: Keystore, name: str) -> SigningKey:
    if not store.exists(name):
        store.create(name)
    return store.load(name)


def create(client: VaultClient, path: str, body: dict[str, Any], method: str = "POST") -> Any:
    """POSTs ``body``; None if it already exists (409), so seeding twice changes nothing."""
    try:
        return client.request(method, path, body)
    except ApiError as exc:
        if exc.status != 409:
            raise
        return None


def credentials(now: int) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    citizen = {"kind": CITIZEN["kind"], "identifier": CITIZEN["identifier"]}
    enterprise = {"kind": ENTERPRISE["kind"], "identifier": ENTERPRISE["identifier"]}
    return [
        (
            "gongan",
            citizen,
            {
                "type": "licence",
                "title": "居民身份证 Resident identity card",
                "valid_until": now + 20 * YEAR,
                "fields": {
                    "姓名": "张三",
                    "性别": "男",
                    "民族": "汉",
                    "住址": "北京市东城区示例路1号",
                    "签发机关": "北京市公安局东城分局",
                },
            },
        ),
        (
            "gongan",
            citizen,
            {
                "type": "licence",
                "title": "机动车驾驶证 Driving licence",
                "valid_until": now + 6 * YEAR,
                "fields": {"姓名": "张三", "准驾车型": "C1", "初次领证日期": "2015-06-01", "档案编号": "110100000001"},
            },
        ),
        (
            "jiaoyu",
            citizen,
            {
                "type": "certificate",
                "title": "学位证书 Degree certificate",
                "valid_until": now + 100 * YEAR,
                "fields": {
                    "姓名": "张三",
                    "学位": "工学学士",
                    "专业": "计算机科学与技术",
                    "授予单位": "示例大学",
                    "授予日期": "1972-07-01",
                },
            },
        ),
        (
            "renshe",
            citizen,
            {
                "type": "data",
                "title": "社会保险参保证明 Social insurance record",
                "valid_until": now + YEAR,
                "fields": {"参保状态": "正常", "险种": ["养老", "医疗", "失业"], "缴费月数": 312},
            },
        ),
        (
            "shichang",
            enterprise,
            {
                "type": "licence",
                "title": "营业执照 Business licence",
                "valid_until": now + 30 * YEAR,
                "fields": {
                    "名称": "闽江数据科技有限公司",
                    "类型": "有限责任公司",
                    "法定代表人": "李四",
                    "注册资本": "1000万元",
                    "成立日期": "2018-03-15",
                },
            },
        ),
        (
            "shuiwu",
            enterprise,
            {
                "type": "certificate",
                "title": "纳税证明 Tax payment certificate",
                "valid_until": now + YEAR,
                "fields": {
                    "纳税人名称": "闽江数据科技有限公司",
                    "纳税信用等级": "A",
                    "欠税情况": "无欠税",
                    "近三年纳税总额": "186.4万元",
                },
            },
        ),
    ]


def seed(
    client_factory: Callable[[], VaultClient],
    store: Keystore,
    say: Callable[[str], None],
    settle: Callable[[], None] | None = None,
) -> dict[str, str]:
    """Seed the vault; safe to run twice (what exists is left as it is). ``settle``: for a
    vault whose submitter the caller drives, anchors what is queued (the bank's read waits
    for its grant)."""
    from api import demo_loan  # it builds on this module's people and helpers

    now = int(time.time())
    with client_factory() as admin:
        admin.login(store.load("admin"))
        for code, name, roles in DEPARTMENTS:
            login = key(store, f"dept-{code}")
            body = {
                "code": code,
                "name": name,
                "roles": roles,
                "auth_address": login.address,
                "authority_code": AUTHORITY_CODES[code],
            }
            created = create(admin, "/departments", body)
            say(f"department {code}: {'registered' if created else 'already registered'}")
            if not created:  # a vault seeded before departments had authority codes gets them now
                code_body = {"authority_code": AUTHORITY_CODES[code]}
                create(admin, f"/departments/{code}/authority-code", code_body, method="PUT")
        demo_loan.register(admin, store, say)
        auditor = key(store, AUDITOR["key"])
        created = create(admin, "/auditors", {"address": auditor.address, "name": AUDITOR["name"]})
        say(
            f"auditor: {'registered' if created else 'already registered'} (login key '{AUDITOR['key']}'; "
            "it reads the access log, never personal data)"
        )
    subject_ids: dict[str, str] = {}
    with client_factory() as registrar:
        registrar.login(store.load("dept-gongan"))
        for person in (CITIZEN, ENTERPRISE):
            login = key(store, person["key"])
            body = {
                "kind": person["kind"],
                "identifier": person["identifier"],
                "name": person["name"],
                "address": login.address,
            }
            created = create(registrar, "/subjects", body)
            say(
                f"{person['kind']} {person['name']}: {'registered' if created else 'already registered'} "
                f"(login key '{person['key']}')"
            )
    for person in (CITIZEN, ENTERPRISE):
        with client_factory() as me:
            token = me.login(store.load(person["key"]))
            subject_ids[person["key"]] = token["subject"]
            # By title, not "any records at all": a run interrupted half-way is completed
            # by the next one instead of being left half-seeded for good.
            held = {(r.get("document") or {}).get("title") for r in me.every("/me/records", "records")}
            for code, subject, cred in credentials(now):
                if subject["identifier"] != person["identifier"]:
                    continue
                if cred["title"] in held:
                    say(f"  {person['name']} already holds {cred['title']}")
                    continue
                with client_factory() as dept:
                    dept.login(store.load(f"dept-{code}"))
                    record = dept.request("POST", "/records", {"subject": subject, **cred})
                    say(f"  {code} issued {cred['title']} -> record {record['id']} ({record['status']})")
    # Consent last: a grant names the data user, and reads what was issued above.
    zhang_san, minjiang = store.load(CITIZEN["key"]), store.load(ENTERPRISE["key"])
    with client_factory() as me:
        me.login(zhang_san)
        grant_once(me, zhang_san, now, say)
    with client_factory() as firm:
        firm.login(minjiang)
        appoint_once(firm, minjiang, key(store, AGENT["key"]), now, say)
    demo_loan.lend(client_factory, store, now, say, settle)
    people = [(CITIZEN["key"], CITIZEN["name"]), (ENTERPRISE["key"], ENTERPRISE["name"]), (AGENT["key"], AGENT["name"])]
    people += [(f"dept-{code}", name) for code, name, _ in DEPARTMENTS] + [(AUDITOR["key"], AUDITOR["name"])]
    people.append((f"dept-{demo_loan.BANK['code']}", demo_loan.BANK["name"]))
    demo_keys.write(store, people, say)
    return subject_ids


def signed(client: VaultClient, signer: SigningKey, path: str, body: dict[str, Any]) -> Any:
    """Prepare, sign with the subject's own key (as its wallet would), submit."""
    typed = client.request("POST", f"{path}/prepare", body)["typed_data"]
    return client.request("POST", path, {"message": typed["message"], "signature": signer.sign_typed_data(typed)})


def grant_once(me: VaultClient, signer: SigningKey, now: int, say: Callable[[str], None]) -> None:
    """张三's grant to the data user, unless one for the same purpose is live (revoked,
    expired or used up: the next run grants afresh)."""
    what = f"{GRANT['grantee']} {'、'.join(GRANT['fields'])} of his licences for {GRANT['purpose']}"
    for grant in me.every("/me/grants", "grants"):
        if (
            grant["grantee"] == GRANT["grantee"]
            and grant["purpose"] == GRANT["purpose"]
            and grant["status"] in LIVE_GRANT
        ):
            say(f"  {CITIZEN['name']} already granted {what} -> grant {grant['id']} ({grant['status']})")
            return
    grant = signed(me, signer, "/me/grants", {**GRANT, "expires_at": now + GRANT_DAYS * DAY})
    say(f"  {CITIZEN['name']} granted {what}, {GRANT_DAYS} days -> grant {grant['id']} ({grant['status']})")


def appoint_once(
    firm: VaultClient, signer: SigningKey, agent: SigningKey, now: int, say: Callable[[str], None]
) -> None:
    """The enterprise's agent, unless it has a live appointment already."""

    def what(delegation: dict[str, Any]) -> str:
        # Until when: the agent's grants must end by then.
        until = datetime.fromtimestamp(delegation["expires_at"], UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"agent {AGENT['name']} (login key '{AGENT['key']}') for {', '.join(delegation['record_types'])} "
            f"until {until} -> delegation {delegation['id']} ({delegation['status']})"
        )

    for delegation in firm.request("GET", "/me/delegations"):
        if delegation["agent"].lower() == agent.address.lower() and delegation["status"] in LIVE_DELEGATION:
            say(f"  {ENTERPRISE['name']} already appointed {what(delegation)}")
            return
    body = {"agent": agent.address, "record_types": AGENT["record_types"], "expires_at": now + YEAR}
    say(f"  {ENTERPRISE['name']} appointed {what(signed(firm, signer, '/me/delegations', body))}")
