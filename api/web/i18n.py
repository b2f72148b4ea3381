"""The pages' words, in Chinese first and English. A page names a message by key; a key
missing from a language falls back to Chinese, and a test keeps both lists the same.

The messages themselves live in :mod:`api.web.words`, one module per kind of page."""

from __future__ import annotations

from typing import Literal

from api.web.words import PAGES

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


def _joined() -> dict[Lang, dict[str, str]]:
    joined: dict[Lang, dict[str, str]] = {"zh": {}, "en": {}}
    for page in PAGES:
        pairs: tuple[tuple[Lang, dict[str, str]], ...] = (("zh", page.ZH), ("en", page.EN))
        for lang, words in pairs:
            twice = joined[lang].keys() & words.keys()
            if twice:  # a key stated in two modules: one would silently win
                raise RuntimeError(f"messages stated twice: {sorted(twice)}")
            joined[lang].update(words)
    return joined


MESSAGES: dict[Lang, dict[str, str]] = _joined()


def translate(lang: Lang, key: str, default: str | None = None) -> str:
    """The message ``key`` in ``lang``, else in Chinese, else ``default`` (else the key)."""
    return MESSAGES[lang].get(key) or MESSAGES["zh"].get(key) or (key if default is None else default)
