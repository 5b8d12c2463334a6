"""Dataclass records to JSON and back, for the spool (a spooled batch must survive restarts)."""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def to_jsonable(record: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif dataclasses.is_dataclass(value):
            value = to_jsonable(value)
        out[f.name] = value
    return out


def from_jsonable(cls: type[T], data: dict[str, Any]) -> T:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value = data[f.name]
        hint = hints.get(f.name)
        nested = _dataclass_in(hint)
        if value is not None and nested is not None and isinstance(value, dict):
            value = from_jsonable(nested, value)
        elif value is not None and "datetime" in str(hint) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif value is not None and (enum := _enum_in(hint)) is not None:
            value = enum(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def _dataclass_in(hint: object) -> type | None:
    candidates = [hint, *typing.get_args(hint)]
    for candidate in candidates:
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
            return candidate
    return None


def _enum_in(hint: object) -> type[Enum] | None:
    for candidate in (hint, *typing.get_args(hint)):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)
