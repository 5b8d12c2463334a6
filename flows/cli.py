"""The `newsmon` command line."""

from __future__ import annotations

import gc
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from flows.cli_common import ConfigOpt, DbOpt, cell, checked_db, err, fail, open_store, out, say
from flows.cli_common import db_path as _db
from flows.cli_common import load_config as _config
from flows.config import DEFAULT_CONFIG, Config
from flows.rules_cli import rules_app
from flows.store_cli import store_app
from flows.worker_cli import worker

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="newsmon: monitor news outlets into DuckDB (Azerbaijan–Russia coverage and more).",
)
OutletOpt = Annotated[
    list[str] | None, typer.Option("--outlet", "-o", help="Only these outlet ids.")
]


def _outlets_config(path: Path, outlet_ids: list[str] | None) -> Config:
    """The config, when it has outlets and every one asked for by id."""
    cfg = _config(path)
    assert cfg is not None
    unknown = sorted(set(outlet_ids or ()) - {o.id for o in cfg.outlets})
    if unknown:
        raise fail(f"no outlet '{unknown[0]}' in {path}")
    if not cfg.outlets:
        raise fail(f"{path}: no outlets configured")
    return cfg


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True)
    ] = False,
) -> None:
    if version:
        from importlib.metadata import version as installed

        say(f"newsmon {installed('newsmon')}")
        raise typer.Exit()


@app.command()
def run(
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
    outlet: OutletOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the run's log.")] = False,
    due_only: Annotated[
        bool, typer.Option("--due", help="Only the outlets whose turn it is (as serve does).")
    ] = False,
) -> None:
    """One ingest pass over the configured outlets (a Prefect flow run if PREFECT_API_URL is set)."""
    cfg = _outlets_config(config, outlet)
    summary = _run(cfg, _db(db, cfg), outlet, verbose, due_only)
    if summary.all_failed:
        raise typer.Exit(1)


def _run(  # noqa: ANN202
    cfg: Config, db_path: Path, outlet_ids: list[str] | None, verbose: bool, due_only: bool = False
):
    from flows.oneshot import Interrupted, run_once, selected
    from flows.progress import make_progress, print_summary
    from storage.db import StoreError

    progress = make_progress(out, selected(cfg, outlet_ids))
    try:
        with progress:
            summary = run_once(cfg, db_path, outlet_ids, progress, err, verbose, due_only)
    except Interrupted as exc:
        message = f"stopped ({exc}); the articles extracted until then are stored in {db_path}"
        raise fail(message, 128 + exc.signum) from None
    except StoreError as exc:
        raise fail(str(exc)) from None
    print_summary(out, err, summary, db_path)
    return summary


