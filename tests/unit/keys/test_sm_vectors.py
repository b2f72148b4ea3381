"""The sm suite's primitives against the standards' own examples.

- SM3: GB/T 32905-2016 Annex A, examples 1 ("abc") and 2 ("abcd" * 16).
- SM4: GB/T 32907-2016 Annex A, example 1 (one block) and example 2 (the same block
  encrypted 1,000,000 times).
- SM4-GCM: RFC 8998 Appendix A.1.
- SM2: GB/T 32918.5-2017 (= GM/T 0003.5-2012) Annex A, the signature on the recommended curve
  with private key 3945208F..., message "message digest", user id "1234567812345678"; the
  same values are in OpenSSL's test/sm2_internal_test.c and GmSSL's SM2 tests. Z and e are
  recomputed here from the curve's parameters with cryptography's SM3, independently of Tongsuo.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm2 as gmssl_sm2

from keys import SM2_DEFAULT_USER_ID, Sm2Key, Sm2PublicKey
from keys._aead import sm4_gcm_decrypt, sm4_gcm_encrypt


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def test_sm3_gbt_32905_example_1_abc() -> None:
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm3_gbt_32905_example_2_64_bytes() -> None:
    expected = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert sm3(b"abcd" * 16).hex() == expected


def test_hmac_sm3_is_rfc_2104_over_sm3() -> None:
    # No standard HMAC-SM3 vector is cited here: check the construction itself (64-byte block).
    key, message = b"k" * 20, b"audit entry"
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(message)
    padded = key.ljust(64, b"\x00")
    inner = sm3(bytes(b ^ 0x36 for b in padded) + message)
    assert mac.finalize() == sm3(bytes(b ^ 0x5C for b in padded) + inner)


SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def test_sm4_gbt_32907_example_1_one_block() -> None:
    encryptor = Cipher(algorithms.SM4(SM4_KEY), modes.ECB()).encryptor()
    assert encryptor.update(SM4_KEY).hex() == "681edf34d206965e86b3e94f536e4246"
    decryptor = Cipher(algorithms.SM4(SM4_KEY), modes.ECB()).decryptor()
    assert decryptor.update(bytes.fromhex("681edf34d206965e86b3e94f536e4246")) == SM4_KEY


def test_sm4_gbt_32907_example_2_million_encryptions() -> None:
    encryptor = Cipher(algorithms.SM4(SM4_KEY), modes.ECB()).encryptor()
    block = SM4_KEY
    for _ in range(1_000_000):
        block = encryptor.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm4_gcm_rfc_8998_a1() -> None:
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plain = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    expected = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        "83DE3541E4C2B58177E065A9BF7B62EC"
    )
    assert sm4_gcm_encrypt(SM4_KEY, nonce, plain, aad) == expected
    assert sm4_gcm_decrypt(SM4_KEY, nonce, expected, aad) == plain


# GB/T 32918.5-2017 Annex A: the recommended curve and the signature example.
P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
A = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC", 16)
B = int("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93", 16)
GX = int("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7", 16)
GY = int("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0", 16)
D = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
PX = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
PY = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
Z = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
MESSAGE = b"message digest"


def test_sm2_public_key_of_the_example_private_key() -> None:
    assert Sm2Key.from_bytes(D).public_key.hex == "04" + (PX + PY).lower()


def test_sm2_z_and_e_of_the_example() -> None:
    def b32(n: int) -> bytes:
        return n.to_bytes(32, "big")

    entl = (len(SM2_DEFAULT_USER_ID) * 8).to_bytes(2, "big")
    z = sm3(entl + SM2_DEFAULT_USER_ID + b32(A) + b32(B) + b32(GX) + b32(GY) + bytes.fromhex(PX + PY))
    assert z.hex().upper() == Z
    assert sm3(z + MESSAGE).hex().upper() == E


def test_sm2_standard_signature_verifies() -> None:
    public = Sm2PublicKey.from_hex("04" + PX + PY)
    assert public.verify(MESSAGE, bytes.fromhex(R + S))
    assert not public.verify(b"message digesT", bytes.fromhex(R + S))
    assert not public.verify(MESSAGE, bytes.fromhex(R + S[:-2] + "AB"))


def test_sm2_signatures_interoperate_with_gmssl() -> None:
    # gmssl (pure Python, Z from the same default id) is an independent implementation.
    key = Sm2Key.from_bytes(D)
    other = gmssl_sm2.CryptSM2(private_key=D.hex(), public_key=PX + PY)
    signature = key.sign(b"tree head")
    assert other.verify_with_sm3(signature.hex(), b"tree head")
    theirs = other.sign_with_sm3(b"batch root")
    assert key.public_key.verify(b"batch root", bytes.fromhex(theirs))
    assert other.verify_with_sm3(R + S, MESSAGE)
