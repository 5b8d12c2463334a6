"""What every table of newsmon.toml is checked with: the one error type, whose message is the
one line the user sees, and the check of a table's keys and their types."""

from __future__ import annotations

from typing import Any


class ConfigError(Exception):
    pass


def check_types(table: dict[str, Any], allowed: dict[str, Any], where: str) -> None:
    for key, value in table.items():
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key '{key}'")
        expected = allowed[key]
        if isinstance(value, bool) and expected in (int, (int, float)):
            raise ConfigError(f"{where}: '{key}' must be a number, not a boolean")
        if not isinstance(value, expected):
            name = expected.__name__ if isinstance(expected, type) else "number"
            raise ConfigError(f"{where}: '{key}' must be a {_type_name(name)}")


def _type_name(name: str) -> str:
    return {"str": "string", "int": "whole number", "list": "list", "bool": "boolean"}.get(
        name, name
    )