@app.command()
def outlets(config: ConfigOpt = DEFAULT_CONFIG, db: DbOpt = None) -> None:
    """Configured outlets and how their last run went."""
    from storage.db import StoreError

    cfg = _config(config)
    assert cfg is not None
    try:
        last = open_store(db, cfg).last_runs()
    except StoreError as exc:
        err.print(f"[yellow]note:[/] cannot read last runs: {escape(str(exc))}", highlight=False)
        last = {}
    table = Table(
        "id", "name", "language", "sources", "last run", "status", "stored", "articles", "note"
    )
    for o in cfg.outlets:
        sources = (
            f"{len(o.feeds)} feed(s), {len(o.sitemaps)} sitemap(s), {len(o.sections)} section(s)"
        )
        if not (o.feeds or o.sitemaps or o.sections):
            sources = "auto-discover"
        info = last.get(o.id)
        if info is None:
            table.add_row(o.id, Text(o.name), o.language, sources, "never", "", "", "", "")
        else:
            table.add_row(
                o.id, Text(o.name), o.language, sources, cell(info.finished_at), info.status,
                str(info.stored), str(info.articles), Text(cell(info.error)),
            )  # fmt: skip
    out.print(table)


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="DuckDB file for the demo.")] = Path(
        "data/demo.duckdb"
    ),
    port: Annotated[
        int,
        typer.Option(
            "--port", help="First of three loopback ports (fixed, so reruns see the same URLs)."
        ),
    ] = 8701,
    config: Annotated[
        Path,
        typer.Option(
            "--config", "-c", help=r"Take \[settings] (user agent, timeouts...) from this file."
        ),
    ] = DEFAULT_CONFIG,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the run's log.")] = False,
    web: Annotated[
        bool, typer.Option("--web", help="Then open the desk on the demo store (newsmon web).")
    ] = False,
) -> None:
    """Run the real pipeline against recorded snapshots of three outlets served on loopback."""
    from flows.demo.server import SiteServer, demo_config, demo_sites, load_manifest
    from flows.demo.setup import alert_window, demo_rules
    from storage.db import Store

    db = checked_db(db)
    manifest = load_manifest()
    server = SiteServer(demo_sites(), ports=[port + i for i in range(len(manifest))])
    try:
        server.start()
    except OSError as exc:
        raise fail(
            f"cannot serve the demo on 127.0.0.1:{port}-{port + len(manifest) - 1}: {exc.strerror or exc} (use --port)"
        ) from None
    with server, tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "demo.toml"
        user = _config(config, required=False)
        settings = _settings_toml(user) if user else ""
        rules, rules_from = demo_rules(config)
        window, hours = alert_window(manifest, datetime.now(UTC))
        config_path.write_text(
            settings + window + "\n" + demo_config(server.urls(), manifest) + "\n" + rules,
            encoding="utf-8",
        )
        for site in server.sites:
            say(f"serving {site.real_origin} at {site.url}", style="dim")
        if rules_from:
            say(
                f"topic rules from {rules_from}; alert window {hours} h (the recorded articles' age)",
                style="dim",
            )
        cfg = _config(config_path)
        assert cfg is not None
        summary = _run(cfg, db, None, verbose)
    result = Store(db).query(
        """SELECT outlet_id, strftime(published_at, '%Y-%m-%d %H:%M') AS "published (UTC)",
                  date_source, array_to_string(authors, ', ') AS authors, language AS lang,
                  word_count AS words, title
           FROM articles ORDER BY outlet_id, published_at"""
    )
    out.print(f"\n[bold]{len(result.rows)} articles in {escape(str(db))}[/]", highlight=False)
    for outlet_id, published, source, authors, lang, words, title in result.rows:
        out.print(
            f"[cyan]{escape(outlet_id)}[/]  {published} UTC ({source})  {lang}  {words} words",
            highlight=False,
        )
        out.print(
            f"  [bold]{escape(title or '')}[/] — {escape(authors or 'no byline')}", highlight=False
        )
    say(f'Try: newsmon sql --db {db} "SELECT title, left(text, 300) FROM articles LIMIT 3"')
    say(f"Open the desk: newsmon web --db {db}   (then http://127.0.0.1:8080/)")
    if summary.all_failed:
        raise typer.Exit(1)
    if web:
        from flows.web_cli import web as serve_desk

        serve_desk(config=config, db=db)


app.add_typer(rules_app, name="rules")
app.add_typer(store_app, name="store")
app.command()(worker)


@app.command()
def alerts(
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many recent alerts.")] = 20,
    atom: Annotated[
        Path | None, typer.Option("--atom", help="Write an Atom feed of alerts here.")
    ] = None,
) -> None:
    """Recent alerts: why they fired and how delivery went on each channel."""
    from flows.alerts import write_atom
    from storage.db import StoreError

    store = open_store(db, _config(config, required=False))
    try:
        recent = store.recent_alerts(limit)
        languages = store.story_languages([alert.story_id for alert, _, _ in recent])
        if atom is not None:
            count = write_atom(store, atom)
            say(f"wrote {count} alert(s) to {atom}")
    except StoreError as exc:
        raise fail(str(exc)) from None
    if not recent:
        out.print("no alerts yet")
    for alert, copies, states in recent:
        published = alert.published_at.strftime("%Y-%m-%d %H:%M UTC") if alert.published_at else "?"
        out.print(
            f"[bold]{escape(alert.title or '')}[/] ({alert.outlet_id}, published {published})",
            highlight=False,
        )
        say(f"  {alert.url}")
        langs = languages.get(alert.story_id, [])
        in_langs = f" ({', '.join(langs)})" if len(langs) > 1 else ""
        say(
            f"  rule {alert.rule_id}, score {alert.score:g}; copies of the story: {copies}{in_langs}"
        )
        say(f"  why: {'; '.join(alert.terms[:6])}")
        for label, state, attempts, error in states:
            note = f" — {error}" if error else ""
            say(f"  → {label}: {state} after {attempts} attempt(s){note}")


