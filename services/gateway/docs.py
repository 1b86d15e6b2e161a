"""The interactive API docs page (`/api/v1/docs`, on unless EOFFICE_API_DOCS=false), with
Swagger UI's files served from the `swagger-ui-bundle` package rather than a CDN, and its start
script as a file of our own (no inline script: see services/gateway/headers.py)."""
from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

# The only files served, and their types: nothing else of the package's folder is reachable.
ASSETS = {
    "swagger-ui-bundle.js": (Path(swagger_ui_path) / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (Path(swagger_ui_path) / "swagger-ui.css", "text/css"),
    "favicon-32x32.png": (Path(swagger_ui_path) / "favicon-32x32.png", "image/png"),
    "docs.js": (Path(__file__).parent / "static" / "docs.js", "text/javascript"),
}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{base}/swagger-ui.css">
<link rel="icon" type="image/png" href="{base}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script src="{base}/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI, path: str) -> None:
    """Serves the docs page at `path` and its files under `path`/."""
    page = PAGE.format(title=escape(app.title), base=path, openapi=escape(app.openapi_url or ""))

    @app.get(path, include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(path + "/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(404, f"no {path}/{name}")
        file, media_type = ASSETS[name]
        # The same package version serves the same bytes: browsers may keep them for a day.
        return FileResponse(file, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
