"""The registration counter: enrol a citizen or an enterprise from the address their phone shows,
replace a lost key, appoint or remove a guardian. The page's script calls the JSON API
(``/subjects``, ``/subjects/find``, ``/subjects/{id}/key``, ``/subjects/{id}/guardians``) with the
session, so who may do what for whom is the API's rule; this module only serves the page and
reads an address from a picture of its QR code."""

from __future__ import annotations

from eth_utils.address import is_address, to_checksum_address
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.cookies import same_origin
from api.deps import Session
from api.web.counter_roles import department_page
from api.web.pages import render
from api.web.session import PagePrincipal
from vault.errors import VaultValueError
from vault.presentations import qr

router = APIRouter(include_in_schema=False)

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp")


@router.get("/registrar", response_class=HTMLResponse)
async def registrar(request: Request, principal: PagePrincipal, session: Session) -> HTMLResponse:
    roles = await department_page(session, principal, "/registrar")
    return render(request, "registrar.html", dept_roles=roles)


@router.post("/registrar/scan")
async def scan(request: Request, principal: PagePrincipal, session: Session) -> JSONResponse:
    """The address in a picture of the QR code the sign-in page shows (a photo, a screenshot, a
    camera frame). Only an address: this is no general QR reader."""
    same_origin(request)
    await department_page(session, principal, "/registrar")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in IMAGE_TYPES:
        raise VaultValueError(f"send a picture, with Content-Type one of {', '.join(IMAGE_TYPES)}", field="image")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > qr.MAX_IMAGE_BYTES:
            raise VaultValueError(f"the picture is over {qr.MAX_IMAGE_BYTES // 1_000_000} MB", field="image")
    text = qr.decode_image(bytes(data)).strip()
    if text.lower().startswith("ethereum:"):  # EIP-681, as phone wallets show an address
        text = text[len("ethereum:") :].split("@")[0].split("?")[0]
    if not is_address(text):
        raise VaultValueError("the QR code holds no key address; show the code on the sign-in page", field="image")
    return JSONResponse({"address": to_checksum_address(text)})
