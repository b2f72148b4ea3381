"""What every vault service needs, gathered once: sessions, keys and the chain."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chain.audit_anchor import AuditAnchorClient
from chain.connection import in_chain_terms
from chain.consent import ConsentClient
from chain.engines.base import Engine
from chain.registry import RegistryClient
from chain.tx_batch import HttpTxBatch, TxBatch, W3TxBatch
from chain.view import ChainView, view_of
from keys import Keystore, MasterKey, Suite
from vault.events import Events

T = TypeVar("T")

OPERATOR = "operator"
# The keystore entry that signs the access log's tree heads.
AUDIT_LOG_KEY = "audit-log"
# The SM2 key that signs the same heads beside it when the vault's suite is sm.
AUDIT_LOG_SM2_KEY = "audit-log-sm2"


@dataclass
class ChainContext:
    engine: Engine
    client: RegistryClient
    # The governance admin of the contract; also funds department accounts on dev chains.
    operator: LocalAccount
    # Zero-gas chains (a consortium chain) need no funding of department accounts; decided
    # once, when the vault opens (vault.setup), by the engine.
    zero_gas: bool = False
    # None only for a vault whose deployment predates the consent registry and was not
    # upgraded (vault.setup deploys it on open).
    consent: ConsentClient | None = None
    audit: AuditAnchorClient | None = None
    _accounts: dict[str, LocalAccount] = field(default_factory=dict)
    cached_chain_id: int | None = None  # known at open (the deployment records it)
    _view: ChainView | None = None
    _tx_batch: TxBatch | None = None
    _async_url: str | None = None  # the node URL the two above were made for

    @property
    def view(self) -> ChainView:
        """What verifiers read: the registries as of the chain's latest block, from a local
        view kept current by the chain's logs (``chain.view``). Made on first use."""
        self._same_node()
        if self._view is None:
            addresses = [self.client.address] + ([self.consent.address] if self.consent else [])
            self._view = view_of(self.engine, addresses)
        return self._view

    @property
    def tx_batch(self) -> TxBatch:
        """A chunk of transactions' pre-flights, sends and receipts in one request each."""
        self._same_node()
        if self._tx_batch is None:
            url = self.engine.rpc_url
            self._tx_batch = HttpTxBatch(url) if url else W3TxBatch(self.engine.w3)
        return self._tx_batch

    def _same_node(self) -> None:
        # A managed node restarted on another port: what talked to the old one goes.
        if self.engine.rpc_url != self._async_url:
            self._view = self._tx_batch = None
            self._async_url = self.engine.rpc_url

    async def aclose(self) -> None:
        """Closes the view's and the batches' connections to the node."""
        if self._view is not None:
            await self._view.close()
        if self._tx_batch is not None:
            await self._tx_batch.close()
        self._view = self._tx_batch = None

    def chain_id(self) -> int:
        # Fixed for a node's life; asked once (the first batch signature or presentation).
        if self.cached_chain_id is None:
            self.cached_chain_id = int(self.client.w3.eth.chain_id)
        return self.cached_chain_id

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        # web3 is synchronous; keep the event loop free while a node answers. Whatever fails
        # comes back as a ChainError, so nothing here needs to know web3's exceptions.
        return await asyncio.to_thread(in_chain_terms, fn, *args)


@dataclass
class VaultContext:
    sessions: async_sessionmaker[AsyncSession]
    master: MasterKey
    keystore: Keystore
    chain: ChainContext
    # Set by the submitter so that services can wake it after queueing chain work.
    nudge: Callable[[], None] = lambda: None
    events: Events = field(default_factory=Events)
    # Settings.public_url: the base of issuer identifiers in exported credentials, if set.
    public_url: str | None = None
    # Where key backups are kept (vault.backups.key_files): erasures purge them.
    key_backups: Path | None = None
    # The crypto suite new ciphertexts are written in (vault.crypto_suite); both are read.
    suite: Suite = Suite.INTL
    pseudonym_key: bytes = field(default=b"", repr=False)
    token_key: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        self.pseudonym_key = self.master.derive("subject-pseudonym")
        self.token_key = self.master.derive("api-token")

    def account(self, name: str) -> LocalAccount:
        if name == OPERATOR:
            return self.chain.operator
        cached = self.chain._accounts.get(name)
        if cached is None:
            cached = self.keystore.load(name).account
            self.chain._accounts[name] = cached
        return cached


SessionWork = Callable[[AsyncSession], Awaitable[T]]
