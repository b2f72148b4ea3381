"""The counter's issuance page (签发证照), for a department with the issuer role: one credential
from a form, or a CSV file checked by the vault first (``POST /records/bulk`` with ``dry_run``,
every bad line named by its number), then issued in chunks with a progress bar and followed
until it is anchored (``POST /records/status``).

The page's script does all of it through the JSON API with the session cookie, so every rule
(the subject registered, the identifier's check digit, the window, the issuer's role) is the
API's; the page only turns a CSV row into the item ``POST /records`` takes. The CSV columns
are those of ``datavault issue-bulk`` (``api.cli.bulk``)."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import Session
from api.schemas.records import MAX_BULK
from api.web.counter_roles import department_page
from api.web.i18n import MESSAGES, translate
from api.web.pages import lang_of, render
from api.web.session import PagePrincipal
from vault.accounts import departments
from vault.credentials import records
from vault.record_types import RECORD_TYPES

router = APIRouter(include_in_schema=False)

# Rows a call: a bar that moves on a small file, few calls on a big one; far below the API's
# limit, and small enough that the vault names every problem of a chunk (at most two an item,
# a hundred an answer).
CHUNK = min(50, MAX_BULK)


def template_csv() -> str:
    """The example file offered for download: a BOM, so that Excel reads it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    person = ["citizen", "11010519491231002X"]
    writer.writerow(["kind", "identifier", "type", "title", "valid_from", "valid_until", "姓名", "准驾车型", "结论"])
    writer.writerow([*person, RECORD_TYPES[0], "机动车驾驶证", "", "2032-12-31", "张三", "C1", ""])
    writer.writerow([*person, RECORD_TYPES[1], "无犯罪记录证明", "2026-01-01", "2027-06-30", "张三", "", "无犯罪记录"])
    return "\ufeff" + out.getvalue()


@router.get("/counter/issue", response_class=HTMLResponse)
async def issue_page(request: Request, principal: PagePrincipal, session: Session) -> HTMLResponse:
    roles = await department_page(session, principal, "/counter/issue")
    records.check_issuer(await departments.get(session, principal.id))  # the vault's own rule
    lang = lang_of(request)
    words = {key: translate(lang, key) for key in MESSAGES["zh"] if key.startswith(("issue.", "status."))}
    return render(request, "counter_issue.html", types=RECORD_TYPES, chunk=CHUNK, words=words, dept_roles=roles)


@router.get("/counter/issue/template.csv")
async def issue_template() -> Response:
    return Response(
        template_csv().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="issue-template.csv"'},
    )
