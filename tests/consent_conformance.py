"""What the consent registry must do on every chain engine: bind subject keys, accept grants
signed by the subject or a delegate within its delegation, refuse everything else, revoke.

Test modules import these tests and provide an ``engine`` fixture (a started Engine): the
in-process run is tests/unit/chain/test_consent_inprocess.py, anvil and hardhat run in
tests/integration/chain/test_consent_engines.py. Signatures come from eth-account's standard
EIP-712 signing of the typed data the client publishes, as any wallet would produce them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.consent import (
    ALL_RECORD_TYPES,
    ConsentClient,
    DelegationTerms,
    GrantTerms,
    delegation_revocation_typed_data,
    delegation_typed_data,
    grant_id,
    grant_typed_data,
    revocation_typed_data,
)
from chain.deployment import deploy, verify_deployment
from chain.engines import Engine
from chain.errors import ChainRevertError
from chain.registry import RegistryClient, Roles
from keys import SigningKey, recover_typed_data

LICENCE, CERTIFICATE, DATA = 1, 2, 4
DAY = 24 * 3600


@dataclass
class Consent:
    engine: Engine
    client: ConsentClient
    registry: RegistryClient
    admin: LocalAccount  # also the relayer: subjects need no ether
    registrar: LocalAccount
    grantee: LocalAccount  # a department with the data-user role
    subject: bytes
    key: SigningKey  # the subject's key, bound by the registrar

    def now(self) -> int:
        return int(self.engine.w3.eth.get_block("latest")["timestamp"])

    def terms(self, **overrides: object) -> GrantTerms:
        now = self.now()
        base = GrantTerms(
            subject=self.subject,
            grantee=self.grantee.address,
            record_types=LICENCE,
            fields=("姓名", "准驾车型"),
            purpose_code=101,
            purpose="核验驾驶资格 / check driving entitlement",
            not_before=now - 60,
            expires_at=now + 30 * DAY,
            max_uses=3,
            nonce=int.from_bytes(os.urandom(7), "big") + 1,
        )
        return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]

    def sign(self, terms: GrantTerms, key: SigningKey | None = None) -> str:
        return (key or self.key).sign_typed_data(grant_typed_data(self.client.domain(), terms))

    def grant(self, terms: GrantTerms, key: SigningKey | None = None) -> bytes:
        self.client.grant(self.admin, terms, self.sign(terms, key))
        return grant_id(terms.subject, terms.nonce)

    def revocation(self, terms: GrantTerms, key: SigningKey | None = None) -> str:
        return (key or self.key).sign_typed_data(
            revocation_typed_data(self.client.domain(), terms.subject, terms.nonce)
        )

    def delegate(self, agent: SigningKey, record_types: int = LICENCE, days: int = 10) -> DelegationTerms:
        now = self.now()
        terms = DelegationTerms(
            self.subject,
            agent.address,
            record_types,
            now - 60,
            now + days * DAY,
            int.from_bytes(os.urandom(7), "big") + 1,
        )
        signature = self.key.sign_typed_data(delegation_typed_data(self.client.domain(), terms))
        self.client.delegate(self.admin, terms, signature)
        return terms


def refused(
    call: Callable[[], object], name: str | tuple[str, ...], consent: Consent, sender: LocalAccount
) -> ChainRevertError:
    """Asserts ``call`` fails with the custom error ``name`` and that nothing reached the chain."""
    w3 = consent.engine.w3
    before = (w3.eth.block_number, w3.eth.get_transaction_count(sender.address))
    with pytest.raises(ChainRevertError) as info:
        call()
    names = (name,) if isinstance(name, str) else name
    assert info.value.error_name in names, info.value
    assert (w3.eth.block_number, w3.eth.get_transaction_count(sender.address)) == before
    return info.value


def _department(engine: Engine, registry: RegistryClient, admin: LocalAccount, roles: int) -> LocalAccount:
    account: LocalAccount = Account.create()
    engine.fund(account.address, 10**17)
    registry.add_department(admin, account.address, b"dept".ljust(32, b"\0"), roles)
    return account


@pytest.fixture
def consent(engine: Engine) -> Consent:
    admin = engine.dev_account()
    dep = deploy(engine, admin)
    verify_deployment(engine.w3, dep)
    registry = RegistryClient(engine.w3, dep.registry)
    client = ConsentClient(engine.w3, dep.consent)
    registrar = _department(engine, registry, admin, Roles.REGISTRAR)
    grantee = _department(engine, registry, admin, Roles.DATA_USER)
    subject, key = os.urandom(32), SigningKey.generate()
    client.bind_subject(registrar, subject, key.address)
    return Consent(engine, client, registry, admin, registrar, grantee, subject, key)


# -- the typed data is standard EIP-712 ----------------------------------------------------


def test_domain_matches_eip5267_and_the_chain_digest_matches_eth_account(consent: Consent) -> None:
    c = consent.client
    fields, name, version, chain_id, contract, _salt, _ext = c.contract.functions.eip712Domain().call()
    assert (fields, name, version, chain_id, contract) == (
        b"\x0f",
        "DataVault Consent",
        "1",
        c.domain().chain_id,
        c.address,
    )
    terms = consent.terms(fields=("住址.城市", "姓名", ""), purpose="")
    typed = grant_typed_data(c.domain(), terms)
    from eth_account.messages import encode_typed_data
    from eth_utils.crypto import keccak

    signable = encode_typed_data(full_message=typed)
    assert c.grant_digest(terms) == keccak(b"\x19\x01" + signable.header + signable.body)
    assert recover_typed_data(typed, consent.sign(terms)) == consent.key.address


# -- subject keys --------------------------------------------------------------------------


def test_only_a_registrar_binds_and_only_once(consent: Consent) -> None:
    c = consent.client
    key = c.subject_key(consent.subject)
    assert (key.key, key.version) == (consent.key.address, 1) and key.since > 0
    other = os.urandom(32)
    refused(
        lambda: c.bind_subject(consent.grantee, other, consent.key.address), "NotRegistrar", consent, consent.grantee
    )
    refused(
        lambda: c.bind_subject(consent.registrar, consent.subject, Account.create().address),
        "SubjectAlreadyBound",
        consent,
        consent.registrar,
    )
    assert c.subject_key(other).key is None


# -- grants --------------------------------------------------------------------------------


def test_a_grant_signed_by_the_subject_is_recorded_and_active(consent: Consent) -> None:
    c, terms = consent.client, consent.terms()
    gid = consent.grant(terms)
    status = c.grant_status(gid)
    assert (status.grantee, status.not_before, status.expires_at, status.revoked_at) == (
        consent.grantee.address,
        terms.not_before,
        terms.expires_at,
        0,
    )
    assert c.is_grant_active(gid)
    (log,) = c.contract.events.GrantCreated().get_logs(from_block=0, argument_filters={"grantId": gid})
    assert log["args"]["signer"] == consent.key.address and log["args"]["grantee"] == consent.grantee.address
    assert log["args"]["digest"] == c.grant_digest(terms)


def test_forged_or_foreign_signatures_are_refused(consent: Consent) -> None:
    c, terms = consent.client, consent.terms()
    ch = consent
    forged = "0x" + os.urandom(32).hex() + os.urandom(31).hex().rjust(64, "0") + "1b"
    # Random bytes recover to no key or to a random one, depending on the curve point.
    refused(lambda: c.grant(consent.admin, terms, forged), ("NotAuthorised", "InvalidSignature"), ch, consent.admin)
    stranger = SigningKey.generate()
    err = refused(
        lambda: c.grant(consent.admin, terms, consent.sign(terms, stranger)), "NotAuthorised", ch, consent.admin
    )
    assert err.error_args == (consent.subject, stranger.address)
    # Terms changed after signing recover to some other key: refused the same way.
    signature = consent.sign(terms)
    tampered = dataclasses.replace(terms, max_uses=terms.max_uses + 100)
    refused(lambda: c.grant(consent.admin, tampered, signature), "NotAuthorised", ch, consent.admin)
    assert not c.grant_status(grant_id(terms.subject, terms.nonce)).exists


def test_a_signature_for_another_subject_is_refused(consent: Consent) -> None:
    c = consent.client
    other_subject, other_key = os.urandom(32), SigningKey.generate()
    c.bind_subject(consent.registrar, other_subject, other_key.address)
    terms = consent.terms(subject=other_subject)
    refused(lambda: c.grant(consent.admin, terms, consent.sign(terms)), "NotAuthorised", consent, consent.admin)
    unknown = consent.terms(subject=os.urandom(32))
    refused(lambda: c.grant(consent.admin, unknown, consent.sign(unknown)), "UnknownSubject", consent, consent.admin)


def test_a_replayed_nonce_is_refused(consent: Consent) -> None:
    c, terms = consent.client, consent.terms()
    signature = consent.sign(terms)
    c.grant(consent.admin, terms, signature)
    refused(lambda: c.grant(consent.admin, terms, signature), "NonceUsed", consent, consent.admin)
    again = dataclasses.replace(terms, max_uses=1)  # new terms, old nonce, freshly signed
    refused(lambda: c.grant(consent.admin, again, consent.sign(again)), "NonceUsed", consent, consent.admin)


def test_windows_scopes_and_grantees_are_checked(consent: Consent) -> None:
    c, ch, now = consent.client, consent, consent.now()
    expired = consent.terms(not_before=now - 2 * DAY, expires_at=now - DAY)
    refused(lambda: c.grant(consent.admin, expired, consent.sign(expired)), "InvalidWindow", ch, consent.admin)
    for bits in (0, 8):
        bad = consent.terms(record_types=bits)
        refused(lambda: c.grant(consent.admin, bad, consent.sign(bad)), "InvalidScope", ch, consent.admin)  # noqa: B023
    zero = consent.terms(max_uses=0)
    refused(lambda: c.grant(consent.admin, zero, consent.sign(zero)), "InvalidMaxUses", ch, consent.admin)
    issuer = _department(consent.engine, consent.registry, consent.admin, Roles.ISSUER)
    wrong = consent.terms(grantee=issuer.address)
    refused(lambda: c.grant(consent.admin, wrong, consent.sign(wrong)), "NotDataUser", ch, consent.admin)
    later = consent.terms(not_before=now + 5 * DAY)
    gid = consent.grant(later)
    assert c.grant_status(gid).exists and not c.is_grant_active(gid)


def test_revocation_by_the_subject(consent: Consent) -> None:
    c, ch, terms = consent.client, consent, consent.terms()
    gid = consent.grant(terms)
    stranger = SigningKey.generate()
    refused(
        lambda: c.revoke_grant(consent.admin, terms.subject, terms.nonce, consent.revocation(terms, stranger)),
        "NotAuthorised",
        ch,
        consent.admin,
    )
    signature = consent.revocation(terms)
    c.revoke_grant(consent.admin, terms.subject, terms.nonce, signature)
    status = c.grant_status(gid)
    assert status.revoked and status.revoked_at >= terms.not_before and not c.is_grant_active(gid)
    (log,) = c.contract.events.GrantRevoked().get_logs(from_block=0, argument_filters={"grantId": gid})
    assert log["args"]["grantId"] == gid
    raw = c.w3.eth.get_transaction_receipt(log["transactionHash"])["logs"]
    assert [[bytes(t) for t in entry["topics"]] for entry in raw] == [[gid]]  # anonymous: the id alone
    refused(
        lambda: c.revoke_grant(consent.admin, terms.subject, terms.nonce, signature),
        "GrantAlreadyRevoked",
        ch,
        consent.admin,
    )
    never = consent.terms()
    refused(
        lambda: c.revoke_grant(consent.admin, never.subject, never.nonce, consent.revocation(never)),
        "UnknownGrant",
        ch,
        consent.admin,
    )


# -- delegation ----------------------------------------------------------------------------


def test_a_delegate_signs_only_inside_its_delegation(consent: Consent) -> None:
    c, ch = consent.client, consent
    agent = SigningKey.generate()
    delegation = consent.delegate(agent, record_types=LICENCE, days=10)
    assert c.can_act_for(consent.subject, agent.address, LICENCE)
    assert not c.can_act_for(consent.subject, agent.address, LICENCE | CERTIFICATE)
    gid = consent.grant(consent.terms(expires_at=delegation.expires_at), agent)
    assert c.is_grant_active(gid)
    wider = consent.terms(record_types=LICENCE | CERTIFICATE, expires_at=delegation.expires_at)
    refused(lambda: c.grant(consent.admin, wider, consent.sign(wider, agent)), "OutsideDelegation", ch, consent.admin)
    longer = consent.terms(expires_at=delegation.expires_at + 1)
    refused(lambda: c.grant(consent.admin, longer, consent.sign(longer, agent)), "OutsideDelegation", ch, consent.admin)
    # Only the subject's own key delegates; an agent cannot appoint another.
    sub_agent = SigningKey.generate()
    terms = DelegationTerms(
        consent.subject, sub_agent.address, LICENCE, delegation.not_before, delegation.expires_at, 77
    )
    signature = agent.sign_typed_data(delegation_typed_data(c.domain(), terms))
    refused(lambda: c.delegate(consent.admin, terms, signature), "NotAuthorised", ch, consent.admin)


def test_a_revoked_delegate_can_no_longer_sign(consent: Consent) -> None:
    c, ch = consent.client, consent
    agent = SigningKey.generate()
    delegation = consent.delegate(agent)
    typed = delegation_revocation_typed_data(c.domain(), consent.subject, agent.address, delegation.nonce)
    refused(
        lambda: c.revoke_delegation(
            consent.admin, consent.subject, agent.address, delegation.nonce, agent.sign_typed_data(typed)
        ),
        "NotAuthorised",
        ch,
        consent.admin,
    )
    c.revoke_delegation(
        consent.admin, consent.subject, agent.address, delegation.nonce, consent.key.sign_typed_data(typed)
    )
    status = c.delegation(consent.subject, agent.address)
    assert status.exists and status.revoked_at > 0 and not c.can_act_for(consent.subject, agent.address, LICENCE)
    terms = consent.terms(expires_at=delegation.expires_at)
    refused(lambda: c.grant(consent.admin, terms, consent.sign(terms, agent)), "NotAuthorised", ch, consent.admin)
    # Replaying the old delegation does not bring the agent back.
    replay = consent.key.sign_typed_data(delegation_typed_data(c.domain(), delegation))
    refused(lambda: c.delegate(consent.admin, delegation, replay), "NonceUsed", ch, consent.admin)


def test_a_delegate_may_withdraw_consent(consent: Consent) -> None:
    agent = SigningKey.generate()
    consent.delegate(agent, record_types=LICENCE)
    terms = consent.terms()
    gid = consent.grant(terms)
    consent.client.revoke_grant(consent.admin, terms.subject, terms.nonce, consent.revocation(terms, agent))
    assert consent.client.grant_status(gid).revoked


def test_guardians_are_appointed_and_removed_by_a_registrar(consent: Consent) -> None:
    c, ch, now = consent.client, consent, consent.now()
    guardian = SigningKey.generate()
    refused(
        lambda: c.set_guardian(consent.grantee, consent.subject, guardian.address, now, now + 365 * DAY),
        "NotRegistrar",
        ch,
        consent.grantee,
    )
    c.set_guardian(consent.registrar, consent.subject, guardian.address, now - 60, now + 365 * DAY)
    status = c.delegation(consent.subject, guardian.address)
    assert status.guardian and status.record_types == ALL_RECORD_TYPES
    gid = consent.grant(consent.terms(record_types=ALL_RECORD_TYPES), guardian)
    assert c.is_grant_active(gid)
    c.remove_guardian(consent.registrar, consent.subject, guardian.address)
    terms = consent.terms()
    refused(lambda: c.grant(consent.admin, terms, consent.sign(terms, guardian)), "NotAuthorised", ch, consent.admin)


# -- key rotation --------------------------------------------------------------------------


def test_rotation_retires_the_old_key_and_keeps_its_grants(consent: Consent) -> None:
    c, ch = consent.client, consent
    before = consent.grant(consent.terms())
    new_key = SigningKey.generate()
    refused(
        lambda: c.rotate_subject_key(consent.grantee, consent.subject, new_key.address),
        "NotRegistrar",
        ch,
        consent.grantee,
    )
    c.rotate_subject_key(consent.registrar, consent.subject, new_key.address)
    key = c.subject_key(consent.subject)
    assert (key.key, key.version) == (new_key.address, 2)
    terms = consent.terms()
    refused(lambda: c.grant(consent.admin, terms, consent.sign(terms)), "NotAuthorised", ch, consent.admin)
    assert c.is_grant_active(before)
    assert c.is_grant_active(consent.grant(consent.terms(), new_key))
    refused(
        lambda: c.rotate_subject_key(consent.registrar, consent.subject, new_key.address),
        "SameKey",
        ch,
        consent.registrar,
    )


def test_grant_ids_are_keccak_of_subject_and_nonce(consent: Consent) -> None:
    terms = consent.terms()
    expected = Web3.keccak(terms.subject + terms.nonce.to_bytes(32, "big"))
    assert grant_id(terms.subject, terms.nonce) == bytes(expected)
    assert consent.client.contract.functions.grantIdOf(terms.subject, terms.nonce).call() == bytes(expected)
