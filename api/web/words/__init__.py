"""The pages' words, one module per kind of page, each with its Chinese (``ZH``) and English
(``EN``) messages; :mod:`api.web.i18n` joins them."""

from api.web.words import auditor, citizen, common, corrections, counter, grants, issuing, signin

PAGES = (common, signin, citizen, grants, counter, auditor, corrections, issuing)

__all__ = ["PAGES"]
