"""The web client: one HTML page and its hand-written ES modules, CSS and icons, served from
`services/gateway/static/web/` with no build step (docs/web.md says why). The client uses only
`/api/v1`, like a mobile app.

- `/` and `/track` (the citizen's status page, no sign-in) answer the same page; the client
  picks the screen from the path and the fragment.
- `/web/<path>`: the page's assets, only files under that folder with a known type; browsers
  may keep them an hour (they are small; a new release is seen within the hour, or at once
  after a reload that revalidates).
- `/esign/return`: where an Aadhaar eSign provider posts its answer (form field `eSignResponse`)
  after the officer authenticated there. It answers the same page with the answer in a
  `<meta name="esign-response">`; the client, which holds the session, hands it to
  `POST /api/v1/signing/requests/{txn}/esign-response`. Nothing is kept here: an answer posted
  by anyone else reaches no session, and the server checks every answer it is handed."""
from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

ROOT = (Path(__file__).parent / "static" / "web").resolve()
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}
router = APIRouter(include_in_schema=False)


def _page() -> FileResponse:
    return FileResponse(ROOT / "index.html", media_type="text/html; charset=utf-8")


@router.get("/")
def home() -> FileResponse:
    return _page()


@router.get("/track")
def citizen_page() -> FileResponse:
    return _page()


ESIGN_RESPONSE_MAX = 200_000  # characters, as the signing service accepts (services/signing/esign.py)


@router.get("/esign/return")
def esign_return_again() -> FileResponse:
    return _page()  # a reload after the answer was handed in: the client carries on from its state


@router.post("/esign/return")
def esign_return(eSignResponse: str = Form(max_length=ESIGN_RESPONSE_MAX)) -> HTMLResponse:  # noqa: N803 (the ESP's name)
    page = (ROOT / "index.html").read_text(encoding="utf-8")
    meta = f'<meta name="esign-response" content="{html.escape(eSignResponse, quote=True)}">\n'
    return HTMLResponse(page.replace("</head>", meta + "</head>", 1))


@router.get("/web/{name:path}")
def asset(name: str) -> FileResponse:
    file = (ROOT / name).resolve()
    if not file.is_relative_to(ROOT) or file.suffix not in TYPES or not file.is_file():
        raise HTTPException(404, f"no /web/{name}")
    return FileResponse(file, media_type=TYPES[file.suffix] + ("; charset=utf-8" if file.suffix != ".svg" else ""),
                        headers={"Cache-Control": "public, max-age=3600"})
