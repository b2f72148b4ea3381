"""Gas per state-changing function of ConsentRegistry, measured on py-evm (Prague).

Run ``python bench/consent_gas.py``. Deploys the committed artifacts on an in-process chain
and sends real transactions through ``chain.consent.ConsentClient``, with signatures made by
eth-account from the published typed data and nonces drawn as the vault draws them (53
random bits), so calldata costs what it costs in production. Writes bench/CONSENT_GAS.md.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.consent import (
    ConsentClient,
    DelegationTerms,
    GrantTerms,
    delegation_revocation_typed_data,
    delegation_typed_data,
    grant_typed_data,
    revocation_typed_data,
)
from chain.deployment import deploy
from chain.engines import make_engine
from chain.registry import RegistryClient, Roles
from keys import SigningKey
from vault.consent.typed_data import MAX_SAFE_NONCE

TARGETS = {"grant": 80_000, "revokeGrant": 35_000}
# The Ethereum Attestation Service under the same Prague rules, for scale.
EAS = {"grant": "243,000-260,000 (attestByDelegation)", "revokeGrant": "81,700 (revokeByDelegation)"}
# Storage, logs and precompiles no code can avoid for revokeGrant: cold read + rewrite of the
# grant slot (2,100 + 2,900), cold read of the subject's key (2,100), ecrecover (3,000 + 100)
# and the anonymous LOG1 of the grant id (750).
REVOKE_UNAVOIDABLE = 2_100 + 2_900 + 2_100 + 3_100 + 750
DAY = 86_400


def nonce() -> int:
    return 1 + secrets.randbelow(MAX_SAFE_NONCE)


def calldata_gas(data: bytes) -> int:
    return sum(16 if b else 4 for b in data)


def measure() -> list[tuple[str, str, int, int | None]]:
    rows: list[tuple[str, str, int, int | None]] = []
    with make_engine("inprocess") as engine:
        w3 = engine.w3
        admin = engine.dev_account()
        dep = deploy(engine, admin)
        registry = RegistryClient(w3, dep.registry)
        client = ConsentClient(w3, dep.consent)
        domain = client.domain()

        def dept(roles: int) -> LocalAccount:
            acct: LocalAccount = Account.create()
            engine.fund(acct.address, 10**18)
            registry.add_department(admin, acct.address, b"bench".ljust(32, b"\0"), roles)
            return acct

        def record(func: str, case: str, result: object, floor_extra: int | None = None) -> None:
            tx_hash = result.tx_hash  # type: ignore[attr-defined]
            receipt = w3.eth.get_transaction_receipt(tx_hash)
            floor = None
            if floor_extra is not None:
                data = bytes(w3.eth.get_transaction(tx_hash)["input"])
                floor = 21_000 + calldata_gas(data) + floor_extra
            rows.append((func, case, int(receipt["gasUsed"]), floor))

        registrar, grantee = dept(Roles.REGISTRAR), dept(Roles.DATA_USER)
        subject, key = os.urandom(32), SigningKey.generate()
        record("bindSubject", "", client.bind_subject(registrar, subject, key.address))
        now = int(w3.eth.get_block("latest")["timestamp"])

        def terms(**kw: object) -> GrantTerms:
            base: dict[str, object] = {
                "subject": subject,
                "grantee": grantee.address,
                "record_types": 1,
                "fields": ("姓名", "准驾车型", "档案编号"),
                "purpose_code": 101,
                "purpose": "核验驾驶资格",
                "not_before": now,
                "expires_at": now + 30 * DAY,
                "max_uses": 10,
                "nonce": nonce(),
            }
            base.update(kw)
            return GrantTerms(**base)  # type: ignore[arg-type]

        for i in range(3):
            t = terms()
            record(
                "grant",
                f"signed by the subject (#{i + 1})",
                client.grant(admin, t, key.sign_typed_data(grant_typed_data(domain, t))),
            )
            signature = key.sign_typed_data(revocation_typed_data(domain, subject, t.nonce))
            record(
                "revokeGrant",
                f"signed by the subject (#{i + 1})",
                client.revoke_grant(admin, subject, t.nonce, signature),
                REVOKE_UNAVOIDABLE,
            )

        agent = SigningKey.generate()
        d = DelegationTerms(subject, agent.address, 1, now, now + 60 * DAY, nonce())
        record(
            "delegate",
            "agent, licences",
            client.delegate(admin, d, key.sign_typed_data(delegation_typed_data(domain, d))),
        )
        t = terms()
        record(
            "grant", "signed by a delegate", client.grant(admin, t, agent.sign_typed_data(grant_typed_data(domain, t)))
        )
        signature = agent.sign_typed_data(revocation_typed_data(domain, subject, t.nonce))
        record("revokeGrant", "signed by a delegate", client.revoke_grant(admin, subject, t.nonce, signature))
        signature = key.sign_typed_data(delegation_revocation_typed_data(domain, subject, agent.address, d.nonce))
        record("revokeDelegation", "", client.revoke_delegation(admin, subject, agent.address, d.nonce, signature))
        guardian = SigningKey.generate()
        record("setGuardian", "", client.set_guardian(registrar, subject, guardian.address, now, now + 365 * DAY))
        record("removeGuardian", "", client.remove_guardian(registrar, subject, guardian.address))
        record("rotateSubjectKey", "", client.rotate_subject_key(registrar, subject, SigningKey.generate().address))
    return rows


def document(rows: list[tuple[str, str, int, int | None]]) -> str:
    lines = [
        "# Gas: ConsentRegistry\n",
        "Measured by `python bench/consent_gas.py` on py-evm (Prague rules) from the committed artifacts,",
        "with real EIP-712 signatures (EIP-2098 compact on chain) and 53-bit random nonces as the vault",
        "draws them. `gasUsed` is the whole transaction: 21,000 intrinsic + calldata + execution.\n",
        "| function | case | gasUsed | floor | target | EAS |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for func, case, gas, floor in rows:
        target = ""
        # The targets are for the subject's own signature; a delegate's costs a cold read of
        # its delegation on top (see below).
        if func in TARGETS and "delegate" not in case:
            target = f"<= {TARGETS[func]:,} " + ("met" if gas <= TARGETS[func] else "missed")
        lines.append(
            f"| {func} | {case} | {gas:,} | {'' if floor is None else f'{floor:,}'} | {target} | {EAS.get(func, '')} |"
        )
    revokes = [(gas, floor) for func, case, gas, floor in rows if func == "revokeGrant" and floor is not None]
    worst, floor = max(revokes)
    lines += [
        "",
        "`floor` for revokeGrant is intrinsic + calldata + what no code avoids: the grant slot's cold read and",
        "rewrite (2,100 + 2,900), the cold read of the subject's key (2,100), ecrecover (3,000 + 100) and",
        f"the anonymous LOG1 of the grant id (750). The worst revocation above costs {worst:,} against a "
        f"floor of {floor:,}: the contract's",
        "own code (dispatch, ABI decoding, three KECCAK256s for the grant id, the struct hash and the",
        f"digest, the signature checks) adds {worst - floor:,}. `GrantRevoked` is anonymous with the grant id",
        "as its only topic (a signature topic would cost 375 more; `ConsentClient` finds it by topic",
        "count, see chain/logs.py), the signer is left out (anyone recovers it from the calldata), and",
        "the grant slot is read and written once in assembly. A delegate's signature costs a cold read",
        "of its delegation (2,100) and the checks on it, hence the delegate rows.",
        "A grant costs far less than EAS's delegated attestation because only one slot is written:",
        "the terms are bound by the signed digest in the `GrantCreated` log, not stored.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    doc = document(measure())
    print(doc, end="")
    if os.environ.get("GAS_NO_WRITE") != "1":
        (ROOT / "bench" / "CONSENT_GAS.md").write_text(doc, encoding="utf-8")
        print("\nwrote bench/CONSENT_GAS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
