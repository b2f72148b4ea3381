"""Any JSON-RPC endpoint (a consortium chain such as Besu QBFT) with a configured signer key.
Several nodes of the chain may be named, comma-separated: requests fail over between them.

Nothing is started or stopped here: the chain belongs to its operators. ``zero_gas`` marks
a chain where gas is free; fees are still chosen from what the chain reports (see
``chain.transactions.fee_fields``), so a free chain works even when nobody says so.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.exceptions import Web3Exception

from chain.connection import RPC_TIMEOUT, connect, urls_of
from chain.engines.base import Engine
from chain.errors import NodeError


def redacted(url: str) -> str:
    """``url`` (or comma-separated URLs) without credentials, for messages and logs."""
    if "," in url:
        return ", ".join(redacted(one) for one in urls_of(url))
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class RpcEngine(Engine):
    name = "rpc"

    def __init__(self, rpc_url: str, signer_key: str, *, zero_gas: bool = False, timeout: float = RPC_TIMEOUT) -> None:
        super().__init__(zero_gas=zero_gas)
        if not urls_of(rpc_url or ""):
            raise NodeError("the rpc chain engine needs an RPC URL (DATAVAULT_RPC_URL)")
        if not signer_key:
            raise NodeError("the rpc chain engine needs a signer private key (DATAVAULT_SIGNER_KEY)")
        try:
            self._account: LocalAccount = Account.from_key(signer_key)
        except (ValueError, TypeError):
            raise NodeError("the configured signer key is not a valid private key") from None
        self._url = rpc_url
        self.timeout = timeout

    @property
    def rpc_url(self) -> str | None:
        return self._url

    def start(self) -> None:
        if self._w3 is not None:
            return
        w3 = connect(self._url, self.timeout)
        try:
            w3.eth.chain_id  # noqa: B018 - the cheapest call that proves the node answers
        except (Web3Exception, NodeError) as exc:
            raise NodeError(f"the chain at {redacted(self._url)} does not answer: {exc}") from exc
        self._w3 = w3

    def stop(self) -> None:
        self._w3 = None

    def dev_account(self) -> LocalAccount:
        return self._account

    def __repr__(self) -> str:
        return f"<RpcEngine {redacted(self._url)} signer {self._account.address}>"
