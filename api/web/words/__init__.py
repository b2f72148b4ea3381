"""The pages' words, one module per kind of page, each with its Chinese (``ZH``) and English
(``EN``) messages; :mod:`api.web.i18n` joins them."""

from api.web.words import (
    acting,
    agents,
    auditor,
    citizen,
    common,
    corrections,
    counter,
    erasure,
    grants,
    issuing,
    registrar,
    signin,
)

PAGES = (common, signin, citizen, grants, agents, acting, counter, auditor, corrections, issuing, registrar, erasure)

__all__ = ["PAGES"]
