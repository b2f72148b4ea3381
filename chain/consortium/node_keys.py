"""Validators' node keys: the secp256k1 key a Besu node signs blocks with.

A QBFT validator *is* its node key: the address in the genesis extraData is the one derived
from the node's public key. Besu reads the key from a file named ``key`` in its data directory
(or ``--node-private-key-file``): the private key as 0x hex on one line, unencrypted, which is
why the file is made private (0600) and never overwritten.

The key is made by eth-account's ``Account.create`` (the OS's random source), the same as the
vault's own keys; the public key comes from eth-keys, which web3 already brings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_keys.datatypes import PrivateKey

from chain.errors import ChainError

KEY_FILE = "key"  # Besu's name for the node key in a data directory
PUBLIC_KEY_FILE = "key.pub"  # what `besu operator generate-blockchain-config` writes beside it


class NodeKeyError(ChainError):
    """A node key file that could not be written."""


@dataclass(frozen=True)
class NodeKey:
    address: str  # checksummed: the validator's address in extraData
    public_key: bytes  # 64 bytes, uncompressed without the 0x04 prefix: the enode id
    private_key: bytes = field(repr=False)

    @classmethod
    def from_private_key(cls, private_key: bytes) -> NodeKey:
        key = PrivateKey(private_key)
        return cls(key.public_key.to_checksum_address(), key.public_key.to_bytes(), private_key)

    @classmethod
    def create(cls) -> NodeKey:
        return cls.from_private_key(bytes(Account.create().key))

    @property
    def node_id(self) -> str:
        """The enode id: the public key in hex, without 0x."""
        return self.public_key.hex()

    def enode(self, host: str, port: int = 30303) -> str:
        """The node's enode URL at ``host:port`` (Besu's default P2P port is 30303)."""
        return f"enode://{self.node_id}@{host}:{port}"


def write_key_files(key: NodeKey, directory: Path) -> Path:
    """``directory``/key (0600, the private key) and key.pub; refuses to replace either."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / KEY_FILE
        # O_EXCL: an existing key is a validator's identity, never to be silently replaced.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write("0x" + key.private_key.hex())
        with (directory / PUBLIC_KEY_FILE).open("x", encoding="ascii") as f:
            f.write("0x" + key.node_id)
    except OSError as exc:
        raise NodeKeyError(f"cannot write the node key in {directory}: {exc.strerror or exc}") from None
    return path
