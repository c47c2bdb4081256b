"""``vcm-sim demo``: serve the instructor's page until interrupted.

The page is a Solara app (:mod:`vcm_sim.app.page`) served by uvicorn. It works offline: the
``solara-assets`` package installs Solara's front-end files (Vue, Vuetify, the widget
manager, fonts) under ``<sys.prefix>/share/solara/cdn``, which is where Solara's asset proxy
looks first, so with the proxy on (``SOLARA_ASSETS_PROXY=true``) the browser gets them from
``/_solara/cdn/...`` on this server instead of from the public CDN.

Importing this module does not import Solara; only running the command does.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import socket
import sys
import threading
import time
import warnings
from pathlib import Path

from vcm_sim.app.allocator import limit_malloc_arenas, trim_periodically
from vcm_sim.errors import EXIT_OK, UserError

APP = "vcm_sim.app.page:Page"
DEFAULT_PORT = 8765
DEFAULT_LINGER_S = 60.0
"""Seconds a page's session outlives a lost connection (a tab closed by its user ends its
session at once: the browser says so)."""
SOLARA_ENV = {
    "SOLARA_APP": APP,
    "SOLARA_ASSETS_PROXY": "true",  # serve front-end files from this server (offline)
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",  # no calls home from a classroom
    "SOLARA_THEME_SHOW_BANNER": "false",  # the "runs on Solara" badge covers a chart
}
"""Environment Solara reads when it is imported (its settings are pydantic BaseSettings)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo", help="serve the instructor's page in the browser",
        description="Serve the interactive page (Mesa SolaraViz) and print its address; "
                    "stop with Ctrl+C.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; "
                             "0.0.0.0 to let a classroom connect)")
    parser.add_argument("--linger", type=float, default=DEFAULT_LINGER_S, metavar="SECONDS",
                        help=f"seconds a page's run outlives a lost connection (default "
                             f"{DEFAULT_LINGER_S:g}): a page that reconnects in time keeps its "
                             "run, one that does not stops then; a tab closed by its user "
                             "stops its run at once")
    parser.set_defaults(handler=run_demo)


def assets_folder() -> Path:
    """Where ``solara-assets`` puts the front-end files Solara's proxy serves."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def run_demo(args: argparse.Namespace) -> int:
    """Serve the page on ``args.host:args.port`` until interrupted; returns the exit code.

    Raises :class:`UserError` for a port or linger time out of range, an address this
    machine cannot listen on, or missing extras, before anything is imported or served."""
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be in 0-65535, got {args.port}")
    linger = getattr(args, "linger", DEFAULT_LINGER_S)
    if not 0 < linger <= 86_400:
        raise UserError(f"--linger must be in (0, 86400] seconds, got {linger:g}")
    check_address(args.host, args.port)
    for key, value in SOLARA_ENV.items():  # before anything imports solara
        os.environ.setdefault(key, value)
    # Solara closes a page's kernel (and the page stops its run) when the browser reports the
    # tab closed, or this long after its connection is lost; its default for the second, a
    # day, kept pages whose close went unreported playing.
    os.environ["SOLARA_KERNEL_CULL_TIMEOUT"] = f"{linger:g}s"
    problem = _missing_dependency()
    if problem:
        raise UserError(f"{problem}; install the page's extras with pip install 'vcm_sim[demo]'")
    if not (assets_folder() / "@widgetti").is_dir():
        print(f"vcm-sim demo: warning: no Solara front-end files in {assets_folder()}; "
              "the page needs internet access unless solara-assets is installed",
              file=sys.stderr)
    return _serve(args.host, args.port)


def check_address(host: str, port: int) -> None:
    """Raise :class:`UserError` unless a server can listen on ``host:port`` (port 0: any)."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise UserError(f"--host {host!r} is not an address or a known host name "
                        f"({err.strerror})") from None
    try:
        with socket.create_server((host, port)):
            return
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise UserError(f"port {port} on {host} is in use; choose another with --port "
                            "(0 picks a free one)") from None
        raise UserError(f"cannot listen on {host} port {port}: "
                        f"{os.strerror(err.errno) if err.errno else err}") from None


def _missing_dependency() -> str | None:
    for module in ("solara", "solara_assets", "uvicorn", "altair"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


def _serve(host: str, port: int) -> int:
    limit_malloc_arenas()  # before the server starts its threads
    trim_periodically()
    import uvicorn  # after SOLARA_ENV is set: solara reads it at import

    import solara.server.settings as solara_settings

    solara_settings.main.mode = "production"  # no code reloader, no dev checks
    # Solara warns, in 11 lines for every tab, that a page served over plain http from a host
    # other than localhost cannot set a cookie for embedding in an iframe; the page is not
    # embedded, and its session cookie (samesite=lax) works.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        print(f"vcm_sim page: http://{shown}:{bound}/  (Ctrl+C to stop)", flush=True)

    threading.Thread(target=announce, daemon=True, name="announce-address").start()
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot bind, after logging why
        raise UserError(f"cannot serve on {host} port {port} (see the message above)") from None
    if not server.started:
        raise RuntimeError("the page server stopped before it started; see the log above")
    return EXIT_OK
