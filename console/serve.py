"""`jobconsole serve`: the HTTP endpoints that other systems call.

    GET or POST /update-job-status/<job_id>/    Tethys' status callback

The callback makes jobconsole look at the job again (compat.tethys.job_status) and
answers {"success": true}, or 404 with {"success": false} for no such job. What the
caller sends is never read: a callback cannot set a status. aiohttp serves it: it is
asyncio's HTTP server, kept by aio-libs, and Textual's own tooling (textual-serve) is
built on it, so the web console (web.py, `serve --web`) serves both on one port. The
database work runs in a thread, off the event loop.
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from jobconsole.compat import tethys
from jobconsole.errors import Conflict, JobconsoleError

_NOT_FOUND = {"success": False}


CALLBACK_PREFIX = "/update-job-status/"


def make_app(dsn: str | None) -> web.Application:
    app = web.Application()
    add_callback(app, dsn)
    return app


def add_callback(app: web.Application, dsn: str | None) -> None:
    """The status callback's routes, on this application (web.py adds them to the web
    console's)."""
    async def update_job_status(request: web.Request) -> web.Response:
        text = request.match_info["job_id"]
        if not text.isdigit() or len(text) > 18:
            return web.json_response(_NOT_FOUND, status=404)
        try:
            status = await asyncio.to_thread(tethys.job_status, dsn, int(text))
        except JobconsoleError as exc:
            return web.json_response({"success": False, "error": str(exc)}, status=503)
        if status is None:
            return web.json_response(_NOT_FOUND, status=404)
        return web.json_response({"success": True})

    app.router.add_route("GET", CALLBACK_PREFIX + "{job_id}/", update_job_status)
    app.router.add_route("POST", CALLBACK_PREFIX + "{job_id}/", update_job_status)


def serve(dsn: str | None, host: str, port: int) -> None:
    try:
        web.run_app(make_app(dsn), host=host, port=port, print=None, handle_signals=True)
    except OSError as exc:
        raise Conflict(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
