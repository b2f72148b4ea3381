"""secp256k1 signing keys (Ethereum accounts) and signature recovery.

Subjects sign grants as EIP-712 typed data and log in by signing a challenge with
EIP-191 ``personal_sign``; departments and the platform sign chain transactions.
"""

from __future__ import annotations

import re
import sys
from typing import Any, NoReturn

from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as EthValidationError
from eth_utils.hexadecimal import encode_hex

from keys.errors import KeysError, SignatureError

# Importing eth_account (just above) imports py_ecc, which raises Python's recursion limit to
# 100,000. At that limit json.loads of input nested 100,000 deep overflows the C stack and
# kills the process (SIGSEGV) instead of raising RecursionError: any API body could do it.
# Set it back, once, here where the cause comes in; py-evm (the in-process chain) needs 12,288.
RECURSION_LIMIT = 1024 * 12
sys.setrecursionlimit(min(sys.getrecursionlimit(), RECURSION_LIMIT))

_SIGNATURE_RE = re.compile(r"(0x)?[0-9a-fA-F]{130}")
_PRIVATE_KEY_RE = re.compile(r"(0x)?[0-9a-fA-F]{64}")


class SigningKey:
    __slots__ = ("_account",)

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Account.create())

    @classmethod
    def from_hex(cls, h: str) -> SigningKey:
        """From a 32-byte private key in hex (0x optional). Invalid -> KeysError."""
        if not isinstance(h, str) or not _PRIVATE_KEY_RE.fullmatch(h.strip()):
            raise KeysError("private key must be 32 bytes of hex")
        try:
            return cls(Account.from_key(h.strip()))
        except (ValueError, EthValidationError):
            # e.g. zero or >= the curve order; the message must not echo the key.
            raise KeysError("invalid secp256k1 private key") from None

    @property
    def address(self) -> str:
        """EIP-55 checksum address."""
        return str(self._account.address)

    @property
    def account(self) -> LocalAccount:
        return self._account

    def hex(self) -> str:
        """0x-prefixed private key. Only the keystore should need this."""
        return encode_hex(bytes(self._account.key))

    def sign_message(self, text: str) -> str:
        """EIP-191 personal_sign of ``text``; 0x-prefixed 65-byte signature."""
        return encode_hex(self._account.sign_message(encode_defunct(text=text)).signature)

    def sign_typed_data(self, full_message: dict[str, Any]) -> str:
        """EIP-712 signature of ``full_message`` (types, primaryType, domain, message)."""
        signable = _typed(full_message)
        return encode_hex(self._account.sign_message(signable).signature)

    def __repr__(self) -> str:
        return f"SigningKey({self.address})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("SigningKey cannot be pickled")


def address_of_public_key(x: bytes, y: bytes) -> str:
    """The checksum Ethereum address of the secp256k1 public key (x, y): the last 20 bytes of
    keccak256(x || y), each coordinate 32 bytes big-endian."""
    return str(to_checksum_address(keccak(x.rjust(32, b"\0") + y.rjust(32, b"\0"))[12:]))


def recover_message(text: str, signature: str) -> str:
    """Checksum address that signed ``text`` with personal_sign; SignatureError if malformed."""
    return _recover(encode_defunct(text=text), signature)


def recover_typed_data(full_message: dict[str, Any], signature: str) -> str:
    """Checksum address that signed the EIP-712 ``full_message``."""
    return _recover(_typed(full_message), signature)


def recover_typed_data_digest(full_message: dict[str, Any], signature: str) -> tuple[str, bytes]:
    """Checksum address that signed the EIP-712 ``full_message``, and the digest it signed
    (``keccak256(0x19 0x01 domainSeparator structHash)``); the message is encoded once."""
    message = _typed(full_message)
    digest = bytes(keccak(b"\x19" + message.version + message.header + message.body))
    return _recover(message, signature), digest


def _typed(full_message: dict[str, Any]) -> SignableMessage:
    try:
        return encode_typed_data(full_message=full_message)
    except Exception as exc:
        # eth_account raises a variety of types (ValueError, KeyError, TypeError, ...).
        raise SignatureError(f"malformed typed data: {exc}") from exc


def _recover(message: SignableMessage, signature: str) -> str:
    if not isinstance(signature, str) or not _SIGNATURE_RE.fullmatch(signature):
        raise SignatureError("signature must be 65 bytes of hex")
    try:
        return str(Account.recover_message(message, signature=signature))
    except (ValueError, BadSignature, EthValidationError):
        # Bad v, r or s: the signature has the right shape but is not a valid signature.
        raise SignatureError("invalid signature") from None
