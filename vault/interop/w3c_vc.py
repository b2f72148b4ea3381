"""A holder's credential as a W3C Verifiable Credential 2.0, secured with JOSE (vc-jose-cose).

The VC is the JSON-LD credential itself as the JWS payload (``typ`` ``vc+jwt``, ``cty``
``vc``), signed ES256K by the issuing department's chain key: the key listed at
``/issuers/<code>/jwks.json`` and by the registry on chain, ``kid`` its address. It names:
  credentialSubject  the holder as ``did:pkh:eip155:<chain id>:<address>`` and the claims of
                     ``vault.interop.claims``. The address is the holder's current key (the
                     subject's row, which the consent registry follows): the key that signs the
                     holder's presentations and that verifiers check online. After the identity
                     authority replaced the key, a re-export names the new one, though the
                     anchored document (``evidence``) still names the key at issuance.
  credentialStatus   its bit in the Bitstring Status List (the index of the status snapshot)
  evidence           the chain anchor: the registry's ``credentialStatus(credentialHash,
                     merkleProof)`` returns the root's issuer and validity and when it was
                     revoked (0: not revoked)
Only anchored, unrevoked version 2 credentials are exported, as for presentations.

The subject's ``id`` and JSON-LD's words are never a claim's: a credential with a field named
``id`` or ``type``, or starting with ``@`` (a JSON-LD keyword), is not exported (409 naming
the field) rather than renamed or nested, so that the VC says what the credential says, under
the same names as the other formats, or nothing. Such a field (a stray ``id`` column of a bulk
import, say) is fixed by the issuer's correction.
"""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy.ext.asyncio import AsyncSession

from vault.accounts import departments
from vault.context import VaultContext
from vault.credentials import records
from vault.db.models import Department, Subject
from vault.errors import ConflictError, NotFoundError
from vault.interop import claims, compact_jws, status_lists, urls, w3c_dates
from vault.licence_codes import ELicenceFacts

TYP = "vc+jwt"
# Names a claim of credentialSubject may not take: its id, its JSON-LD type, and the keywords.
RESERVED = frozenset({"id", "type"})
MEDIA_TYPE = "application/vc+jwt"
CHECK = (
    "call credentialStatus(credentialHash, merkleProof) on the registry at chainId: valid if the issuer it "
    "returns is this credential's issuer key (kid) and revokedAt is 0"
)


def holder_did(chain_id: int, address: str) -> str:
    """The holder's DID (did:pkh, CAIP-10 account of the chain the registry is on)."""
    return f"did:pkh:eip155:{chain_id}:{to_checksum_address(address)}"


def _subject_claims(claims: dict[str, Any]) -> dict[str, Any]:
    for name in claims:
        if name in RESERVED or name.startswith("@"):
            raise ConflictError(
                f"the credential's field {name!r} clashes with a word of the W3C VC data model "
                "(the holder's id, the type, or a JSON-LD keyword); it cannot be exported as a W3C VC: "
                "ask the issuer to correct the credential"
            )
    return claims


def type_name(record_type: str) -> str:
    """``licence`` -> ``LicenceCredential``: the VC type beside ``VerifiableCredential``."""
    return "".join(part.capitalize() for part in record_type.split("_")) + "Credential"


def credential(
    view: records.RecordView,
    document: dict[str, Any],
    *,
    base_url: str,
    chain_id: int,
    registry: str,
    holder: str,
    e_licence: ELicenceFacts | None = None,
) -> dict[str, Any]:
    """The unsigned VC 2.0 of an anchored version 2 credential (``view`` with its ``document``),
    its subject the key ``holder`` (an address); with ``e_licence``, its claims carry the
    GB/T 36903 metadata, named as in the SD-JWT VC. ConflictError for a field of a reserved name."""
    if view.anchor is None:
        raise ConflictError(f"this credential is {view.status}, not anchored yet; export it once it is anchored")
    list_url = urls.bitstring_status_list(base_url)
    index = int(document["status_index"])
    return {
        "@context": [status_lists.CREDENTIALS_V2],
        "type": ["VerifiableCredential", type_name(view.type)],
        "issuer": urls.issuer_id(base_url, view.issuer_code),
        "name": document["title"],
        "validFrom": w3c_dates.xml_datetime(view.valid_from),
        "validUntil": w3c_dates.xml_datetime(view.valid_until),
        "credentialSubject": {
            "id": holder_did(chain_id, holder),
            **_subject_claims(claims.credential_claims(document, e_licence=e_licence)),
        },
        "credentialStatus": {
            "id": f"{list_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": list_url,
        },
        "evidence": [
            {
                "type": ["ChainAnchor"],
                "chainId": chain_id,
                "registry": to_checksum_address(registry),
                "credentialHash": view.credential_hash,
                "merkleRoot": view.anchor.root,
                "merkleProof": list(view.anchor.proof),
                "transaction": view.anchor.tx_hash,
                "blockNumber": view.anchor.block_number,
                "record": {"id": view.id, "version": view.version},
                "check": CHECK,
            }
        ],
    }


async def export(
    ctx: VaultContext, session: AsyncSession, *, subject_id: str, record_id: str, base_url: str, now: int
) -> str:
    """The subject's own record ``record_id`` as a VC 2.0 in JWS compact form (vc+jwt).

    The read is logged as any read of one's own record; ConflictError for a record that is
    revoked (or being revoked), not anchored yet, or whose issuer is deactivated."""
    view = await records.read_for_subject(ctx, session, subject_id, record_id, now)
    if view.status in ("revoked", "revoking"):
        raise ConflictError("this credential is revoked; a revoked credential cannot be exported")
    document = view.document
    if document is None or document.get("version") != 2:
        raise ConflictError(
            "this credential was issued before fields could be shown one by one; "
            "ask the issuer to issue it again (a correction does)"
        )
    dept = await session.get(Department, view.issuer_code)
    if dept is None or not dept.active:
        raise ConflictError(f"the issuer {view.issuer_code!r} is deactivated; its credentials are not exported")
    subject = await session.get(Subject, subject_id)
    if subject is None:  # read_for_subject found the record, so the subject is there
        raise NotFoundError("subject", subject_id)
    unsigned = credential(
        view,
        document,
        base_url=base_url,
        chain_id=ctx.chain.chain_id(),
        registry=ctx.chain.client.address,
        holder=subject.auth_address,
        # The holder's own export: the holder's name (持证主体名称) is one more claim.
        e_licence=await departments.licence_facts(ctx, session, document),
    )
    return compact_jws.sign(ctx.account(dept.chain_key_name), {"typ": TYP, "cty": "vc"}, unsigned)
