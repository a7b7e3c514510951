"""Serve the HTTP endpoints other systems call (Tethys' status callback), and the console
in a browser."""
import sys

import click

from jobconsole import api
from jobconsole.errors import BadInput


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option("--web", is_flag=True, help="Serve the console in a browser too, read-only "
              "unless --allow-actions; a bind other than loopback prints a URL with a token, "
              "and refuses whoever comes without it.")
@click.option("--allow-actions", is_flag=True, help="With --web: abort, relaunch, delete, "
              "start and stop from the browser.")
@click.pass_obj
def serve(dsn, host, port, web, allow_actions):
    """Serve GET/POST /update-job-status/<job_id>/ (Tethys' status callback) and, with
    --web, the console in a browser, until Ctrl-C or SIGTERM."""
    if allow_actions and not web:
        raise BadInput("--allow-actions is for the web console: add --web")
    # here, not at the top: every other command would pay for aiohttp's import
    if web:
        from ..web import serve_web
        serve_web(api.check_database(dsn), host, port, allow_actions)
        return
    from .. import serve as server
    print(f"jobconsole: serving on http://{host}:{port}/", file=sys.stderr, flush=True)
    server.serve(dsn, host, port)


COMMANDS = [serve]
