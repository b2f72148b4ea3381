"""Crypto for the data vault: master key, envelope encryption, signing keys, keystore,
pseudonyms. Knows nothing of the vault, the chain or HTTP."""

from keys.envelope import (
    Kek,
    Sealed,
    body_suite,
    generate_kek,
    key_header,
    open_sealed,
    reseal,
    rewrap,
    seal,
    sealed_suites,
    unwrap_kek,
    wrap_kek,
)
from keys.errors import (
    DecryptionError,
    KeyNotFoundError,
    KeysError,
    KeystoreEntryExists,
    KeystoreEntryMissing,
    KeystoreError,
    MasterKeyError,
    SignatureError,
)
from keys.ids import KeyId
from keys.keystore import Keystore
from keys.master import MasterKey
from keys.pseudonym import normalize_identifier, pseudonym
from keys.signing import (
    SigningKey,
    address_of_public_key,
    recover_message,
    recover_typed_data,
    recover_typed_data_digest,
)
from keys.sm2 import DEFAULT_USER_ID as SM2_DEFAULT_USER_ID
from keys.sm2 import Sm2Key, Sm2PublicKey
from keys.suite import Suite

__all__ = [
    "SM2_DEFAULT_USER_ID",
    "DecryptionError",
    "Kek",
    "KeyId",
    "KeyNotFoundError",
    "KeysError",
    "Keystore",
    "KeystoreEntryExists",
    "KeystoreEntryMissing",
    "KeystoreError",
    "MasterKey",
    "MasterKeyError",
    "Sealed",
    "SignatureError",
    "SigningKey",
    "Sm2Key",
    "Sm2PublicKey",
    "Suite",
    "address_of_public_key",
    "body_suite",
    "generate_kek",
    "key_header",
    "normalize_identifier",
    "open_sealed",
    "pseudonym",
    "recover_message",
    "recover_typed_data",
    "recover_typed_data_digest",
    "reseal",
    "rewrap",
    "seal",
    "sealed_suites",
    "unwrap_kek",
    "wrap_kek",
]
