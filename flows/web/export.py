"""Every list of the desk as CSV, JSON or Parquet: the typed rows, flattened to columns."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from extractors.records.desk import Fragment


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSON: "application/json",
    ExportFormat.PARQUET: "application/vnd.apache.parquet",
}


def flatten(row: object) -> dict[str, Any]:
    """A record as one flat row: nested records and lists become text a spreadsheet shows."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(row):  # type: ignore[arg-type]
        value = getattr(row, f.name)
        if isinstance(value, tuple) and value and isinstance(value[0], Fragment):
            value = "".join(fr.text for fr in value)
        elif isinstance(value, tuple | list):
            value = "; ".join(_text(v) for v in value)
        elif dataclasses.is_dataclass(value):
            value = _text(value)
        out[f.name] = value
    return out


def _text(value: object) -> str:
    if dataclasses.is_dataclass(value):
        parts = [_text(getattr(value, f.name)) for f in dataclasses.fields(value)]
        return " ".join(p for p in parts if p)
    if isinstance(value, tuple | list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return "" if value is None else str(value)


def render(rows: list[object], fmt: ExportFormat) -> bytes:
    flat = [flatten(r) for r in rows]
    if fmt is ExportFormat.JSON:
        return json.dumps(flat, default=_json, ensure_ascii=False, indent=1).encode()
    if fmt is ExportFormat.CSV:
        buffer = io.StringIO()
        if flat:
            writer = csv.DictWriter(buffer, fieldnames=list(flat[0]))
            writer.writeheader()
            writer.writerows([{k: _cell(v) for k, v in r.items()} for r in flat])
        return buffer.getvalue().encode()
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(flat), sink)
    return sink.getvalue()


def _cell(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _json(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)
