"""`newsmon search "QUERY"`: full-text search of the store, ranked by relevance (BM25)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer

from flows.cli_common import ConfigOpt, DbOpt, err, fail, load_config, open_store, say
from flows.config import DEFAULT_CONFIG


class SearchFormat(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("search")(search)


def search(
    query: Annotated[str, typer.Argument(help="Words, all required; word* for a prefix.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only articles this rule matched.")] = None,
    outlet: Annotated[str | None, typer.Option("--outlet", "-o", help="Only this outlet.")] = None,
    language: Annotated[str | None, typer.Option("--language", "-l", help="Only this language (en, ru, az, ...).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Published on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Published on or before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many results.")] = 20,
    fmt: Annotated[SearchFormat, typer.Option("--format", "-f", help="Output format.")] = SearchFormat.text,
) -> None:  # fmt: skip
    """Full-text search over titles and texts, best match first: English and Russian words
    match their other forms, Azerbaijani words match as prefixes."""
    from flows.web.export import ExportFormat, render
    from storage import desk, search, search_index
    from storage.db import StoreError

    if limit < 1:
        raise fail("--limit must be at least 1")
    end = _day(until, "--until")
    filters = search.Filters(
        outlet=outlet, language=language, rule=rule, since=_day(since, "--since"),
        until=end + timedelta(days=1) if end else None,  # the day given is included
    )  # fmt: skip
    store = open_store(db, load_config(config, required=False))
    try:
        with store.reading() as reading:
            if reading.note:
                err.print(f"note: {reading.note}", markup=False, highlight=False)
            page = desk.search_page(reading.con, query, filters, limit)
            lag = search_index.lag(reading.con)
    except StoreError as exc:
        raise fail(str(exc)) from None
    if fmt is not SearchFormat.text:
        sys.stdout.buffer.write(render(page.rows, ExportFormat(fmt.value)))
        return
    if lag:
        err.print(f"note: {lag} article(s) stored since the last pass are not indexed yet")
    for number, hit in enumerate(page.rows, start=1):
        when = hit.published_at.strftime("%Y-%m-%d") if hit.published_at else "?"
        say(f"{number}. {hit.title or '(no title)'}", style="bold")
        say(f"   {hit.outlet_id} · {when} · {hit.language or '?'} · score {hit.score:.2f}")
        say(f"   {hit.url}")
        snippet = "".join(f"[{f.text}]" if f.hit else f.text for f in hit.snippet)
        say("   " + " ".join(snippet.split()))
    say(
        f"{page.total} article(s) found"
        + (f", first {len(page.rows)} shown" if page.total > len(page.rows) else "")
    )


def _day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise fail(f"{name}: not a date (YYYY-MM-DD): {value}") from None
