"""Data subjects: citizens (个人) and enterprises (企业).

The ID number or credit code is validated, turned into a keyed hash and forgotten: only the
pseudonym is stored, and the display name is sealed under the subject's own key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from eth_utils.address import is_address, to_checksum_address
from eth_utils.hexadecimal import encode_hex
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import Sealed, open_sealed, pseudonym, seal
from vault import keyring, outbox
from vault.accounts import identifiers
from vault.context import AUDIT_LOG_KEY, VaultContext
from vault.db.grants import DelegationRow
from vault.db.models import Admin, Auditor, Department, ReplacedSubjectKey, Subject
from vault.errors import ConflictError, NotFoundError, PermissionDeniedError, VaultValueError
from vault.events import VaultEvent
from vault.ids import Address, SubjectId

SUBJECT_KINDS = ("citizen", "enterprise")


@dataclass(frozen=True)
class SubjectView:
    id: SubjectId
    kind: str
    name: str | None  # None once the file is erased (vault.erasure)
    address: Address
    created_at: int
    erased_at: int | None = None


def subject_id_for(ctx: VaultContext, kind: str, identifier: str) -> SubjectId:
    value = identifiers.validate(kind, identifier)
    return SubjectId(encode_hex(pseudonym(ctx.pseudonym_key, kind, value)))


def check_address(address: str, field: str = "address") -> Address:
    if not isinstance(address, str) or not is_address(address):
        raise VaultValueError("not an Ethereum address (0x + 40 hex digits)", field=field)
    return Address(to_checksum_address(address))


async def address_in_use(session: AsyncSession, address: str) -> bool:
    # One address, one role: a key that logs in must mean exactly one principal.
    taken = (
        (Subject, Subject.auth_address),
        (Department, Department.auth_address),
        (Admin, Admin.address),
        (Auditor, Auditor.address),
        (ReplacedSubjectKey, ReplacedSubjectKey.address),  # retired for good
        # An agent's or guardian's key: registered as anything else, it would log in as that
        # and its holder would lose the role it has.
        (DelegationRow, DelegationRow.agent_address),
    )
    for model, column in taken:
        if await session.scalar(select(model).where(column == address)) is not None:
            return True
    return False


async def platform_key(ctx: VaultContext, session: AsyncSession, address: str) -> str | None:
    """What ``address`` is if it is one of the platform's keys, whose holder is the vault or an
    institution: such a key as a subject's or an agent's would let them sign in that name."""
    wanted = address.lower()
    if wanted == ctx.chain.operator.address.lower():
        return "the operator's key"
    if ctx.keystore.exists(AUDIT_LOG_KEY) and wanted == ctx.keystore.address_of(AUDIT_LOG_KEY).lower():
        return "the access log's signing key"
    dept = await session.scalar(
        select(Department).where(
            or_(
                Department.chain_address == address,
                Department.auth_address == address,
            )
        )
    )
    if dept is not None:
        return f"department {dept.code!r}'s {'chain' if dept.chain_address == address else 'login'} key"
    if await session.get(Admin, address) is not None:
        return "the governance admin's key"
    if await session.get(Auditor, address) is not None:
        return "an auditor's key"
    return None


async def refuse_platform_key(ctx: VaultContext, session: AsyncSession, address: str, field: str) -> None:
    what = await platform_key(ctx, session, address)
    if what is not None:
        raise VaultValueError(
            f"{address} is {what}; a subject's or an agent's key must be one that only the person holds",
            field=field,
        )


async def refuse_subject_key(session: AsyncSession, address: str, field: str) -> None:
    """A citizen's or enterprise's own key (or one it retired) always logs in as that subject,
    so as an agent's or guardian's key it could never be used as one."""
    for column in (Subject.auth_address, ReplacedSubjectKey.address):
        if await session.scalar(select(column).where(column == address)) is not None:
            raise VaultValueError(
                f"{address} is a citizen's or enterprise's own login key; an agent or guardian "
                "signs in with a key of its own",
                field=field,
            )


def kinds_of(registrar: Department) -> list[str]:
    return [k for k in registrar.subject_kinds.split(",") if k]


def check_kind(registrar: Department, kind: str) -> None:
    if kind not in kinds_of(registrar):
        raise PermissionDeniedError(
            f"department {registrar.code!r} registers {' and '.join(kinds_of(registrar)) or 'no'} subjects, not {kind}s"
        )


def check_answerable(registrar: Department, subject: Subject) -> None:
    """Only the registrar that registered ``subject`` (or that the admin assigned it to)
    replaces its key or appoints its guardians: no department takes over another's subjects."""
    check_kind(registrar, subject.kind)
    if subject.registered_by != registrar.code:
        raise PermissionDeniedError(
            f"this subject is in the care of {'another registrar' if subject.registered_by else 'no registrar'}; "
            "only that registrar, or one the governance admin assigns, may act for its identity"
        )


