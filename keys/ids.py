"""Identifier types shared across the package."""

from typing import NewType

# Names a key-encryption key (e.g. "subject:<pseudonym>"); stored in every wrapped data key.
KeyId = NewType("KeyId", str)
