"""The OpenAPI document: how to log in, who may call each operation, and the problem+json
errors each can return.

The errors are derived from each route once, here, rather than declared in every decorator:
what a route depends on (a bearer token, a role, the vault's database and chain), whether it
has path ids and a body decides which refusals it can give; ``EXTRA`` adds the few that only
its own body knows. A route added later gets its declarations without anyone remembering them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api import deps
from api.problems import PROBLEM
from api.schemas.common import Problem

DESCRIPTION = """\
One person one file, one enterprise one file (一人一档 / 一企一档): departments issue licences
and certificates into a citizen's or enterprise's vault, where they are stored encrypted, and
anchor their hashes on chain; citizens grant departments scoped, time-limited access by
signing it with their own key.

## Logging in

There are no passwords: a caller proves it holds an Ethereum key by signing a one-time
challenge, and gets a short-lived bearer token.

1. `POST /auth/challenge` with `{"address": "0x…"}` (the key's address, any case). The answer
   is `{"challenge": "<text>", "expires_in": 300}`. The challenge is four lines joined by `\\n`
   (no trailing newline):

   ```
   datavault login
   address: <the address, EIP-55 checksummed>
   nonce: <32 hex digits>
   expires: <Unix seconds>
   ```

   Outstanding challenges are bounded per address and overall: past the bound the answer is
   `429` with a `Retry-After` header.
2. Sign the challenge text exactly as returned, as UTF-8, with **EIP-191 `personal_sign`**
   (version `0x45`): the signed digest is
   `keccak256("\\x19Ethereum Signed Message:\\n" + <length in bytes> + text)`. Every wallet
   does this: ethers `wallet.signMessage(challenge)`, MetaMask `personal_sign`, eth-account
   `Account.sign_message(encode_defunct(text=challenge), key)`. The signature is 65 bytes
   `r ‖ s ‖ v` as `0x` + 130 hex digits (`v` 27 or 28).
3. `POST /auth/token` with `{"challenge": "<text as returned>", "signature": "0x…"}`. A
   challenge is good for one attempt, right or wrong, until it expires. The answer is
   `{"access_token": "…", "token_type": "bearer", "expires_in": 900, "role": "…",
   "subject": "…"}`: `role` is `admin`, `auditor`, `department`, `subject` (a citizen or
   enterprise; `subject` is then its pseudonymous id) or `delegate` (an agent or guardian).
4. Send `Authorization: Bearer <access_token>` with every other request (the **Authorize**
   button above does this here). The token lasts `expires_in` seconds; then log in again.
   A missing, expired or revoked token is answered `401` with `WWW-Authenticate: Bearer`.

Each operation says below who may call it.

## Errors

Every refusal is an RFC 9457 problem document (`Content-Type: application/problem+json`,
schema `Problem`): `status`, a `title`, and in `detail` the reason, in words meant for the
person at the keyboard; `field` names the offending input where there is one. A request
that cannot be served because the chain node or the database is down is answered `503`;
nothing was written.
"""

BEARER_DESCRIPTION = (
    "The `access_token` from `POST /auth/token` (see *Logging in* above), sent as `Authorization: Bearer <token>`."
)

# Who may call, by the role dependency a route has (the first found, outermost first).
WHO: dict[Callable[..., Any], str] = {
    deps.get_admin: "the governance admin",
    deps.get_auditor: "an auditor",
    deps.get_verifier: "a department with the verifier role",
    deps.get_registrar: "a registrar department",
    deps.get_department: "a department",
    deps.get_reader: "a department",  # get_department for a read under a grant
    deps.get_subject: "the citizen or enterprise itself (its own key)",
    deps.get_acting: "an agent or guardian with a live delegation from the subject (or the subject itself)",
    deps.get_delegate: "an agent or guardian",
}

REASONS: dict[int, str] = {
    400: "The body is not valid JSON.",
    401: "No bearer token, or one that is malformed, expired or revoked.",
    403: "The caller's role or scope does not allow this.",
    404: "No such object, or none that this caller may see.",
    409: "The request conflicts with the current state (or the chain refused it); nothing was written.",
    413: "The request body is too large.",
    422: "A parameter or the body is invalid; `detail` and `field` say which and why.",
    429: "Too many outstanding login challenges; retry after `Retry-After` seconds.",
    503: "The chain node or the database is unavailable; nothing was written. Retry shortly.",
}

HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
}

# Refusals only the route's body knows about: an id in the body looked up, a signature checked.
EXTRA: dict[tuple[str, str], set[int]] = {
    ("POST", "/auth/challenge"): {429},
    ("POST", "/auth/token"): {401},
    ("POST", "/records"): {404},  # the subject named in the body
    ("POST", "/me/presentations"): {404},  # the record named in the body
    ("POST", "/me/presentations/cose"): {404},  # the record named in the body
}


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for d in _walk(dependant):
        if d.call is not None:
            yield d.call


def _has_body(route: APIRoute) -> bool:
    return route.body_field is not None or "requestBody" in (route.openapi_extra or {})


# Dependencies that check a bearer token: the route may answer 401 and 403.
AUTHENTICATED = (deps.get_principal, deps.get_reader)


def error_statuses(route: APIRoute, method: str) -> set[int]:
    calls = set(_calls(route.dependant))
    found: set[int] = set()
    if any(d in calls for d in AUTHENTICATED):
        found |= {401, 403}
    if deps.get_ctx in calls:
        found.add(503)
    if any(d.path_params for d in _walk(route.dependant)):
        found |= {404, 422}
    if any(d.query_params for d in _walk(route.dependant)):
        found.add(422)
    if _has_body(route):
        found |= {400, 413, 422}
    if method != "GET":
        found.add(409)
    return found | EXTRA.get((method, route.path_format), set())


def who_may_call(route: APIRoute) -> str:
    calls = list(_calls(route.dependant))
    for call in calls:
        if call in WHO:
            return f"**Who may call:** {WHO[call]}, with a bearer token."
    if any(d in calls for d in AUTHENTICATED):
        return "**Who may call:** anyone logged in, with a bearer token."
    return "**Who may call:** anyone; no token needed."


def summary_and_description(route: APIRoute) -> tuple[str, str]:
    # From the endpoint's docstring, not route.description: documenting twice (a second app
    # in one process) must not repeat the who-may-call line.
    doc = (inspect.getdoc(route.endpoint) or "").split("\f")[0].strip()
    first = " ".join(doc.split("\n\n", 1)[0].split())
    summary = first.rstrip(".") or route.name.replace("_", " ").capitalize()
    description = "\n\n".join(p for p in (doc, who_may_call(route)) if p)
    return summary, description


def problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": REASONS[status],
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def documented(router: APIRouter) -> APIRouter:
    """Gives each of the router's routes its summary, description and error responses (before
    it is included: FastAPI reads them from the route when it builds the document)."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        summary, description = summary_and_description(route)
        route.summary = route.summary or summary
        route.description = description
        for method in route.methods or ():
            for status in sorted(error_statuses(route, method)):
                route.responses.setdefault(status, problem_response(status))
    return router


def _schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, "Problem": schema}


def install(app: FastAPI) -> None:
    """The document as FastAPI builds it from the documented routes, plus the Problem schema
    they refer to and the bearer scheme's description."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            components = doc.setdefault("components", {})
            components.setdefault("schemas", {}).update(_schemas())
            for scheme in components.get("securitySchemes", {}).values():
                if scheme.get("scheme") == "bearer":
                    scheme["description"] = BEARER_DESCRIPTION
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