@app.command()
def serve(
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
    outlet: OutletOpt = None,
    port: Annotated[
        int,
        typer.Option("--port", help="Port of the local Prefect server (without PREFECT_API_URL)."),
    ] = 4200,
    tick: Annotated[
        float | None,
        typer.Option(
            "--tick-seconds",
            help="Look for due outlets this often (default: the shortest interval any outlet may need).",
        ),
    ] = None,
) -> None:
    """Scheduled operation: ingest on each outlet's interval, alerts after each pass, health
    checks and a daily health report, until Ctrl-C."""
    from flows.serve import ServeError
    from flows.serve import serve as run_serve

    cfg = _outlets_config(config, outlet)
    if tick is not None and tick < 1:
        raise fail("--tick-seconds must be at least 1")
    try:
        run_serve(
            cfg,
            _db(db, cfg),
            port,
            outlet,
            tick,
            announce=say,
        )
    except ServeError as exc:
        raise fail(str(exc)) from None
    out.print("newsmon serve: stopped")


@app.command()
def health(
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
    events: Annotated[
        int, typer.Option("--events", "-n", help="Also list this many recent changes of state.")
    ] = 0,
) -> None:
    """Source health per outlet: ok, stale, failing or degraded, and why."""
    from flows.health import assess_all, pct
    from storage.db import StoreError

    cfg = _config(config)
    assert cfg is not None
    store = open_store(db, cfg)
    try:
        table_rows = assess_all(cfg, store)
        changes = store.health_events(events) if events else []
    except StoreError as exc:
        raise fail(str(exc)) from None
    style = {"ok": "green", "stale": "yellow", "degraded": "magenta", "failing": "red"}
    table = Table(
        "outlet", "state", "last success", "new/day 7d", "normal/day", "text yield",
        "dated", "errors", "why",
    )  # fmt: skip
    for h in table_rows:
        table.add_row(
            h.outlet_id, f"[{style.get(h.state, 'white')}]{h.state}[/]", cell(h.last_success),
            _rate(h.new_per_day), _rate(h.normal_per_day),
            f"{pct(h.text_yield)} ({pct(h.normal_yield)})", f"{pct(h.dated)} ({pct(h.normal_dated)})",
            pct(h.error_rate), Text(h.reason or ""),
        )  # fmt: skip
    out.print(table)
    for changed_at, outlet_id, old, new, reason, notified_at, error in changes:
        sent = "notified" if notified_at else f"not notified{f' ({error})' if error else ''}"
        say(f"{cell(changed_at)} {outlet_id}: {old or '—'} → {new} ({sent}) {reason or ''}")
    if any(h.state.needs_attention for h in table_rows):
        raise typer.Exit(1)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _settings_toml(config: Config) -> str:
    """The user's client settings for the demo run; the demo's outlets and db are its own."""
    import dataclasses

    client = dataclasses.asdict(config.settings.client)
    lines = ["[settings]", f"workers = {config.settings.workers}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in client.items()]
    return "\n".join(lines) + "\n\n"


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("newsmon: interrupted")
        sys.exit(130)
    finally:
        # The interpreter's teardown runs full garbage collections over every object the
        # extraction stack left (seconds on a loaded machine, before the shell or a pipe sees
        # the command end); frozen objects are skipped, and nothing needs collecting at exit.
        gc.freeze()


# Commands that live in modules of their own register themselves here. A command module stays
# cheap to import (the work it starts is imported in the command's body): every command, even
# `newsmon sql`, imports all of them at start-up.
from flows import backfill_cli, check, import_warc_cli, reextract_cli, search_cli, sql_cli, web_cli  # noqa: E402

for _module in (sql_cli, reextract_cli, backfill_cli, import_warc_cli, check, search_cli, web_cli):
    _module.register(app)

if __name__ == "__main__":
    main()
