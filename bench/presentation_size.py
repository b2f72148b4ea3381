"""Presentation sizes: CBOR bytes, QR text and QR version for a Chinese driving licence.

Run ``python bench/presentation_size.py [--samples 30] [--no-write]``. Each sample issues a
fresh 机动车驾驶证 with eight fields the way the vault does (``vault.credentials.documents.build_document``,
its leaves, ``vault.credentials.commitments.multiproof``), anchors it in batches of 1, 100 and 10,000
(a real batch Merkle tree, ``chain.merkle``, over random neighbours), signs the batch root as
its issuer and the presentation as its holder (real EIP-712 signatures), and shows 1, 3 and
all 8 fields. Where the shown leaves sit among the 16 is chance (they are ordered by hash), so
the field proof, and with it the size, varies: the table gives the median and the largest of
the samples. Prints a Markdown table and writes it to ``bench/PRESENTATION.md``.
"""

from __future__ import annotations

import argparse
import base64
import random
import secrets
import statistics
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cbor2
import segno

from chain.merkle import merkle_proof, merkle_root
from keys import SigningKey
from vault.credentials import commitments
from vault.credentials.documents import DocumentSpec, build_document, leaves
from vault.credentials.header import CredentialHeader
from vault.presentations import base45, qr
from vault.presentations import codec as presentation_codec
from vault.presentations.model import (
    CredentialDomain,
    DisclosedField,
    Presentation,
    issued_batch_typed_data,
    presentation_typed_data,
)

OUT = ROOT / "bench" / "PRESENTATION.md"
LICENCE = {
    "姓名": "张三",
    "性别": "男",
    "国籍": "中国",
    "住址": "广东省深圳市南山区粤海街道科技园社区科苑路15号科兴科学园B栋3单元1502室",
    "出生日期": "1990-01-01",
    "初次领证日期": "2010-06-15",
    "准驾车型": "C1",
    "证号": "440305199001011234",
}
SHOWN = [["准驾车型"], ["姓名", "准驾车型", "证号"], list(LICENCE)]
BATCHES = [1, 100, 10_000]
DOMAIN = CredentialDomain(chain_id=31337, registry="0x5FbDB2315678afecb367f032d93F642f64180aa3")
ISSUER, HOLDER = SigningKey.generate(), SigningKey.generate()
PARTS = [
    "version",
    "header",
    "header position",
    "header salt",
    "leaf count",
    "fields",
    "field proof",
    "batch proof",
    "issuer signature",
    "nonce",
    "created at",
    "expires at",
    "holder signature",
    "credential hash",
]


@dataclass
class Sample:
    shown: int
    batch: int
    field_proof: int
    cbor: int
    zlib: bool
    chars: int
    version: int
    base64_version: int
    parts: list[int]


def issue() -> tuple[dict[str, Any], list[bytes]]:
    spec = DocumentSpec("licence", "机动车驾驶证", LICENCE, 1_700_000_000, 2_015_000_000)
    document = build_document(
        spec,
        subject_id="0x" + secrets.token_hex(32),
        holder=HOLDER.address.lower(),
        issuer_code="gongan",
        issuer_address=ISSUER.address.lower(),
        record_id=str(uuid.uuid4()),
        record_version=1,
        issued_at=1_700_000_000,
        status_index=random.randrange(2**20),
    )
    return document, leaves(document)


def batch_proof(credential: bytes, size: int) -> tuple[list[bytes], bytes]:
    batch = [secrets.token_bytes(32) for _ in range(size - 1)]
    batch.insert(random.randrange(size), credential)
    return merkle_proof(batch, batch.index(credential)), merkle_root(batch)


def present(
    document: dict[str, Any], tree: list[bytes], shown: list[str], proof: list[bytes], root: bytes
) -> Presentation:
    salts = {name: bytes.fromhex(s) for name, s in document["salts"].items()}
    header = CredentialHeader.from_document(document)
    fields = sorted(
        (
            DisclosedField(tree.index(commitments.field_leaf(n, LICENCE[n], salts[n])), n, LICENCE[n], salts[n])
            for n in shown
        ),
        key=lambda f: f.index,
    )
    header_index = tree.index(header.leaf(salts[commitments.HEADER_NAME]))
    p = Presentation(
        header=header,
        header_index=header_index,
        header_salt=salts[commitments.HEADER_NAME],
        leaf_count=len(tree),
        fields=tuple(fields),
        field_proof=tuple(commitments.multiproof(tree, [header_index, *(f.index for f in fields)])),
        batch_proof=tuple(proof),
        issuer_signature=_sign(ISSUER, issued_batch_typed_data(DOMAIN, root)),
        nonce=secrets.token_bytes(16),
        created_at=1_750_000_000,
        expires_at=1_750_000_300,
        credential=commitments.root(tree),
    )
    return p.signed(_sign(HOLDER, presentation_typed_data(DOMAIN, p)))


