"""SQL for what a pass leaves besides its articles: the outlets, one `runs` row per outlet and
run, the request log, feeds and sitemaps with what a conditional GET needs, and the article
URLs that came to nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

import duckdb

from extractors.records import (
    FetchRecord,
    LastRun,
    Outlet,
    OutletReport,
    SourceOrigin,
    SourceState,
    UrlFailure,
)
from extractors.urls import url_key
from storage import rows

Connection = duckdb.DuckDBPyConnection
GIVE_UP_AFTER = 5  # attempts at a failing article URL
FIRST_RETRY = timedelta(hours=1)  # then 4 h, 16 h, a day


def write_outlets(con: Connection, outlets: Sequence[Outlet], now: datetime) -> None:
    names = rows.columns(con, "outlets").names
    rows.upsert(con, "outlets", [rows.row(o, names, updated_at=now) for o in outlets], ["id"])


def write_reports(con: Connection, reports: Sequence[OutletReport]) -> list[OutletReport]:
    """The runs rows, `stored` counted from the articles the run stored (whichever write, or
    spool merge, brought them in). Returns the reports as written."""
    written = []
    for report in reports:
        stored = con.execute(
            "SELECT count(*) FROM articles WHERE run_id = ? AND outlet_id = ?",
            [report.run_id, report.outlet_id],
        ).fetchall()[0][0]
        written.append(dataclasses.replace(report, stored=stored))
    names = rows.columns(con, "runs").names
    rows.upsert(con, "runs", [rows.row(r, names) for r in written], ["run_id", "outlet_id"])
    return written


def write_fetches(con: Connection, run_id: str, fetches: Sequence[FetchRecord]) -> None:
    names = rows.columns(con, "fetches").names
    rows.insert(
        con,
        "fetches",
        [
            rows.row(
                f,
                names,
                run_id=run_id,
                elapsed_ms=round(f.elapsed_s * 1000, 3),
                error=f.failure.message if f.failure else None,
                error_kind=f.failure.kind if f.failure else None,
            )  # fmt: skip
            for f in fetches
        ],
    )


def write_sources(con: Connection, sources: Sequence[SourceState]) -> None:
    names = rows.columns(con, "sources").names
    rows.upsert(
        con,
        "sources",
        [rows.row(s, names) for s in sources],
        ["url"],
        keep={
            # A source once configured stays 'config' even if discovery meets it later.
            "origin": f"CASE WHEN sources.origin = '{SourceOrigin.CONFIG}' "
            f"THEN '{SourceOrigin.CONFIG}' ELSE excluded.origin END",
            "last_changed": "coalesce(excluded.last_changed, sources.last_changed)",
        },
    )


def read_sources(con: Connection, outlet_id: str) -> list[SourceState]:
    cursor = con.execute(
        "SELECT * FROM sources WHERE outlet_id = ? ORDER BY kind, url", [outlet_id]
    )
    return rows.records(cursor, SourceState)


def write_failures(con: Connection, failures: Sequence[UrlFailure]) -> None:
    """A URL that fails again waits longer: 1 h, 4 h, 16 h, a day, then it is given up."""
    rows.upsert(
        con,
        "url_failures",
        [
            {
                "url_key": url_key(f.url),
                "outlet_id": f.outlet_id,
                "url": f.url,
                "reason": f.failure.message,
                "kind": f.failure.kind,
                "attempts": 1,
                "last_failed_at": f.failed_at,
                "retry_at": f.failed_at + FIRST_RETRY,
            }  # fmt: skip
            for f in failures
        ],
        ["url_key"],
        keep={
            "attempts": "url_failures.attempts + 1",
            "retry_at": f"""excluded.last_failed_at + to_seconds(
                CASE WHEN url_failures.attempts + 1 >= {GIVE_UP_AFTER} THEN 3650 * 86400
                     ELSE least(86400, 3600 * pow(4, url_failures.attempts)) END)""",
        },
    )


def runs_of(con: Connection, run_id: str) -> list[OutletReport]:
    """The runs rows of one pass (each worker writes its share), with the outlets' names."""
    cursor = con.execute(
        """SELECT r.* REPLACE (coalesce(r.extracted, 0) AS extracted,
                                 coalesce(r.dated, 0) AS dated),
                  coalesce(o.name, r.outlet_id) AS name
           FROM runs r LEFT JOIN outlets o ON o.id = r.outlet_id
           WHERE r.run_id = ? ORDER BY r.outlet_id""",
        [run_id],
    )
    return rows.records(cursor, OutletReport)


def last_runs(con: Connection) -> dict[str, LastRun]:
    """Each outlet's latest run and its number of stored articles."""
    cursor = con.execute(
        """WITH last AS (
               SELECT * FROM runs
               QUALIFY row_number() OVER (PARTITION BY outlet_id ORDER BY started_at DESC) = 1)
           SELECT l.outlet_id, l.finished_at, l.status, l.stored, l.error,
                  (SELECT count(*) FROM articles a WHERE a.outlet_id = l.outlet_id) AS articles
           FROM last l"""
    )
    return {r.outlet_id: r for r in rows.records(cursor, LastRun)}
