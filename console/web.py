"""`jobconsole serve --web`: the console in a browser, beside the Tethys status
callback, on one port.

textual-serve runs one console process per browser tab and streams its screen over a
websocket; this module adds the callback's routes to its aiohttp application and
guards everything else:

- Read-only unless --allow-actions: the console runs with --read-only.
- A bind other than loopback needs a token, generated at start and printed once, in the
  URL to open (as Jupyter does). A request with `?token=` sets a cookie that the page's
  own requests, the websocket among them, carry; any request with neither is refused
  (403). aiohttp's access log, which would write the token with every URL, is off.
- The status callback needs no token: it only makes jobconsole look at a job again, and
  Tethys' callback URLs carry none.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import shlex
import socket
import sys
from typing import Any

from aiohttp import web
from textual_serve.server import Server

from jobconsole.errors import Conflict

from .serve import CALLBACK_PREFIX, add_callback

COOKIE = "jobconsole_token"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:      # a host name: it may resolve to anything
        return False


class WebConsole(Server):
    def __init__(self, dsn: str, host: str, port: int, allow_actions: bool = False,
                 token: str | None = None) -> None:
        command = f"{shlex.quote(sys.executable)} -m jobconsole.console"
        if not allow_actions:
            command += " --read-only"
        super().__init__(command, host=host, port=port, title="jobconsole")
        self.dsn = dsn
        self.token = token

    def initialize_logging(self) -> None:
        super().initialize_logging()
        logging.getLogger("aiohttp.access").disabled = True     # it would log the token

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        add_callback(app, self.dsn)
        app.middlewares.append(self.guard)
        return app

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.token is None or request.path.startswith(CALLBACK_PREFIX):
            return await handler(request)
        given = request.query.get("token")
        if given is not None and hmac.compare_digest(given, self.token):
            response = await handler(request)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
            return response
        if hmac.compare_digest(request.cookies.get(COOKIE, ""), self.token):
            return await handler(request)
        return web.Response(status=403, text="jobconsole: this server needs its token: open "
                            "the URL it printed when it started\n")

    async def handle_index(self, request: web.Request) -> Any:
        # the page's links and websocket go back where it was loaded from, whatever
        # address the server was bound to (0.0.0.0 is nowhere a browser can go)
        self.public_url = str(request.url.origin())
        return await super().handle_index(request)

    async def on_startup(self, app: web.Application) -> None:
        host = socket.gethostname() if self.host in ("0.0.0.0", "::") else self.host
        where = f"http://{host}:{self.port}/"
        if self.token:
            where += f"?token={self.token}"
        actions = "actions allowed" if "--read-only" not in self.command else "read-only"
        print(f"jobconsole: the console in a browser ({actions}) at {where} ; the status "
              f"callback at {CALLBACK_PREFIX}<job_id>/", file=sys.stderr, flush=True)


def serve_web(dsn: str, host: str, port: int, allow_actions: bool) -> None:
    # the console processes it starts find the database as this one did
    os.environ["JOBCONSOLE_DSN"] = dsn
    token = None if is_loopback(host) else secrets.token_urlsafe(24)
    try:
        WebConsole(dsn, host, port, allow_actions, token).serve()
    except OSError as exc:
        raise Conflict(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
