"""`newsmon web`: serve the analyst's desk (read-only) over the store."""

from __future__ import annotations

import ipaddress
import os
import secrets
from typing import Annotated

import typer

from flows.cli_common import ConfigOpt, DbOpt, db_path, fail, load_config, say
from flows.config import DEFAULT_CONFIG


def register(app: typer.Typer) -> None:
    app.command("web")(web)


def web(
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind; other than loopback needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    token: Annotated[str | None, typer.Option("--token", help="Access token (default: $NEWSMON_WEB_TOKEN; made up and printed when bound beyond loopback).")] = None,
) -> None:  # fmt: skip
    """The analyst's desk in the browser: stories, search, alerts, outlets, coverage."""
    import uvicorn

    from flows.web.app import create_app

    cfg = load_config(config, required=False)
    path = db_path(db, cfg)
    lake = cfg.lake if cfg else None
    if lake is None and not path.exists():
        raise fail(f"no database at {path} (run `newsmon run` or `newsmon demo` first)")
    token = token or os.environ.get("NEWSMON_WEB_TOKEN") or None
    if token is None and not _loopback(host):
        token = secrets.token_urlsafe(18)
        say(f"bound to {host}: every request needs the token {token}")
        say("(HTTP basic auth with any user name and the token as password, or a Bearer header)")
    shown = f"[{host}]" if ":" in host else host
    over = f"the lake in {lake.data_path}" if lake else path
    say(f"newsmon web: http://{shown}:{port}/ over {over} (read-only; Ctrl-C stops it)")
    try:
        uvicorn.run(create_app(path, token, lake=lake), host=host, port=port, log_level="warning")
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
