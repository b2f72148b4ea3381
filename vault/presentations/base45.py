"""Base45 (RFC 9285): bytes as text in the QR code alphanumeric alphabet.

A QR code stores its 45 alphanumeric characters at 5.5 bits each, so two bytes written as
three Base45 characters take 16.5 bits in alphanumeric mode, where base64 text in byte mode
takes 21.3 bits (8 per character): about a quarter fewer modules. Raw bytes in byte mode would
take 16, but scanners hand over text and mangle binary. This is why EU Digital COVID
Certificates ("HC1:") and our presentations ("DV1:") use it.

Every two bytes become three characters (``a*256 + b = c + 45*d + 45*45*e``, written c d e);
an odd last byte becomes two. Decoding is strict: a character outside the alphabet, a length
that leaves one character over, or a triple above 65535 is refused, so that one text never
stands for two byte strings.
"""

from __future__ import annotations

from vault.errors import VaultValueError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class Base45Error(VaultValueError):
    """Text that is not valid Base45; ``reason`` says which rule it breaks."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="base45")


def encode(data: bytes) -> str:
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise Base45Error("Base45 input must be text")
    if len(text) % 3 == 1:
        raise Base45Error(f"Base45 text cannot be {len(text)} characters long (one is left over)")
    values: list[int] = []
    for pos, char in enumerate(text):
        value = _VALUE.get(char)
        if value is None:
            raise Base45Error(f"character {char!r} at position {pos} is not Base45")
        values.append(value)
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(chunk))
        if len(chunk) == 3:
            if n > 0xFFFF:
                raise Base45Error(f"characters {i}-{i + 2} encode {n}, above 65535")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise Base45Error(f"characters {i}-{i + 1} encode {n}, above 255")
            out.append(n)
    return bytes(out)
