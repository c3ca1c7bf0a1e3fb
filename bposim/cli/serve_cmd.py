"""``bposim serve``: the what-if page in a local web server (needs the ``serve`` extra)."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from bposim.cli.common import fail, user_errors

INSTALL_HINT = ("bposim serve needs the optional web packages; install them with: "
                "pip install 'bposim[serve]'")


@click.command("serve")
@click.argument("scenario_dir", required=False, default=".",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address exposes the page "
                   "(and the scenarios) to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes per run (1: replications run in the server's thread).")
@user_errors
def serve_command(scenario_dir, host, port, workers):
    """Serve the what-if page for the scenarios in SCENARIO_DIR (default: the current
    folder): move volume, handle time, headcount, escalation, shrinkage and patience and
    compare the simulated variant with the base. Stop with Ctrl-C."""
    try:
        import uvicorn

        from bposim.serve.app import create_app
    except ImportError:
        fail(INSTALL_HINT)
    if not scenario_dir.is_dir():
        fail(f"{scenario_dir} is not a folder")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    port = sock.getsockname()[1]
    try:
        app = create_app(scenario_dir, host=host, workers=workers,
                         executor="serial" if workers == 1 else "processes")
    except BaseException:
        sock.close()
        raise
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"bposim what-if page for {scenario_dir.resolve()}: http://{shown}:{port}/ "
               "(Ctrl-C stops it)", err=True)
    uvicorn.run(app, fd=sock.fileno(), log_level="warning")
