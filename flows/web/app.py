"""The desk's pages. Read-only: every request opens the store read-only (a run may be
writing; see Store.reading), runs the fixed queries of storage/desk.py with the filters given
as typed values, and closes it. No SQL comes from the browser. Templates escape every stored
string (Jinja autoescape); links to originals are made only from http(s) URLs."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from extractors.records import LakeSettings
from flows.web import charts
from flows.web.atom import alerts_feed, web_url
from flows.web.export import MEDIA_TYPES, ExportFormat, render
from storage import desk
from storage.db import Store, StoreError
from storage.search import Filters

HERE = Path(__file__).parent
PAGE_SIZE = 25
EXPORT_LIMIT = 100_000  # rows in one download
COVERAGE_DAYS = (30, 90)
# No inline script or style, no other origin: a stored string that slipped through escaping
# still could not run.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


class BadRequest(Exception):
    """A filter the desk cannot read (a malformed date); one line for the user."""


def create_app(
    db: Path,
    token: str | None = None,
    now: Callable[[], datetime] | None = None,
    lake: LakeSettings | None = None,
):
    """The desk over the store at `db` (or over `lake`, the config's shared store). With
    `token`, every request needs it (HTTP basic auth with any user name and the token as
    password, or `Authorization: Bearer TOKEN`)."""
    store = Store(db, lake=lake)
    clock = now or (lambda: datetime.now(UTC))
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["when"] = _when
    env.filters["day"] = lambda d: d.strftime("%Y-%m-%d") if d else ""
    env.filters["last_day"] = lambda d: (d - timedelta(days=1)).strftime("%Y-%m-%d") if d else ""
    env.globals["web_url"] = web_url
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]):
        if token is not None and not _authorised(request, token):
            return Response(
                "authentication required\n", status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="newsmon"'},
            )  # fmt: skip
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(request=request, **context)
        return HTMLResponse(html, status_code=status)

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> Response:
        return page(request, "error.html", 400, message=str(exc))

    def read(request: Request, template: str, work: Callable[..., dict[str, Any]]) -> Response:
        """Open the store, let `work` query it, render; user errors become a one-line page."""
        try:
            with store.reading(wait_s=5.0) as reading:
                context = work(reading.con)
                if isinstance(context, Response):
                    return context
                context.setdefault("choices", desk.choices(reading.con))
                return page(request, template, note=reading.note, **context)
        except BadRequest as exc:
            return page(request, "error.html", 400, message=str(exc))
        except (StoreError, duckdb.Error) as exc:
            message = " ".join(str(exc).split())[:300]
            return page(request, "error.html", 503, message=f"cannot read the store: {message}")

    @app.get("/", response_class=HTMLResponse)
    def stories(request: Request) -> Response:
        filters, number, fmt = _filters(request), _page(request), _format(request)

        def work(con: duckdb.DuckDBPyConnection) -> Any:
            if fmt:
                return _download("stories", desk.stories(con, filters, EXPORT_LIMIT).rows, fmt)
            result = desk.stories(con, filters, PAGE_SIZE, (number - 1) * PAGE_SIZE)
            return {"result": result, "filters": filters, "number": number, "active": "stories"}

        return read(request, "stories.html", work)

    @app.get("/story/{story_id}", response_class=HTMLResponse)
    def story(request: Request, story_id: str) -> Response:
        def work(con: duckdb.DuckDBPyConnection) -> Any:
            detail = desk.story(con, story_id)
            if detail is None:
                raise BadRequest(f"no story {story_id}")
            return {"detail": detail, "active": "stories"}

        return read(request, "story.html", work)

    @app.get("/search", response_class=HTMLResponse)
    def search(request: Request) -> Response:
        filters, number, fmt = _filters(request), _page(request), _format(request)
        query = request.query_params.get("q", "").strip()[:300]

        def work(con: duckdb.DuckDBPyConnection) -> Any:
            if fmt:
                hits = desk.search_page(con, query, filters, EXPORT_LIMIT).rows if query else []
                return _download("search", hits, fmt)
            result = (
                desk.search_page(con, query, filters, PAGE_SIZE, (number - 1) * PAGE_SIZE)
                if query
                else None
            )
            return {"q": query, "result": result, "filters": filters, "number": number,
                    "active": "search"}  # fmt: skip

        return read(request, "search.html", work)

    @app.get("/alerts", response_class=HTMLResponse)
    def alerts(request: Request) -> Response:
        filters, number, fmt = _filters(request), _page(request), _format(request)

        def work(con: duckdb.DuckDBPyConnection) -> Any:
            if fmt:
                return _download("alerts", desk.alerts(con, filters, EXPORT_LIMIT).rows, fmt)
            result = desk.alerts(con, filters, PAGE_SIZE, (number - 1) * PAGE_SIZE)
            return {"result": result, "filters": filters, "number": number, "active": "alerts"}

        return read(request, "alerts.html", work)

    @app.get("/alerts.atom")
    def alerts_atom(request: Request) -> Response:
        def work(con: duckdb.DuckDBPyConnection) -> Any:
            rows = desk.alerts(con, Filters(), 200).rows
            body = alerts_feed(rows, str(request.base_url))
            return Response(body, media_type="application/atom+xml; charset=utf-8")

        return read(request, "error.html", work)

    @app.get("/outlets", response_class=HTMLResponse)
    def outlets(request: Request) -> Response:
        fmt, today = _format(request), clock()

        def work(con: duckdb.DuckDBPyConnection) -> Any:
            rows = desk.outlets(con, today)
            if fmt:
                return _download("outlets", rows, fmt)
            first = (today - timedelta(days=29)).date()
            sparks = {o.outlet_id: charts.sparkline(o.per_day, first, 30) for o in rows}
            return {"rows": rows, "sparks": sparks, "active": "outlets"}

        return read(request, "outlets.html", work)

    @app.get("/coverage", response_class=HTMLResponse)
    def coverage(request: Request) -> Response:
        fmt, today = _format(request), clock().date()
        days = 90 if request.query_params.get("days") == "90" else 30
        end = _date(request.query_params.get("end"), "end")

        def work(con: duckdb.DuckDBPyConnection) -> Any:
            rules = desk.choices(con)["rule"]
            rule = request.query_params.get("rule") or (rules[0] if rules else "")
            last = end.date() if end else today
            counts = desk.coverage(con, rule, last, days) if rule else []
            moved = None
            if rule and not counts and end is None:
                # Nothing in the last days (a store of old articles, the demo's recordings):
                # show the days up to the last match rather than an empty chart, and say so.
                latest = desk.last_match_day(con, rule)
                if latest is not None and latest < last:
                    last, moved = latest, latest
                    counts = desk.coverage(con, rule, last, days)
            if fmt:
                return _download(f"coverage-{rule}-{days}d", counts, fmt)
            chart = charts.stacked_days(counts, last - timedelta(days=days - 1), days)
            return {"rule": rule, "days": days, "chart": chart, "active": "coverage",
                    "day_options": COVERAGE_DAYS, "last": last, "moved": moved}  # fmt: skip

        return read(request, "coverage.html", work)

    return app


def _filters(request: Request) -> Filters:
    q = request.query_params
    until = _date(q.get("until"), "until")
    return Filters(
        outlet=q.get("outlet") or None,
        language=q.get("language") or None,
        rule=q.get("rule") or None,
        since=_date(q.get("since"), "since"),
        until=until + timedelta(days=1) if until else None,  # the day given is included
    )


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise BadRequest(f"{name}: not a date (YYYY-MM-DD): {value[:40]}") from None


def _page(request: Request) -> int:
    try:
        return max(1, min(int(request.query_params.get("page", "1")), 10_000))
    except ValueError:
        raise BadRequest("page: not a number") from None


def _format(request: Request) -> ExportFormat | None:
    value = request.query_params.get("format")
    if not value:
        return None
    try:
        return ExportFormat(value)
    except ValueError:
        raise BadRequest(f"format: one of csv, json, parquet (not {value[:20]})") from None


def _download(name: str, rows: list, fmt: ExportFormat) -> Response:
    return Response(
        render(rows, fmt), media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="newsmon-{name}.{fmt}"'},
    )  # fmt: skip


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return secrets.compare_digest(value.strip().encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(decoded.partition(":")[2].encode(), token.encode())
    return False


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
