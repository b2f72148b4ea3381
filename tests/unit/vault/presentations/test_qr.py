from __future__ import annotations

import io
import random
import uuid
import xml.etree.ElementTree as ET

import pytest
import segno
from PIL import Image, ImageFilter

from vault.credentials.header import CredentialHeader
from vault.errors import VaultValueError
from vault.presentations import codec as presentation_codec
from vault.presentations import qr
from vault.presentations.model import DisclosedField, Presentation
from vault.presentations.qr import QrImageError


def signature(rng: random.Random) -> bytes:
    raw = bytearray(rng.randbytes(65))
    raw[32] &= 0x7F  # low s, as every signer makes them
    raw[64] = 27 + raw[64] % 2
    return bytes(raw)


def presentation(seed: int = 7, fields: int = 3) -> Presentation:
    """Shaped like a real one (sizes, types); it only has to encode and decode."""
    rng = random.Random(seed)
    header = CredentialHeader(
        type="licence",
        title="机动车驾驶证",
        subject="0x" + rng.randbytes(32).hex(),
        holder="0x" + rng.randbytes(20).hex(),
        issuer_code="gongan",
        issuer_address="0x" + rng.randbytes(20).hex(),
        record_id=str(uuid.UUID(bytes=rng.randbytes(16))),
        record_version=1,
        issued_at=1_700_000_000,
        valid_from=1_700_000_000,
        valid_until=1_900_000_000,
        status_index=4711,
    )
    shown = [("姓名", "张三"), ("准驾车型", "C1"), ("住址", "北京市东城区景山前街4号"), ("证号", "11010519900101002X")][
        :fields
    ]
    return Presentation(
        header=header,
        header_index=0,
        header_salt=rng.randbytes(16),
        leaf_count=16,
        fields=tuple(
            DisclosedField(1 + 2 * i, name, value, rng.randbytes(16)) for i, (name, value) in enumerate(shown)
        ),
        field_proof=tuple(rng.randbytes(32) for _ in range(4)),
        batch_proof=tuple(rng.randbytes(32) for _ in range(14)),
        issuer_signature=signature(rng),
        nonce=rng.randbytes(16),
        created_at=1_750_000_000,
        expires_at=1_750_000_300,
        holder_signature=signature(rng),
        credential=rng.randbytes(32),
    )


TEXT = presentation_codec.encode(presentation())


