"""Request dependencies: the vault context, a transaction per request, the clock, and who
is calling. Tests replace any of them with ``app.dependency_overrides``.

Every dependency is ``async def`` though none of them blocks: FastAPI runs a plain ``def``
dependency in its thread pool, a hand-off to another thread and back on every request (about
a tenth of a department's read, profiled)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api import cookies
from vault import clock
from vault.accounts import agents, departments
from vault.accounts.auth import Principal, check_live, refuse_stale, verify_token
from vault.accounts.departments import Role
from vault.consent import read_facts
from vault.context import VaultContext
from vault.db.models import Department
from vault.errors import AuthenticationError, PermissionDeniedError
from vault.events import request_context
from vault.record_bits import ALL_BITS


async def get_ctx(request: Request) -> VaultContext:
    ctx: VaultContext = request.app.state.vault.ctx
    return ctx


Ctx = Annotated[VaultContext, Depends(get_ctx)]


async def get_session(ctx: Ctx) -> AsyncIterator[AsyncSession]:
    # Commit when the route returns, before the response is sent: a client never sees
    # success for something that was not written.
    async with ctx.sessions.begin() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_now() -> int:
    return clock.now()


Now = Annotated[int, Depends(get_now)]


async def get_public_url(ctx: Ctx, request: Request) -> str:
    """The base URL of issuers' identifiers and status lists: the configured public URL, else
    the one this request came in on."""
    configured = ctx.public_url
    return configured if configured else str(request.base_url).rstrip("/")


PublicUrl = Annotated[str, Depends(get_public_url)]

_bearer = HTTPBearer(auto_error=False, description="token from POST /auth/token")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token_principal(ctx: VaultContext, now: int, request: Request, credentials: Credentials) -> Principal:
    """Who the token says is calling (signature and expiry checked; the database not asked)."""
    if credentials is not None:
        token = credentials.credentials
    elif cookies.SESSION in request.cookies:
        # The pages' scripts call the API with the session cookie: only from the pages.
        cookies.same_origin(request)
        token = request.cookies[cookies.SESSION]
    else:
        raise AuthenticationError("missing bearer token")
    return verify_token(ctx.token_key, token, now)


def _stamp(principal: Principal) -> None:
    # Every event this request emits names the individual who made it.
    current = request_context.get()
    if current is not None:
        request_context.set(replace(current, official=principal.address))


async def get_principal(ctx: Ctx, now: Now, session: Session, request: Request, credentials: Credentials) -> Principal:
    principal = _token_principal(ctx, now, request, credentials)
    await check_live(session, principal)
    _stamp(principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class Reader:
    """A department about to read under a grant: its code, its official's login address, and
    the grant and the subject's keys, looked up with the token's checks in one statement."""

    department: str
    official: str
    facts: read_facts.ReadFacts


async def get_reader(
    grant_id: str, ctx: Ctx, now: Now, session: Session, request: Request, credentials: Credentials
) -> Reader:
    """``get_department`` for ``POST /grants/{grant_id}/read``, the vault's hottest route: the
    same checks and refusals in the same order, from one statement instead of two ORM loads
    (and the route's own loads of the grant and the keys). Only the token's and the
    department's refusals are decided here; the grant's are the route's, after the body."""
    principal = _token_principal(ctx, now, request, credentials)
    if principal.role != "department":
        await check_live(session, principal)
        _stamp(principal)
        raise PermissionDeniedError("this needs a department")
    facts = await read_facts.load(session, jti=principal.jti, department=principal.id, grant_id=grant_id.lower())
    if facts is None:
        await check_live(session, principal)  # no such department: refused there, as on any route
        raise AssertionError("check_live accepted a department that does not exist")
    refuse_stale(principal, logged_out=facts.logged_out, current=facts.auth_address)
    _stamp(principal)
    if not facts.active:
        raise PermissionDeniedError(f"department {principal.id!r} is deactivated")
    return Reader(principal.id, principal.address, facts)


CurrentReader = Annotated[Reader, Depends(get_reader)]


async def get_admin(principal: CurrentPrincipal) -> Principal:
    if principal.role != "admin":
        raise PermissionDeniedError("this needs the governance admin")
    return principal


CurrentAdmin = Annotated[Principal, Depends(get_admin)]


async def get_auditor(principal: CurrentPrincipal) -> Principal:
    if principal.role != "auditor":
        raise PermissionDeniedError("this needs an auditor")
    return principal


CurrentAuditor = Annotated[Principal, Depends(get_auditor)]


async def get_department(principal: CurrentPrincipal, session: Session) -> Department:
    if principal.role != "department":
        raise PermissionDeniedError("this needs a department")
    row = await departments.get(session, principal.id)
    if not row.active:
        raise PermissionDeniedError(f"department {row.code!r} is deactivated")
    return row


CurrentDepartment = Annotated[Department, Depends(get_department)]


async def get_verifier(dept: CurrentDepartment) -> Department:
    if not dept.roles & Role.VERIFIER:
        raise PermissionDeniedError(f"department {dept.code!r} does not verify credentials (no verifier role)")
    return dept


CurrentVerifier = Annotated[Department, Depends(get_verifier)]


async def get_subject(principal: CurrentPrincipal) -> Principal:
    if principal.role != "subject":
        raise PermissionDeniedError("this needs a citizen or enterprise")
    return principal


CurrentSubject = Annotated[Principal, Depends(get_subject)]


async def get_registrar(principal: CurrentPrincipal, session: Session) -> Department:
    """Subjects are registered by the identity authority: a department with the registrar
    role, which also binds the subject's key on chain (the consent registry demands it)."""
    if principal.role == "department":
        row = await departments.get(session, principal.id)
        if row.active and row.roles & departments.Role.REGISTRAR:
            return row
    raise PermissionDeniedError("this needs a registrar department (subjects, their keys, guardians, erasures)")


CurrentRegistrar = Annotated[Department, Depends(get_registrar)]


@dataclass(frozen=True)
class Acting:
    """Who acts for ``subject_id`` in this request: the subject itself or a live delegate,
    which sees and does only what concerns the record types of its delegation."""

    subject_id: str
    address: str
    role: str  # subject | delegate
    record_types: int = ALL_BITS  # vault.record_bits: one bit a record type

    def covers(self, bits: int) -> bool:
        """Whether something about the record types ``bits`` is this actor's business: all of
        them within the delegation (nothing typeless, for a delegate)."""
        if self.role == "subject":
            return True
        return bits != 0 and not bits & ~self.record_types


async def get_acting(subject_id: str, principal: CurrentPrincipal, session: Session, now: Now) -> Acting:
    if principal.role == "subject" and principal.id == subject_id.lower():
        return Acting(principal.id, principal.address, "subject")
    if principal.role == "delegate":
        row = await agents.active_for(session, subject_id.lower(), principal.address, now)
        if row is not None:
            return Acting(subject_id.lower(), principal.address, "delegate", row.record_types)
    raise PermissionDeniedError("you do not act for this subject (no live delegation)")


ActingFor = Annotated[Acting, Depends(get_acting)]


async def get_delegate(principal: CurrentPrincipal) -> Principal:
    if principal.role != "delegate":
        raise PermissionDeniedError("this needs an agent or a guardian")
    return principal


CurrentDelegate = Annotated[Principal, Depends(get_delegate)]