async def register(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    kind: str,
    identifier: str,
    name: str,
    address: str,
    registrar: Department,
    now: int,
) -> SubjectView:
    """Registers a subject and queues the binding of its key on chain, sent by ``registrar``
    (the identity authority that checked who the person is)."""
    if kind not in SUBJECT_KINDS:
        raise VaultValueError("subject kind must be 'citizen' or 'enterprise'", field="kind")
    if not name.strip() or len(name) > 200:
        raise VaultValueError("name must be 1-200 characters", field="name")
    check_kind(registrar, kind)
    sid = subject_id_for(ctx, kind, identifier)
    auth = check_address(address)
    await refuse_platform_key(ctx, session, auth, "address")
    if await session.get(Subject, sid) is not None:
        raise ConflictError("this subject is already registered")
    if await address_in_use(session, auth):
        raise ConflictError("this address is already registered")
    kek = await keyring.create_first_key(session, ctx.master, sid, now, ctx.suite)
    profile = seal(json.dumps({"name": name}, ensure_ascii=False).encode(), keyring.profile_aad(sid), kek)
    session.add(
        Subject(
            id=sid,
            kind=kind,
            auth_address=auth,
            profile_key=profile.wrapped_key,
            profile=profile.body,
            created_at=now,
            registered_by=registrar.code,
        )
    )
    outbox.enqueue(session, "bind_subject", registrar.chain_key_name, {"subject": sid, "key": auth}, now)
    await session.flush()
    await ctx.events.emit(
        session,
        VaultEvent(
            "subject.registered",
            "ok",
            now,
            "registrar",
            registrar.code,
            subject_id=sid,
            reason=kind,
        ),
    )
    return SubjectView(id=sid, kind=kind, name=name, address=auth, created_at=now)


async def get(ctx: VaultContext, session: AsyncSession, subject_id: str) -> SubjectView:
    row = await session.get(Subject, subject_id)
    if row is None:
        raise NotFoundError("subject", subject_id)
    name = None
    if row.erased_at is None:
        lookup = await keyring.lookup_for(session, ctx.master, row.id)
        sealed = Sealed(row.profile_key, row.profile)
        name = json.loads(open_sealed(sealed, keyring.profile_aad(row.id), lookup))["name"]
    return SubjectView(
        id=SubjectId(row.id),
        kind=row.kind,
        name=name,
        address=Address(row.auth_address),
        created_at=row.created_at,
        erased_at=row.erased_at,
    )


async def find(
    ctx: VaultContext, session: AsyncSession, *, registrar: Department, kind: str, identifier: str
) -> SubjectView:
    """The subject in ``registrar``'s care whose ID number or credit code the person shows at the
    counter (hashed as at registration): where replacing a lost key or appointing a guardian
    starts. Another registrar's subject is refused, as acting for it would be."""
    if kind not in SUBJECT_KINDS:
        raise VaultValueError("subject kind must be 'citizen' or 'enterprise'", field="kind")
    check_kind(registrar, kind)
    row = await session.get(Subject, subject_id_for(ctx, kind, identifier))
    if row is None:
        raise NotFoundError("subject", "no one is registered with this number")
    check_answerable(registrar, row)
    return await get(ctx, session, row.id)


async def resolve(
    ctx: VaultContext, session: AsyncSession, *, subject_id: str | None, kind: str | None, identifier: str | None
) -> Subject:
    """Find a subject by pseudonym, or by kind + raw identifier (which is hashed, not kept)."""
    if subject_id is None:
        if kind is None or identifier is None:
            raise VaultValueError("name the subject by subject_id, or by kind and identifier", field="subject")
        subject_id = subject_id_for(ctx, kind, identifier)
    row = await session.get(Subject, subject_id)
    if row is None:
        raise NotFoundError("subject", subject_id)
    return row


async def rotate_key(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    registrar: Department,
    subject_id: str,
    address: str,
    now: int,
) -> SubjectView:
    """Replaces the key a subject logs in and signs with (the identity authority re-checked the
    person): the old key stops working at once; grants it signed stay as they are."""
    row = await session.get(Subject, subject_id)
    if row is None:
        raise NotFoundError("subject", subject_id)
    check_answerable(registrar, row)
    new = check_address(address)
    await refuse_platform_key(ctx, session, new, "address")
    if new == row.auth_address:
        raise ConflictError("this is already the subject's key")
    if await address_in_use(session, new):
        raise ConflictError("this address is already registered")
    # Presentations its old key signs are refused from now on, offline too (status snapshots).
    session.add(ReplacedSubjectKey(address=row.auth_address, subject_id=row.id, replaced_at=now))
    row.auth_address = new
    outbox.enqueue(session, "rotate_subject_key", registrar.chain_key_name, {"subject": subject_id, "key": new}, now)
    await session.flush()
    await ctx.events.emit(
        session,
        VaultEvent(
            action="subject.key_rotated",
            outcome="ok",
            at=now,
            actor_role="registrar",
            actor=registrar.code,
            subject_id=subject_id,
        ),
    )
    return await get(ctx, session, subject_id)


async def rotate_encryption_key(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    actor_role: str,
    actor: str,
    now: int,
) -> int:
    """A new key-encryption key for the subject; every data key is rewrapped under it."""
    version = await keyring.rotate(session, ctx.master, subject_id, now)
    await ctx.events.emit(
        session,
        VaultEvent(
            "subject.kek_rotated",
            "ok",
            now,
            actor_role,
            actor,
            subject_id=subject_id,
            reason=f"version {version}",
        ),
    )
    return version
