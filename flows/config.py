"""newsmon.toml → typed settings and outlets, with one-line errors that name the bad key."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from extractors.http import ClientSettings
from extractors.records import LakeSettings, Outlet, Section
from extractors.topics import Rule
from flows.config_checks import ConfigError, check_types
from flows.history_config import TABLES as HISTORY_TABLES
from flows.history_config import HistorySettings, parse_history
from flows.polling import PollPolicy, Schedule
from flows.rules_config import AlertSettings, ChannelSpec, check_targets, parse_alerts, parse_rule
from flows.store_config import WorkerSettings, parse_store, parse_workers

__all__ = ["DEFAULT_CONFIG", "DEFAULT_DB", "ChannelSpec", "Config", "ConfigError", "load", "parse"]

DEFAULT_CONFIG = Path("newsmon.toml")
DEFAULT_DB = Path("data/newsmon.duckdb")


@dataclass(frozen=True)
class Settings:
    db: Path = DEFAULT_DB
    workers: int = 0  # extraction processes; 0 = one per core
    client: ClientSettings = field(default_factory=ClientSettings)
    # The longest one outlet's fetching may take in a pass: what is extracted by then is
    # stored, the rest waits for the next pass. Stuck pages are cut long before, each at its
    # own deadline; this bounds a pass over many slow, paced pages.
    outlet_deadline_s: float = 1800.0


@dataclass(frozen=True)
class Config:
    path: Path
    settings: Settings
    outlets: tuple[Outlet, ...]
    rules: tuple[Rule, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)
    schedule: Schedule = field(default_factory=Schedule)
    history: HistorySettings = field(default_factory=HistorySettings)
    lake: LakeSettings | None = None  # [store]: None for the DuckDB file in settings.db
    workers: WorkerSettings = field(default_factory=WorkerSettings)


_SETTINGS_KEYS = {
    "db": str, "workers": int, "user_agent": str, "connect_timeout_s": (int, float),
    "read_timeout_s": (int, float), "max_bytes": int, "max_redirects": int, "retries": int,
    "backoff_base_s": (int, float), "connections_per_host": int, "respect_robots": bool,
    "max_retry_after_s": (int, float), "page_deadline_s": (int, float),
    "source_deadline_s": (int, float), "outlet_deadline_s": (int, float),
}  # fmt: skip
_OUTLET_KEYS = {
    "id": str, "name": str, "homepage": str, "language": str, "feeds": list, "sitemaps": list,
    "sections": list, "article_pattern": str, "min_delay_s": (int, float), "max_articles": int,
    "enabled": bool, "interval_minutes": (int, float), "min_interval_minutes": (int, float),
    "max_interval_minutes": (int, float),
}  # fmt: skip
_SCHEDULE_KEYS = {
    "interval_minutes": (int, float), "min_interval_minutes": (int, float),
    "max_interval_minutes": (int, float), "max_backoff_minutes": (int, float), "adaptive": bool,
    "health_report": str,
}  # fmt: skip
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def load(path: Path | str) -> Config:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse(raw, path)


def parse(raw: dict[str, Any], path: Path) -> Config:
    unknown = set(raw) - {
        "settings",
        "outlet",
        "rule",
        "alerts",
        "schedule",
        "store",
        "workers",
        *HISTORY_TABLES,
    }
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key '{sorted(unknown)[0]}'")
    settings = _settings(raw.get("settings", {}), path)
    outlets_raw = raw.get("outlet", [])
    if not isinstance(outlets_raw, list):
        raise ConfigError(f"{path}: 'outlet' must be an array of tables ([[outlet]])")
    outlets: list[Outlet] = []
    seen: set[str] = set()
    for index, item in enumerate(outlets_raw):
        where = f"{path}: outlet[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be a table")
        if item.get("enabled", True) is False:
            continue
        outlet = _outlet(item, where)
        if outlet.id in seen:
            raise ConfigError(f"{where}: duplicate id '{outlet.id}'")
        seen.add(outlet.id)
        outlets.append(outlet)
    rules_raw = raw.get("rule", [])
    if not isinstance(rules_raw, list):
        raise ConfigError(f"{path}: 'rule' must be an array of tables ([[rule]])")
    rules = tuple(parse_rule(item, f"{path}: rule[{i}]") for i, item in enumerate(rules_raw))
    if len({r.id for r in rules}) != len(rules):
        raise ConfigError(f"{path}: two rules share an id")
    alerts = parse_alerts(raw.get("alerts", {}), path)
    check_targets(alerts, rules, path)
    schedule = _schedule(raw.get("schedule", {}), outlets_raw, path)
    try:
        lake = parse_store(raw.get("store", {}))
    except ValueError as exc:
        raise ConfigError(f"{path}: [store]: {exc}") from None
    try:
        workers = parse_workers(raw.get("workers", {}))
    except ValueError as exc:
        raise ConfigError(f"{path}: [workers]: {exc}") from None
    return Config(
        path=path, settings=settings, outlets=tuple(outlets), rules=rules, alerts=alerts,
        schedule=schedule, history=parse_history(raw, path, ConfigError), lake=lake,
        workers=workers,
    )  # fmt: skip


def _schedule(table: Any, outlets_raw: list[Any], path: Path) -> Schedule:
    where = f"{path}: [schedule]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    check_types(table, _SCHEDULE_KEYS, where)
    minutes = {k: float(v) for k, v in table.items() if k.endswith("_minutes")}
    interval = minutes.get("interval_minutes", 15.0)
    default = _policy(
        interval,
        minutes.get("min_interval_minutes", min(5.0, interval)),
        minutes.get("max_interval_minutes", max(120.0, interval)),
        minutes.get("max_backoff_minutes", max(360.0, interval)),
        table.get("adaptive", True),
        where,
    )
    report = table.get("health_report", "08:00").strip()
    if report and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", report):
        raise ConfigError(f'{where}: \'health_report\' must be a UTC time "HH:MM" or "" (off)')
    per_outlet = {}
    for index, item in enumerate(outlets_raw):
        own = {k: float(item[k]) for k in item if k.endswith("interval_minutes")}
        if not own or item.get("enabled", True) is False:
            continue
        interval = own.get("interval_minutes", default.interval_s / 60)
        per_outlet[item["id"]] = _policy(
            interval,
            own.get("min_interval_minutes", min(default.min_s / 60, interval)),
            own.get("max_interval_minutes", max(default.max_s / 60, interval)),
            max(default.max_backoff_s / 60, interval),
            default.adaptive,
            f"{path}: outlet[{index}] ({item['id']})",
        )
    return Schedule(default, per_outlet, report or None)


def _policy(
    interval: float, low: float, high: float, backoff: float, adaptive: bool, where: str
) -> PollPolicy:
    if low <= 0:
        raise ConfigError(f"{where}: intervals must be more than 0 minutes")
    if not low <= interval <= high:
        raise ConfigError(
            f"{where}: need min_interval_minutes <= interval_minutes <= max_interval_minutes "
            f"(got {low:g} <= {interval:g} <= {high:g})"
        )
    return PollPolicy(interval * 60, low * 60, high * 60, backoff * 60, adaptive)


def _settings(table: Any, path: Path) -> Settings:
    where = f"{path}: [settings]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    check_types(table, _SETTINGS_KEYS, where)
    client_keys = {k: table[k] for k in table if k not in ("db", "workers", "outlet_deadline_s")}
    for key in ("max_bytes", "connections_per_host", "max_redirects"):
        if key in client_keys and client_keys[key] < 1:
            raise ConfigError(f"{where}: '{key}' must be at least 1")
    if table.get("workers", 0) < 0:
        raise ConfigError(f"{where}: 'workers' must be 0 (one per core) or more")
    return Settings(
        db=Path(table.get("db", DEFAULT_DB)),
        workers=table.get("workers", 0),
        client=ClientSettings(**client_keys),
        outlet_deadline_s=float(table.get("outlet_deadline_s", 1800.0)),
    )


def _outlet(item: dict[str, Any], where: str) -> Outlet:
    if isinstance(item.get("id"), str):
        where = f"{where} ({item['id']})"
    check_types(item, _OUTLET_KEYS, where)
    for key in ("id", "name", "homepage", "language"):
        if key not in item:
            raise ConfigError(f"{where}: missing required key '{key}'")
    outlet_id = item["id"]
    if not _ID.match(outlet_id):
        raise ConfigError(f"{where}: 'id' must be lower-case letters, digits, '-' or '_'")
    homepage = item["homepage"]
    if urlsplit(homepage).scheme not in ("http", "https") or not urlsplit(homepage).netloc:
        raise ConfigError(f"{where}: 'homepage' must be an http(s) URL")
    pattern = item.get("article_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{where}: 'article_pattern' is not a valid regex: {exc}") from None
    min_delay = float(item.get("min_delay_s", 2.0))
    if min_delay < 0:
        raise ConfigError(f"{where}: 'min_delay_s' must be 0 or more")
    max_articles = item.get("max_articles", 100)
    if max_articles < 1:
        raise ConfigError(f"{where}: 'max_articles' must be at least 1")
    return Outlet(
        id=outlet_id,
        name=item["name"],
        homepage=homepage,
        language=item["language"],
        feeds=_urls(item.get("feeds", []), homepage, f"{where}: 'feeds'"),
        sitemaps=_urls(item.get("sitemaps", []), homepage, f"{where}: 'sitemaps'"),
        sections=_sections(item.get("sections", []), homepage, where),
        article_pattern=pattern,
        min_delay_s=min_delay,
        max_articles=max_articles,
    )


def _urls(values: list[Any], homepage: str, where: str) -> tuple[str, ...]:
    out = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where} must be a list of URLs")
        out.append(urljoin(homepage, value.strip()))
    return tuple(out)


def _sections(values: list[Any], homepage: str, where: str) -> tuple[Section, ...]:
    out = []
    for index, value in enumerate(values):
        here = f"{where}: sections[{index}]"
        if isinstance(value, str):
            value = {"url": value}
        if not isinstance(value, dict):
            raise ConfigError(f"{here}: must be a URL or a table {{url = ..., pages = N}}")
        check_types(value, {"url": str, "pages": int}, here)
        if "url" not in value:
            raise ConfigError(f"{here}: missing required key 'url'")
        pages = value.get("pages", 1)
        if pages < 1:
            raise ConfigError(f"{here}: 'pages' must be at least 1")
        out.append(Section(urljoin(homepage, value["url"]), pages))
    return tuple(out)
