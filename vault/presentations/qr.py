"""QR codes of presentation texts (扫码亮证), and reading one back from a photo or screenshot.

Codes are made at error correction level M: it restores up to 15% of the code (glare, a
scratched screen), L only 7%. A version at M holds 78% of what it holds at L; Q and H hold
56% and 43%, which would make a presentation's code several versions larger. segno raises the
level when that still fits the same version (``boost_error``): free robustness. Text within
the QR alphanumeric alphabet (a ``DV1:`` presentation always is: Base45) is encoded in
alphanumeric mode, 5.5 bits a character instead of 8. Never micro QR: phones' camera apps do not read it.

Reading accepts only common raster formats, checks the size before decoding a single pixel
and turns whatever Pillow or zxing-cpp raise into one ``QrImageError``: images come from
anyone's phone.
"""

from __future__ import annotations

import io

import segno
import zxingcpp
from PIL import Image

from vault.errors import VaultValueError
from vault.presentations.base45 import ALPHABET

ERROR_LEVEL = "m"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
# A 12-megapixel phone photo is well inside; 40 megapixels of RGBA are 160 MB once decoded, the
# most one request should cost. Pillow's own guard (~89 MP, then an error at twice that) is
# process-wide and looser, so this is checked from the header, before anything is decoded.
MAX_PIXELS = 40_000_000
# Formats a QR image comes in. Not EPS or PDF (Pillow would hand those to Ghostscript), nor the
# exotic decoders nobody needs here.
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
_ALPHANUMERIC = frozenset(ALPHABET)
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # the QR family, micro and rMQR too


class QrImageError(VaultValueError):
    """A QR code could not be made or read; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="image")


def _make(text: str, mask: int | None = None) -> segno.QRCode:
    if not isinstance(text, str) or not text:
        raise QrImageError("there is no text to put in a QR code")
    mode = "alphanumeric" if set(text) <= _ALPHANUMERIC else None
    try:
        return segno.make(text, error=ERROR_LEVEL, mode=mode, micro=False, mask=mask)
    except segno.DataOverflowError:
        raise QrImageError(f"too long for a QR code: {len(text)} characters") from None


def version_for(text: str) -> int:
    """The QR version (1-40; side 17 + 4 x version modules) ``text`` needs at level M."""
    version = _make(text, mask=0).version  # any fixed mask: choosing the best is 80% of the work
    assert isinstance(version, int)  # never micro: no "M1"-"M4" versions
    return version


def png(text: str, *, scale: int = 4, border: int = 4) -> bytes:
    return _save(text, "png", scale, border)


def svg(text: str, *, scale: int = 4, border: int = 4) -> bytes:
    return _save(text, "svg", scale, border)


def _save(text: str, kind: str, scale: int, border: int) -> bytes:
    # The spec's quiet zone is 4 modules; less is allowed for screens with a white margin.
    if type(scale) is not int or not 1 <= scale <= 40 or type(border) is not int or not 0 <= border <= 16:
        raise QrImageError("scale must be 1-40 pixels per module and border 0-16 modules")
    out = io.BytesIO()
    _make(text).save(out, kind=kind, scale=scale, border=border)
    return out.getvalue()


def decode_image(data: bytes) -> str:
    """The text of the one QR code in ``data`` (PNG, JPEG, GIF, BMP or WebP)."""
    gray = _open(data)
    try:
        found = zxingcpp.read_barcodes(gray, formats=_QR)
    except Exception:
        raise QrImageError("the image could not be scanned") from None
    texts = {barcode.text for barcode in found if barcode.valid}
    if not texts:
        raise QrImageError("no QR code found in the image (hold the code flat, in focus and whole in the frame)")
    if len(texts) > 1:
        raise QrImageError(f"the image shows {len(texts)} different QR codes; show one at a time")
    return str(texts.pop())


def _open(data: bytes) -> Image.Image:
    if not isinstance(data, bytes) or not data:
        raise QrImageError("not an image: no data")
    if len(data) > MAX_IMAGE_BYTES:
        raise QrImageError(f"image too large: {len(data):,} bytes, the limit is {MAX_IMAGE_BYTES:,}")
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # the warning, if warnings are errors
        raise QrImageError(f"image too large: more than {MAX_PIXELS // 1_000_000} megapixels") from None
    except Exception:
        raise QrImageError(f"not an image (accepted: {', '.join(IMAGE_FORMATS)})") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise QrImageError(
            f"image too large: {width}x{height} pixels, the limit is {MAX_PIXELS // 1_000_000} megapixels"
        )
    try:
        return _gray(image)
    except Exception:
        raise QrImageError("the image is damaged or cut short") from None


def _gray(image: Image.Image) -> Image.Image:
    """Grayscale on white: a transparent background would otherwise turn black, like the code."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        image = white
    return image.convert("L")
