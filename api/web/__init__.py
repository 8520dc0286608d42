"""The web interface for people (Chinese, server-rendered, usable offline on an intranet).

Served by the same process at `/`: Jinja2 templates (`templates/`) with
htmx as progressive enhancement and a small script of our own for offline
drafts (`static/`); the third-party scripts (htmx, Chart.js, Swagger UI,
GraphiQL and React) are fetched integrity-checked by `ops/fetch-assets`
into `static/vendor/` and served from here — never from a CDN.

- `mount`: registers everything on the FastAPI app;
- `auth`: sign-in sessions (cookie) and CSRF, for pages and for cookie calls to /v1 and /graphql;
- `templating`, `forms`, `messages`: rendering, form parsing, Chinese field messages;
- `signin`, `tools`: sign-in / out / password pages; /docs and GraphiQL from our own assets;
- `disasters/`, `relief/`, `audit/`: the pages of each user group, calling the same use cases and reading
  the same projection views as the API.
"""
