"""Registers the web interface on the app: pages, static assets, /docs, and the sign-in redirect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from api.web import admin, housing, safety, signin, tools
from api.web.audit import pages as audit_pages
from api.web.auth import SignInNeeded
from api.web.disasters import filing, review, statistics
from api.web.pages import redirect
from api.web.relief import cases, files, needs_filing, season


def install_web(app: FastAPI, settings: Any) -> None:
    sessions = app.state.runtime.accounts.sessions
    sessions.idle = timedelta(minutes=settings.session_idle_minutes)
    sessions.longest = timedelta(hours=settings.session_max_hours)
    tools.install_tools(app)
    for module in (signin, filing, review, statistics, cases, files, season, needs_filing, housing, safety, audit_pages,
                   admin):
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    async def on_sign_in_needed(request: Request, exc: SignInNeeded) -> Response:
        return redirect("/signin", next=exc.next_url)
