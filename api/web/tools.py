"""/docs (Swagger UI) and GraphiQL, from our own copies of their assets, and the static files.

Both consoles work on an intranet without internet: their scripts come from
`static/vendor/` (fetched integrity-checked by `ops/fetch-assets`). GraphiQL
sends the session's CSRF token, so a signed-in person can query with their
own account; bearer tokens work in both as before.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.web.auth import viewer_of
from api.web.templating import HERE, templates

STATIC = HERE / "static"
VENDOR = STATIC / "vendor"


def assets_present() -> bool:
    return (VENDOR / "MANIFEST-SHA256").exists()


def install_tools(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC), check_dir=False), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title="relief-ledger API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )


def graphiql_page(request: Request) -> HTMLResponse:
    """GraphiQL at GET /graphql in a browser (development), from our own assets."""
    viewer = viewer_of(request)
    return templates.TemplateResponse(request, "graphiql.html", {"csrf": viewer.csrf if viewer else ""})
