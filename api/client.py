"""A small HTTP client for the vault's API, used by the CLI and the demo.

It logs in the way any client would: ask for a challenge, sign it with a key from the
keystore, exchange it for a token.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import httpx

from keys import SigningKey


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', problem)}")


def api_file(datadir: Path) -> Path:
    return datadir / "api.json"


def discover(datadir: Path) -> str:
    path = api_file(datadir)
    if not path.exists():
        raise FileNotFoundError(f"no running vault found in {datadir}: start one with `datavault up`")
    url: str = json.loads(path.read_text())["url"]
    return url


class VaultClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.request(method, path, json=body, headers=headers)
        payload = response.json() if response.content else None
        if response.status_code >= 400:
            raise ApiError(response.status_code, payload if isinstance(payload, dict) else {"detail": payload})
        return payload

    def login(self, key: SigningKey) -> dict[str, Any]:
        challenge = self.request("POST", "/auth/challenge", {"address": key.address})["challenge"]
        token: dict[str, Any] = self.request(
            "POST", "/auth/token", {"challenge": challenge, "signature": key.sign_message(challenge)}
        )
        self.token = token["access_token"]
        return token
