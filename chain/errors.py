"""Errors of the chain layer. One root, ``ChainError``; subclasses carry data.

Nothing here knows HTTP: ``api/`` maps these to responses.
"""

from __future__ import annotations

from typing import Any


class ChainError(Exception):
    """Root of everything the chain layer raises."""


class CompileError(ChainError):
    """The Solidity compiler could not be run or reported errors."""


class NodeError(ChainError):
    """A node process could not be started, reached or stopped."""


class NodeUnavailable(NodeError):
    """The node did not answer a request: refused, timed out, or sent no JSON-RPC answer.

    The message names no host or port: it may reach an API client, which must not learn the
    internal address of the node (the cause, kept as ``__cause__``, has it for the logs).
    """


class ChainRevertError(ChainError):
    """A call or transaction reverted; ``error_name``/``error_args`` decode the custom error."""

    def __init__(self, error_name: str, error_args: tuple[Any, ...] = (), message: str = "") -> None:
        self.error_name = error_name
        self.error_args = error_args
        super().__init__(message or f"{error_name}{error_args!r}")


class DeploymentError(ChainError):
    """The recorded deployment does not match the chain (reset, other chain, other code)."""