def image_bytes(image: Image.Image, kind: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def test_png_round_trip_of_a_real_presentation() -> None:
    data = qr.png(TEXT)
    assert data.startswith(b"\x89PNG")
    text = qr.decode_image(data)
    assert text == TEXT
    assert presentation_codec.decode(text) == presentation()


def test_png_size_follows_version_scale_and_border() -> None:
    version = qr.version_for(TEXT)
    with Image.open(io.BytesIO(qr.png(TEXT, scale=3, border=2))) as image:
        assert image.size == ((17 + 4 * version + 2 * 2) * 3,) * 2
    print(f"\n{len(TEXT)} characters: QR version {version}")


def test_alphanumeric_mode_makes_a_smaller_code_than_byte_mode() -> None:
    byte_mode = segno.make(TEXT, error="m", mode="byte", micro=False).version
    assert qr.version_for(TEXT) < byte_mode
    assert qr.version_for("DV1:ABC") == 1  # never micro QR
    assert qr.version_for("张三") >= 1  # other text still works, in byte mode


def test_svg_is_well_formed_xml_of_the_expected_size() -> None:
    root = ET.fromstring(qr.svg(TEXT, scale=5))
    side = (17 + 4 * qr.version_for(TEXT) + 2 * 4) * 5
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == (str(side), str(side))


def test_a_photo_like_jpeg_still_decodes() -> None:
    with Image.open(io.BytesIO(qr.png(TEXT, scale=4))) as image:
        photo = image.convert("RGB").rotate(
            8, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(235, 230, 220)
        )
    photo = photo.resize((int(photo.width * 1.7), int(photo.height * 1.7)), Image.Resampling.BILINEAR)
    photo = photo.filter(ImageFilter.GaussianBlur(1.2))
    assert qr.decode_image(image_bytes(photo, "JPEG", quality=55)) == TEXT


def test_black_on_transparent_decodes() -> None:
    with Image.open(io.BytesIO(qr.png(TEXT))) as image:
        gray = image.convert("L")
    clear = Image.new("RGBA", gray.size, (0, 0, 0, 0))
    clear.putalpha(gray.point(lambda v: 255 - v))  # modules opaque black, background transparent black
    assert qr.decode_image(image_bytes(clear)) == TEXT


def test_the_same_code_twice_is_one_code_and_two_codes_are_refused() -> None:
    other = presentation_codec.encode(presentation(seed=8, fields=1))
    with Image.open(io.BytesIO(qr.png(TEXT))) as a, Image.open(io.BytesIO(qr.png(other))) as b:
        a, b = a.convert("L"), b.convert("L")

    def side_by_side(left: Image.Image, right: Image.Image) -> bytes:
        sheet = Image.new("L", (left.width + right.width, max(left.height, right.height)), 255)
        sheet.paste(left, (0, 0))
        sheet.paste(right, (left.width, 0))
        return image_bytes(sheet)

    assert qr.decode_image(side_by_side(a, a)) == TEXT
    with pytest.raises(QrImageError, match="2 different QR codes"):
        qr.decode_image(side_by_side(a, b))


def test_a_blank_image_has_no_qr_code() -> None:
    with pytest.raises(QrImageError, match="no QR code found"):
        qr.decode_image(image_bytes(Image.new("RGB", (400, 300), (255, 255, 255))))


@pytest.mark.parametrize("data", [random.Random(1).randbytes(5000), b"GIF89a" + b"\x00" * 10, b"not an image"])
def test_random_bytes_are_not_an_image(data: bytes) -> None:
    with pytest.raises(QrImageError, match="not an image"):
        qr.decode_image(data)


def test_formats_other_than_the_common_raster_ones_are_refused() -> None:
    tiff = image_bytes(Image.new("L", (50, 50), 255), "TIFF")
    with pytest.raises(QrImageError, match=r"not an image .*accepted: PNG, JPEG"):
        qr.decode_image(tiff)


def test_a_truncated_png_is_damaged() -> None:
    data = qr.png(TEXT)
    with pytest.raises(QrImageError, match="damaged or cut short"):
        qr.decode_image(data[: len(data) // 2])


def test_bytes_flipped_in_the_middle_of_a_png_are_refused() -> None:
    data = bytearray(qr.png(TEXT))
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    with pytest.raises(QrImageError, match=r"damaged|no QR code"):
        qr.decode_image(bytes(data))


def test_oversized_images_are_refused_before_decoding() -> None:
    with pytest.raises(QrImageError, match="image too large: 10,485,761 bytes"):
        qr.decode_image(b"\x89PNG" + b"\x00" * (qr.MAX_IMAGE_BYTES - 3))
    huge = image_bytes(Image.new("1", (8000, 6000), 1))  # 48 megapixels, a few kilobytes of PNG
    assert len(huge) < 100_000
    with pytest.raises(QrImageError, match="8000x6000 pixels, the limit is 40 megapixels"):
        qr.decode_image(huge)


@pytest.mark.parametrize("data", ["DV1:ABC", None, b""])
def test_non_bytes_and_empty_input(data: object) -> None:
    with pytest.raises(QrImageError, match="no data"):
        qr.decode_image(data)  # type: ignore[arg-type]


def test_making_a_code_refuses_what_no_qr_code_holds() -> None:
    with pytest.raises(QrImageError, match="too long for a QR code: 5000 characters"):
        qr.png("A" * 5000)
    with pytest.raises(QrImageError, match="no text"):
        qr.svg("")
    with pytest.raises(QrImageError, match="scale"):
        qr.png(TEXT, scale=0)
    assert isinstance(QrImageError("x"), VaultValueError)


def test_fuzz_damaged_images_raise_only_qr_image_error() -> None:
    rng = random.Random(5)
    sources = [qr.png(TEXT, scale=2), image_bytes(Image.open(io.BytesIO(qr.png(TEXT, scale=2))).convert("RGB"), "JPEG")]
    for _ in range(150):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.choice((1, 4, 32))):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        try:
            assert qr.decode_image(bytes(data)) == TEXT
        except QrImageError as e:
            assert e.reason
