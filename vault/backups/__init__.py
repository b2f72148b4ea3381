"""Backups of the data without its keys, and the keys' own backups, which erasures purge.

``copies``: a consistent copy of the embedded database holding no subject KEK.
``key_files``: the KEKs' backups in the data directory, written, purged and restored.
"""

from vault.backups import copies, key_files

__all__ = ["copies", "key_files"]