def _sign(key: SigningKey, typed: dict[str, Any]) -> bytes:
    return bytes.fromhex(key.sign_typed_data(typed)[2:])


def measure(p: Presentation, batch: int) -> Sample:
    text = presentation_codec.encode(p)
    payload = base45.decode(text[len(presentation_codec.PREFIX) :])
    assert presentation_codec.decode(text) == p
    array = cbor2.loads(payload[1:]) if payload[0] == 0 else None
    b64 = presentation_codec.PREFIX + base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return Sample(
        shown=len(p.fields),
        batch=batch,
        field_proof=len(p.field_proof),
        cbor=len(payload) - 1,
        zlib=payload[0] == 1,
        chars=len(text),
        version=qr.version_for(text),
        base64_version=int(segno.make(b64, error="m", mode="byte", micro=False, mask=0).version),
        parts=[len(cbor2.dumps(item, canonical=True)) for item in array] if array else [],
    )


def spread(values: list[int]) -> str:
    med, top = statistics.median_low(values), max(values)
    return f"{med:,}" if med == top else f"{med:,} ({top:,})"


def row(samples: list[Sample]) -> str:
    s = samples[0]
    zipped = sum(x.zlib for x in samples)
    return (
        f"| {s.shown} | {s.batch:,} | {spread([x.field_proof for x in samples])} | {spread([x.cbor for x in samples])} "
        f"| {'no' if not zipped else f'{zipped}/{len(samples)}'} | {spread([x.chars for x in samples])} "
        f"| {spread([x.version for x in samples])} | {spread([x.base64_version for x in samples])} |"
    )


def breakdown(sample: Sample) -> str:
    lines = ["| part | CBOR bytes |", "| --- | ---: |"]
    lines += [f"| {name} | {size} |" for name, size in zip(PARTS, sample.parts, strict=True)]
    lines.append(f"| array head | {sample.cbor - sum(sample.parts)} |")
    return "\n".join([*lines, f"| **total** | **{sample.cbor}** |"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--samples", type=int, default=30)
    p.add_argument("--no-write", action="store_true", help=f"print only; do not rewrite {OUT.name}")
    args = p.parse_args()
    results: dict[tuple[int, int], list[Sample]] = {}
    for _ in range(args.samples):
        document, tree = issue()
        for batch in BATCHES:
            proof, root = batch_proof(commitments.root(tree), batch)
            for shown in SHOWN:
                results.setdefault((len(shown), batch), []).append(
                    measure(present(document, tree, shown, proof, root), batch)
                )
    columns = [
        "fields shown",
        "batch size",
        "field proof hashes",
        "CBOR bytes",
        "zlib used",
        "text chars",
        "QR version, Base45 alphanumeric",
        "QR version, base64url byte mode",
    ]
    header = ["| " + " | ".join(columns) + " |", "|" + " ---: |" * len(columns)]
    table = "\n".join(header + [row(results[key]) for key in sorted(results)])
    typical = next(s for s in results[(3, 10_000)] if s.parts)
    print(table)
    print(breakdown(typical))
    if args.no_write:
        return
    text = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
    notes = text[text.index("\n## ") :] if "\n## " in text else "\n"
    OUT.write_text(
        "# Presentation size\n\n"
        f"Measured by `python bench/presentation_size.py --samples {args.samples}`: a 机动车驾驶证 of eight fields (a\n"
        f"{len(LICENCE['住址'])}-character address, an {len(LICENCE['证号'])}-character licence number), issued, "
        "anchored, signed and\n"
        "shown as the vault does it; each row is the median of the samples, the largest in brackets.\n"
        f"Text is `{presentation_codec.PREFIX}` + Base45; the QR version (a side of 17 + 4 x version modules) is the\n"
        "one segno picks at level M, in alphanumeric mode; the last column puts the same payload in\n"
        "base64url, which a QR code can only hold in byte mode.\n\n" + table + "\n\n"
        f"Where the bytes go (3 fields shown, batch of 10,000, field proof of {typical.field_proof} hashes):\n\n"
        + breakdown(typical)
        + "\n"
        + notes,
        encoding="utf-8",
    )
    print(f"written to {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
