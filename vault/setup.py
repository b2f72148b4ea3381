"""Opening a vault: data directory, master key, database, chain node and deployment.

The one rule that matters here: a vault that holds data is never silently redeployed onto a
fresh chain; if the chain lost our contract the operator is told and nothing starts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chain.audit_anchor import AuditAnchorClient
from chain.consent import ConsentClient
from chain.deployment import Deployment, deploy, deploy_audit, deploy_consent, verify_deployment
from chain.engines import Engine, make_engine
from chain.errors import DeploymentError
from chain.registry import RegistryClient
from keys import Keystore, Suite
from vault import backups, crypto_suite
from vault.audit import log as audit_log
from vault.config import Settings
from vault.consent import purposes as grant_purposes
from vault.context import AUDIT_LOG_KEY, AUDIT_LOG_SM2_KEY, ChainContext, VaultContext
from vault.credentials import root_signatures
from vault.credentials.anchoring import Batcher
from vault.db.engine import create_engine, session_factory
from vault.db.migrate import upgrade
from vault.db.models import Department, Record, Setting
from vault.errors import ChainStateError
from vault.operations import LOST_CHECKS, OPS
from vault.outbox import Submitter
from vault.presentations import issuer_signatures

DEPLOYMENT_KEY = "chain.deployment"


@dataclass
class OpenVault:
    ctx: VaultContext
    submitter: Submitter
    db: AsyncEngine
    deployment: Deployment
    sequencer: audit_log.Sequencer
    batcher: Batcher

    # False when the caller handed ``open_vault`` a running engine: closing leaves it running.
    owns_engine: bool = True
    # Settings.retention_interval: how often the app runs the retention job (0: never).
    retention_interval: int = 0

    async def close(self) -> None:
        await self.ctx.chain.aclose()
        await self.submitter.release()
        await self.db.dispose()
        if self.owns_engine:
            self.ctx.chain.engine.stop()


async def _holds_data(session: AsyncSession) -> bool:
    depts = await session.scalar(select(func.count()).select_from(Department))
    recs = await session.scalar(select(func.count()).select_from(Record))
    return bool(depts or recs)


async def _deployment(engine: object, db: AsyncEngine, operator: object, wait: object) -> Deployment:
    sessions = session_factory(db)
    async with sessions.begin() as session:
        row = await session.get(Setting, DEPLOYMENT_KEY)
        if row is not None:
            dep = Deployment.from_json(row.value)
            try:
                verify_deployment(engine.w3, dep)  # type: ignore[attr-defined]
            except DeploymentError as exc:
                raise ChainStateError(str(exc)) from exc
            if not dep.consent or not dep.audit:
                # A vault from before these contracts: adding them overwrites nothing.
                if not dep.consent:
                    dep = deploy_consent(engine, operator, dep)  # type: ignore[arg-type]
                if not dep.audit:
                    dep = deploy_audit(engine, operator, dep)  # type: ignore[arg-type]
                if callable(wait):
                    wait()
                row.value = dep.to_json()
            return dep
        if await _holds_data(session):
            raise ChainStateError(
                "this vault holds data but has no recorded contract deployment; "
                "restore the database or point it at the chain it was deployed on"
            )
        dep = deploy(engine, operator)  # type: ignore[arg-type]
        if callable(wait):
            wait()  # anvil: let the state file catch up before we record the deployment
        session.add(Setting(key=DEPLOYMENT_KEY, value=dep.to_json()))
        return dep


async def open_vault(settings: Settings, *, start_chain: bool = True, engine: Engine | None = None) -> OpenVault:
    """Opens the vault ``settings`` describe, on the chain engine they name, or on ``engine``
    (a node the caller runs, left running when the vault closes)."""
    settings.datadir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.datadir, 0o700)
    master = settings.load_master_key(create=True)
    db = create_engine(settings.db_url)
    await upgrade(db)
    try:
        # Recorded at initialisation; a different DATAVAULT_CRYPTO later stops the start here.
        async with session_factory(db).begin() as session:
            suite = await crypto_suite.settle(session, Suite(settings.crypto) if settings.crypto else None)
    except BaseException:
        await db.dispose()
        raise
    keystore = Keystore(settings.keystore_dir, master, suite)
    # Grants from before revision 0009 hold their purpose in clear; sealing needs the master key.
    await grant_purposes.seal_plaintext(session_factory(db), master)
    owns_engine = engine is None
    engine = engine or make_engine(
        settings.chain,
        datadir=settings.datadir,
        rpc_url=settings.rpc_url,
        signer_key=settings.signer_key,
        zero_gas=settings.zero_gas,
        anvil_binary=settings.anvil,
    )
    try:
        if start_chain:
            engine.start()
        operator = engine.dev_account()
        dep = await _deployment(engine, db, operator, getattr(engine, "wait_persisted", None))
        client = RegistryClient(engine.w3, dep.registry)
        # Decided once, here, by the engine: configured so, or the chain's fees say so.
        zero_gas = engine.zero_gas
        consent = ConsentClient(engine.w3, dep.consent)
        audit = AuditAnchorClient(engine.w3, dep.audit)
        chain = ChainContext(
            engine=engine,
            client=client,
            operator=operator,
            zero_gas=zero_gas,
            consent=consent,
            audit=audit,
            cached_chain_id=dep.chain_id,
        )
        ctx = VaultContext(
            sessions=session_factory(db),
            master=master,
            keystore=keystore,
            chain=chain,
            public_url=settings.public_url,
            suite=suite,
            key_backups=settings.datadir / "key-backups",
        )
        ctx.events.subscribe(audit_log.record)
        # An erasure whose process died before it purged the key backups is finished here.
        async with ctx.sessions() as session:
            await backups.key_files.purge(session, settings.datadir / "key-backups")
        if not keystore.exists(AUDIT_LOG_KEY):
            keystore.create(AUDIT_LOG_KEY)
        if suite is Suite.SM and not keystore.exists(AUDIT_LOG_SM2_KEY):
            keystore.create_sm2(AUDIT_LOG_SM2_KEY)
        sequencer = audit_log.Sequencer(
            ctx.sessions,
            master,
            keystore.load(AUDIT_LOG_KEY),
            head_every=settings.audit_head_every,
            head_interval=settings.audit_head_interval,
            suite=suite,
            sm2_key=keystore.load_sm2(AUDIT_LOG_SM2_KEY) if suite is Suite.SM else None,
        )
        batcher = Batcher(
            ctx.sessions,
            settings.batch_max,
            sign=issuer_signatures.signer(ctx),
            sign_sm2=root_signatures.signer(ctx),
        )
        submitter = make_submitter(
            ctx,
            sequencer=sequencer,
            batcher=batcher,
            interval=settings.submit_interval,
            in_flight=settings.submit_in_flight,
        )
        # Before anything is sent: a node that lost its last blocks gets those writes again.
        await submitter.reconcile()
    except BaseException:
        # Whatever stops the opening (a node that went away during reconcile, too) must not
        # leave a node process or database connections behind.
        if owns_engine:
            engine.stop()
        await db.dispose()
        raise
    return OpenVault(
        ctx=ctx,
        submitter=submitter,
        db=db,
        deployment=dep,
        sequencer=sequencer,
        batcher=batcher,
        owns_engine=owns_engine,
        retention_interval=settings.retention_interval,
    )


def make_submitter(
    ctx: VaultContext,
    *,
    sequencer: audit_log.Sequencer | None = None,
    batcher: Batcher | None = None,
    interval: float = 0.5,
    receipt_timeout: float = 30.0,
    max_backoff: float = 60.0,
    in_flight: int = 512,
) -> Submitter:
    """The submitter with every feature's part: the access log's tree head first (a head it
    signs joins the round's writes), then the credential batches, then the queue."""
    if batcher is None:
        batcher = Batcher(ctx.sessions, sign=issuer_signatures.signer(ctx), sign_sm2=root_signatures.signer(ctx))
    steps = ([sequencer.run_once] if sequencer is not None else []) + [batcher]
    return Submitter(
        ctx,
        OPS,
        steps=steps,
        lost_checks=LOST_CHECKS,
        interval=interval,
        receipt_timeout=receipt_timeout,
        max_backoff=max_backoff,
        in_flight=in_flight,
    )


def describe(dep: Deployment) -> str:
    return json.dumps({"chain_id": dep.chain_id, "registry": dep.registry, "consent": dep.consent, "block": dep.block})
