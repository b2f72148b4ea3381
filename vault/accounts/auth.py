"""Login by signature: the server hands out a one-time challenge, the caller signs it with
its key (EIP-191), and gets a short-lived token naming its role.

Tokens are HMAC-signed with a key derived from the master key, so they survive restarts
and cannot be minted without the master key. Each request still checks, in the database (so
that every worker agrees), that the token was not logged out and that the key it was issued to
is still the principal's: a replaced key takes its sessions with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from keys import KeysError, recover_message
from vault.accounts import agents
from vault.accounts.subjects import check_address
from vault.db.models import Admin, Auditor, Challenge, Department, ReplacedSubjectKey, RevokedToken, Subject
from vault.errors import AuthenticationError, RateLimitedError

Role = Literal["admin", "auditor", "department", "subject", "delegate"]
CHALLENGE_TTL = 300
TOKEN_TTL = 900
# Outstanding (issued, neither redeemed nor expired) challenges: a client redeems its own in
# seconds, so a few suffice; the overall bound caps the table whatever the number of clients.
CHALLENGES_PER_CLIENT = 20
CHALLENGES_OUTSTANDING = 10_000


@dataclass(frozen=True)
class Principal:
    role: Role
    # admin, auditor, delegate: its address; department: its code; subject: its pseudonymous id
    id: str
    address: str
    # The token's own id and expiry (empty for a principal not read from a token): which
    # session, not who, so left out of equality.
    jti: str = field(default="", compare=False)
    expires_at: int = field(default=0, compare=False)


def challenge_text(address: str, nonce: str, expires_at: int) -> str:
    return f"datavault login\naddress: {address}\nnonce: {nonce}\nexpires: {expires_at}"


async def create_challenge(session: AsyncSession, address: str, now: int, client: str = "") -> str:
    """A challenge for ``address``, asked for by ``client`` (the HTTP peer). Counted in the
    database, so the bounds hold across every worker."""
    auth = check_address(address)
    await session.execute(delete(Challenge).where(Challenge.expires_at <= now))
    client = client[:64]
    mine, my_oldest = (
        await session.execute(select(func.count(), func.min(Challenge.expires_at)).where(Challenge.client == client))
    ).one()
    if mine >= CHALLENGES_PER_CLIENT:
        raise RateLimitedError(
            f"{mine} login challenges from this client are outstanding; redeem one or wait",
            retry_after=int(my_oldest) - now,
        )
    total, oldest = (await session.execute(select(func.count(), func.min(Challenge.expires_at)))).one()
    if total >= CHALLENGES_OUTSTANDING:
        raise RateLimitedError(
            "too many login challenges are outstanding; try again shortly", retry_after=int(oldest) - now
        )
    nonce = secrets.token_hex(16)
    session.add(Challenge(nonce=nonce, address=auth, expires_at=now + CHALLENGE_TTL, client=client))
    return challenge_text(auth, nonce, now + CHALLENGE_TTL)


async def _take_challenge(sessions: async_sessionmaker[AsyncSession], challenge: str) -> Challenge:
    """Deletes the challenge and commits at once: one attempt per challenge, right or wrong.

    The DELETE's row count decides, so of two concurrent attempts exactly one gets it.
    """
    fields = dict(line.split(": ", 1) for line in challenge.splitlines()[1:] if ": " in line)
    async with sessions.begin() as session:
        row = await session.get(Challenge, fields.get("nonce", ""))
        if row is None or challenge != challenge_text(row.address, row.nonce, row.expires_at):
            raise AuthenticationError("unknown or already used challenge")
        result = await session.execute(delete(Challenge).where(Challenge.nonce == row.nonce))
        if getattr(result, "rowcount", 0) != 1:
            raise AuthenticationError("unknown or already used challenge")
        return row


async def redeem(sessions: async_sessionmaker[AsyncSession], challenge: str, signature: str, now: int) -> Principal:
    row = await _take_challenge(sessions, challenge)
    if row.expires_at <= now:
        raise AuthenticationError("challenge expired")
    try:
        signer = recover_message(challenge, signature)
    except KeysError:
        raise AuthenticationError("signature is malformed") from None
    if signer != row.address:
        raise AuthenticationError("signature does not match the address")
    async with sessions() as session:
        principal = await principal_for(session, signer, now)
        replaced = principal is None and await session.get(ReplacedSubjectKey, signer) is not None
    if replaced:
        # Only the key's holder gets this far (the signature is checked): tell them what to do.
        raise AuthenticationError(
            "this key was replaced at a registration counter; sign in with the new key", code="replaced"
        )
    if principal is None:
        raise AuthenticationError("this address is not registered", code="unregistered")
    return principal


async def principal_for(session: AsyncSession, address: str, now: int) -> Principal | None:
    if await session.get(Admin, address) is not None:
        return Principal("admin", address, address)
    # Before departments and subjects: registering an auditor refuses an address in use, and
    # should one be reused later, its holder gets the role that sees no personal data.
    if await session.get(Auditor, address) is not None:
        return Principal("auditor", address, address)
    dept = await session.scalar(select(Department).where(Department.auth_address == address))
    if dept is not None:
        return Principal("department", dept.code, address)
    subject = await session.scalar(select(Subject).where(Subject.auth_address == address))
    if subject is not None:
        return Principal("subject", subject.id, address)
    # An agent or guardian logs in as itself and names, per request, whom it acts for.
    if await agents.subjects_of(session, address, now):
        return Principal("delegate", address, address)
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(key: bytes, principal: Principal, now: int, ttl: int = TOKEN_TTL) -> str:
    claims = {
        "role": principal.role,
        "sub": principal.id,
        "addr": principal.address,
        "exp": now + ttl,
        "jti": secrets.token_hex(16),
    }
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify_token(key: bytes, token: str, now: int) -> Principal:
    try:
        body, mac = token.split(".")
        # hmac.digest: the one-shot form of hmac.new(...).digest(), same bytes, no HMAC object.
        good = hmac.compare_digest(hmac.digest(key, body.encode(), "sha256"), _unb64(mac))
        claims = json.loads(_unb64(body)) if good else None
    except (ValueError, json.JSONDecodeError):
        raise AuthenticationError("malformed token") from None
    if claims is None:
        raise AuthenticationError("invalid token")
    if "jti" not in claims:
        raise AuthenticationError("token from before sessions could be ended; log in again")
    if claims["exp"] <= now:
        raise AuthenticationError("token expired")
    return Principal(claims["role"], claims["sub"], claims["addr"], claims["jti"], claims["exp"])


async def check_live(session: AsyncSession, principal: Principal) -> None:
    """Refuses a token that was logged out, or whose key is no longer the principal's.

    Primary-key lookups only. Replaced subject keys are never reused (``subjects.address_in_use``),
    so comparing the address is as good as comparing a key version.
    """
    if await session.get(RevokedToken, principal.jti) is not None:
        refuse_stale(principal, logged_out=True, current=None)
    current: str | None
    if principal.role == "subject":
        subject = await session.get(Subject, principal.id)
        current = subject.auth_address if subject else None
        # The identity map holds rows weakly: kept here, the route's own look-up of the
        # principal's row (``api.deps``) finds it without a second query.
        session.info["principal_row"] = subject
    elif principal.role == "department":
        dept = await session.get(Department, principal.id)
        current = dept.auth_address if dept else None
        session.info["principal_row"] = dept
    elif principal.role == "admin":
        current = principal.address if await session.get(Admin, principal.address) else None
    elif principal.role == "auditor":
        current = principal.address if await session.get(Auditor, principal.address) else None
    else:
        # A delegate's key is its own; each request checks its delegation (api.deps.get_acting).
        current = principal.address
    refuse_stale(principal, logged_out=False, current=current)


def refuse_stale(principal: Principal, *, logged_out: bool, current: str | None) -> None:
    """``check_live``'s verdict on what it looked up: ``logged_out``, the token's session ended;
    ``current``, the principal's key now (None: the principal is gone). A department's read
    looks these up with its grant (``vault.consent.read_facts``) and asks here."""
    if logged_out:
        raise AuthenticationError("this session was logged out; log in again")
    if current != principal.address:
        raise AuthenticationError("the key this session was issued to has been replaced; log in with the current key")


async def logout(session: AsyncSession, principal: Principal, now: int) -> None:
    """Ends the session at once, on every worker; the row goes when the token would have."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    session.add(RevokedToken(jti=principal.jti, expires_at=principal.expires_at))
