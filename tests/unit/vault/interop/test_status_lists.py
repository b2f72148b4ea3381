"""The status lists' encodings, decoded here by hand from the specifications' own words (zlib,
gzip and bit arithmetic of the standard library), against the IETF draft's worked example."""

from __future__ import annotations

import base64
import gzip
import random
import zlib

from vault.credentials import status_bitmap
from vault.interop import status_lists, w3c_dates

# draft-ietf-oauth-status-list, "Status List" section, the example with bits = 1: sixteen
# statuses whose byte array is b9 a3 and whose compressed, encoded form is this.
DRAFT_STATUSES = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
DRAFT_BYTES = bytes([0xB9, 0xA3])
DRAFT_LST = "eNrbuRgAAhcBXQ"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ietf_status(lst: str, index: int) -> int:
    """The draft's rule: index i is bit i % 8 (from the least significant) of byte i // 8."""
    raw = zlib.decompress(unb64(lst))
    return (raw[index // 8] >> (index % 8)) & 1


def w3c_status(encoded: str, index: int) -> int:
    """W3C's rule: index 0 is the left-most bit of the bitstring (most significant first)."""
    assert encoded[0] == "u"  # multibase: base64url without padding
    raw = gzip.decompress(unb64(encoded[1:]))
    return (raw[index // 8] >> (7 - index % 8)) & 1


def test_the_drafts_example_decodes_to_its_statuses() -> None:
    raw = zlib.decompress(unb64(DRAFT_LST))
    assert raw == DRAFT_BYTES
    assert [ietf_status(DRAFT_LST, i) for i in range(16)] == DRAFT_STATUSES


def test_the_drafts_statuses_encode_to_its_example() -> None:
    # The same statuses as the vault keeps them (W3C order), turned into the draft's list.
    w3c = status_bitmap.pack(16, [i for i, s in enumerate(DRAFT_STATUSES) if s])
    assert status_lists.ietf_bytes(w3c) == DRAFT_BYTES
    assert status_lists.ietf_lst(w3c) == DRAFT_LST


def test_both_lists_hold_the_bitmaps_revoked_set_bit_for_bit() -> None:
    rng = random.Random(13)
    size = 5000
    revoked = sorted(rng.sample(range(size), 250))
    bitmap = status_bitmap.pack(size, revoked)
    lst = status_lists.ietf_lst(bitmap)
    encoded = status_lists.encoded_list(bitmap)
    assert [i for i in range(size) if ietf_status(lst, i)] == revoked
    assert [i for i in range(size) if w3c_status(encoded, i)] == revoked
    assert [i for i in range(size) if status_bitmap.is_set(bitmap, i)] == revoked


def test_the_bitstring_is_at_least_16_kb_and_deterministic() -> None:
    bitmap = status_bitmap.pack(3, [2])
    encoded = status_lists.encoded_list(bitmap)
    raw = gzip.decompress(unb64(encoded[1:]))
    assert len(raw) * 8 == 131_072 and raw[0] == 0x20 and not any(raw[1:])
    assert status_lists.encoded_list(bitmap) == encoded  # no timestamp in the gzip header
    large = status_bitmap.pack(200_000, [199_999])
    raw = gzip.decompress(unb64(status_lists.encoded_list(large)[1:]))
    assert len(raw) == 25_000 and w3c_status(status_lists.encoded_list(large), 199_999)


def test_the_token_claims_and_the_credential_name_their_urls() -> None:
    bitmap = status_bitmap.pack(8, [1])
    claims = status_lists.token_claims("https://vault.example/", bitmap, 1_700_000_000)
    assert claims["sub"] == "https://vault.example/status/token-list"
    assert claims["exp"] - claims["iat"] == status_lists.LIFETIME and claims["ttl"] == status_lists.TTL
    assert claims["status_list"]["bits"] == 1 and ietf_status(claims["status_list"]["lst"], 1) == 1
    vc = status_lists.bitstring_credential("https://vault.example", bitmap, 1_700_000_000)
    assert vc["id"] == "https://vault.example/status/bitstring-list"
    assert vc["validFrom"] == "2023-11-14T22:13:20Z"
    assert vc["credentialSubject"]["statusPurpose"] == "revocation"
    assert w3c_status(vc["credentialSubject"]["encodedList"], 1) == 1


def test_xml_datetimes_past_year_9999() -> None:
    assert w3c_dates.xml_datetime(0) == "1970-01-01T00:00:00Z"
    assert w3c_dates.xml_datetime(253_402_300_799) == "9999-12-31T23:59:59Z"
    assert w3c_dates.xml_datetime(253_402_300_800) == "10000-01-01T00:00:00Z"
    # 2**40 - 1, the latest validUntil a credential may have.
    assert w3c_dates.xml_datetime(2**40 - 1).startswith("36812-")
