"""Issuers that other systems can resolve: identifiers, JWKS and SD-JWT VC issuer metadata.

An issuer's identifier is ``<public URL>/issuers/<department code>`` (``vault.interop.urls``); its metadata is served
at ``/.well-known/jwt-vc-issuer/issuers/<code>`` (SD-JWT VC, the well-known segment inserted
after the host). Keys are published only while the registry on chain says the department's
chain key is an active issuer, as of the chain's latest block (read through ``chain.view``),
and each key's ``kid`` is that address: a verifier that distrusts the vault's operator checks
``keccak(x || y)`` against the registry itself, named in ``chain`` with its chain id.

In a vault whose suite is sm, an issuer's SM2 key (``vault.accounts.issuer_sm2``) is listed
beside it, under the same condition: kty EC, crv "SM2" (the form SM2 toolkits use; the curve
is not registered with IANA, and JOSE libraries pass over a key they cannot use), ``kid`` the
chain key's address with ``#sm2``. It signs each batch root's text
(``vault.credentials.root_signatures``); the registry does not know it, so it is as trusted
as this metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy.ext.asyncio import AsyncSession

from chain.registry import Roles
from chain.view import queries
from vault.accounts import issuer_sm2
from vault.context import VaultContext
from vault.db.models import Department
from vault.errors import NotFoundError
from vault.interop import jose_keys, urls

SM2_KID_SUFFIX = "#sm2"


@dataclass(frozen=True)
class IssuerKeys:
    code: str
    name: str
    keys: list[dict[str, Any]]  # public JWKs; empty while the chain does not list it as an issuer
    chain_id: int
    registry: str


async def issuer_keys(ctx: VaultContext, session: AsyncSession, code: str) -> IssuerKeys:
    """The department ``code``'s verification keys, as the chain has them now."""
    dept = await session.get(Department, code)
    if dept is None:
        raise NotFoundError("department", code)
    (info,) = await ctx.chain.view.read(queries.department(ctx.chain.client, dept.chain_address))
    keys: list[dict[str, Any]] = []
    # Deactivated in the vault and not yet on chain: deny wins, as in the status snapshot.
    if dept.active and info is not None and info.active and Roles.ISSUER in info.roles:
        keys.append(jose_keys.public_jwk(ctx.account(dept.chain_key_name)))
        sm2 = issuer_sm2.public_key(dept)
        if sm2 is not None:
            kid = to_checksum_address(dept.chain_address) + SM2_KID_SUFFIX
            keys.append({**sm2.jwk(), "kid": kid, "use": "sig"})
    return IssuerKeys(
        code=dept.code,
        name=dept.name,
        keys=keys,
        chain_id=ctx.chain.chain_id(),
        registry=to_checksum_address(ctx.chain.client.address),
    )


def jwks(found: IssuerKeys) -> dict[str, Any]:
    return {"keys": found.keys}


def metadata(found: IssuerKeys, base_url: str) -> dict[str, Any]:
    """SD-JWT VC issuer metadata, with where a verifier can check the keys on chain."""
    return {
        "issuer": urls.issuer_id(base_url, found.code),
        "jwks": jwks(found),
        "display": [{"lang": "zh-CN", "name": found.name}],
        "chain": {
            "chain_id": found.chain_id,
            "registry": found.registry,
            "department_code": found.code,
            "key_binding": "kid = keccak256(x || y)[12:], listed as an active issuer by the registry",
        },
    }
