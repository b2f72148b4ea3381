"""A small HTTP client for the vault's API, used by the CLI and the demo.

It logs in the way any client would: ask for a challenge, sign it with a key from the
keystore, exchange it for a token.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode

import httpx

from vault.config import Settings

if TYPE_CHECKING:  # at run time `keys` costs half a second of imports that `verify` never needs
    from keys import SigningKey


class ClientError(Exception):
    """The vault could not be asked: none is running, it is unreachable, or it answered nonsense."""


class ApiError(ClientError):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', problem)}")


# The default of ``Settings.datadir``, as typed (relative): hints say no --datadir for it.
DEFAULT_DATADIR: Path = Settings.model_fields["datadir"].default


def api_file(datadir: Path) -> Path:
    return datadir / "api.json"


def command(datadir: Path, rest: str) -> str:
    """How to type ``datavault <rest>`` for this data directory, for hints in messages."""
    if datadir.absolute() == DEFAULT_DATADIR.absolute():
        return f"datavault {rest}"
    return f"datavault --datadir {shlex.quote(str(datadir))} {rest}"


def elsewhere(datadir: Path, *, api: bool = True) -> str:
    """How to point a command at a vault that runs from another data directory.

    The default data directory is relative (``.datavault`` in the working directory), so a
    second terminal in another directory looks in the wrong place while the vault is up.
    """
    via_api = ", or at its API with --api URL" if api else ""
    return (
        "if the vault runs from another data directory, name it with --datadir DIR (before the "
        f"command) or DATAVAULT_DATADIR=DIR{via_api}; to start one here: `{command(datadir, 'up')}`"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def discover(datadir: Path) -> str:
    """The URL of the vault running from ``datadir``, from the file ``datavault up`` writes."""
    path = api_file(datadir)
    start = f"start one with `{command(datadir, 'up')}`"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        where = f"no vault is running from {datadir.absolute()} (no {path.name} there)"
        raise ClientError(f"{where}; {elsewhere(datadir)}") from None
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read {path}: {exc}") from None
    url, pid = (info.get("url"), info.get("pid")) if isinstance(info, dict) else (None, None)
    if not isinstance(url, str):
        raise ClientError(f"{path} names no URL; {start}")
    # After a kill -9 the file outlives the server; without this check the user would get a
    # bare "connection refused" for a vault that is simply not running.
    if isinstance(pid, int) and not _alive(pid):
        raise ClientError(
            f"no vault is running from {datadir.absolute()} (the last one, pid {pid}, did not stop cleanly); {start}"
        )
    return url


class VaultClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url
        self.timeout = timeout
        try:
            self.http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        except httpx.InvalidURL as exc:
            raise ClientError(f"not a usable API URL {base_url!r}: {exc}") from None
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        return self._send(method, path, json=body)

    def every(self, path: str, items: str) -> list[Any]:
        """Every item of a paged list (``{items: [...], total, next}``), following ``next`` to the end;
        ``path`` may carry a query of its own (``/corrections?status=requested``)."""
        from vault.pages import MAX_LIMIT  # here: `verify` never needs SQLAlchemy's imports

        found: list[Any] = []
        after: str | None = None
        while True:
            query = urlencode({"limit": MAX_LIMIT, **({"after": after} if after else {})})
            page = self.request("GET", f"{path}{'&' if '?' in path else '?'}{query}")
            if not isinstance(page, dict) or not isinstance(page.get(items), list):
                raise ClientError(
                    f"{self.base_url} did not answer GET {path} with a page of {items}; is it a data vault?"
                )
            found.extend(page[items])
            after = page.get("next")
            if not after:
                return found

    def request_bytes(self, method: str, path: str, content: bytes, content_type: str) -> Any:
        """A raw body (an image), answered with JSON."""
        return self._send(method, path, content=content, headers={"Content-Type": content_type})

    def request_text(self, method: str, path: str, media_type: str, body: Any = None) -> str:
        """An answer that is not JSON (a signed credential, ``application/vc+jwt``), as text;
        ``body``, if any, is sent as JSON."""
        sent: dict[str, Any] = {} if body is None else {"json": body}
        response = self._exchange(method, path, headers={"Accept": media_type}, **sent)
        if response.status_code >= 400:
            self._json(method, path, response)  # raises the API's problem
        answered = response.headers.get("content-type", "").split(";")[0].strip()
        if answered != media_type:
            raise ClientError(
                f"{self.base_url} answered {method} {path} with {answered or 'nothing'}, not {media_type}"
            )
        return response.text

    def _exchange(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **body: Any
    ) -> httpx.Response:
        headers = {**(headers or {}), **({"Authorization": f"Bearer {self.token}"} if self.token else {})}
        try:
            return self.http.request(method, path, headers=headers, **body)
        except httpx.TimeoutException:
            raise ClientError(f"the vault at {self.base_url} did not answer within {self.timeout:.0f}s") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ClientError(f"cannot reach the vault at {self.base_url}: {exc}") from None

    def _send(self, method: str, path: str, *, headers: dict[str, str] | None = None, **body: Any) -> Any:
        return self._json(method, path, self._exchange(method, path, headers=headers, **body))

    def _json(self, method: str, path: str, response: httpx.Response) -> Any:
        try:
            payload = response.json() if response.content else None
        except ValueError:
            if response.status_code < 400:
                raise ClientError(
                    f"{self.base_url} answered {method} {path} with something other than JSON; is it a data vault?"
                ) from None
            payload = {"title": response.reason_phrase, "detail": response.text.strip()[:200] or response.reason_phrase}
        if response.status_code >= 400:
            raise ApiError(response.status_code, payload if isinstance(payload, dict) else {"detail": payload})
        return payload

    def login(self, key: SigningKey) -> dict[str, Any]:
        challenge = self.request("POST", "/auth/challenge", {"address": key.address})
        if not isinstance(challenge, dict) or not isinstance(challenge.get("challenge"), str):
            raise ClientError(f"{self.base_url} did not hand out a login challenge; is it a data vault?")
        text: str = challenge["challenge"]
        token = self.request("POST", "/auth/token", {"challenge": text, "signature": key.sign_message(text)})
        if not isinstance(token, dict) or not isinstance(token.get("access_token"), str):
            raise ClientError(f"{self.base_url} did not hand out a token; is it a data vault?")
        self.token = token["access_token"]
        return token
