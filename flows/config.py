"""newsmon.toml → typed settings and outlets, with one-line errors that name the bad key."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from extractors.http import ClientSettings
from extractors.records import LakeSettings, Outlet, Section
from extractors.topics import Rule, RuleError, Term
from flows.history_config import TABLES as HISTORY_TABLES
from flows.history_config import HistorySettings, parse_history
from flows.polling import PollPolicy, Schedule
from flows.store_config import WorkerSettings, parse_store, parse_workers

DEFAULT_CONFIG = Path("newsmon.toml")
DEFAULT_DB = Path("data/newsmon.duckdb")


class ConfigError(Exception):
    pass


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
class ChannelSpec:
    """An Apprise URL (secrets inside: never logged) and its Apprise tags. Untagged channels
    are the default for rules that name none; tagged ones serve the rules (and the health news)
    that name one of their tags."""

    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertSettings:
    channels: tuple[ChannelSpec, ...] = ()
    health_channels: tuple[str, ...] = ()  # tags or URLs for health news; () = the default
    window_hours: float = 48.0  # only items published this recently alert
    atom: Path | None = None  # Atom feed of alerts written after each pass
    digest_minutes: float = 0.0  # > 0: one message per channel per period instead of one per alert
    max_attempts: int = 0  # 0 = keep retrying a failing channel (with backoff) forever
    retry_base_s: float = 30.0  # first retry delay; doubles per attempt, at most an hour


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
    rules = tuple(_rule(item, f"{path}: rule[{i}]") for i, item in enumerate(rules_raw))
    if len({r.id for r in rules}) != len(rules):
        raise ConfigError(f"{path}: two rules share an id")
    alerts = _alerts(raw.get("alerts", {}), path)
    _check_targets(alerts, rules, path)
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
    _check_types(table, _SCHEDULE_KEYS, where)
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


_RULE_KEYS = {
    "id": str, "name": str, "match": str, "terms": dict, "min_mentions": (int, dict),
    "title_weight": (int, float), "threshold": (int, float), "alert": bool, "exclude": dict,
    "near_words": int, "channels": list,
}  # fmt: skip
_ALERT_KEYS = {
    "channels": list, "window_hours": (int, float), "atom": str, "digest_minutes": (int, float),
    "health_channels": list,
    "max_attempts": int, "retry_base_s": (int, float),
}  # fmt: skip


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: must be a table")
    if isinstance(item.get("id"), str):
        where = f"{where} ({item['id']})"
    _check_types(item, _RULE_KEYS, where)
    for key in ("id", "match", "terms"):
        if key not in item:
            raise ConfigError(f"{where}: missing required key '{key}'")
    groups = {g: _terms(v, f"{where}: terms.{g}") for g, v in item["terms"].items()}
    exclude = {g: _terms(v, f"{where}: exclude.{g}") for g, v in item.get("exclude", {}).items()}
    channels = item.get("channels", [])
    if not all(isinstance(c, str) and c.strip() for c in channels):
        raise ConfigError(f"{where}: 'channels' must be a list of Apprise URLs or tags")
    if item.get("near_words", 20) < 1:
        raise ConfigError(f"{where}: 'near_words' must be at least 1")
    minimum = item.get("min_mentions", 2)
    per_group = minimum if isinstance(minimum, dict) else {}
    if any(not isinstance(v, int) or isinstance(v, bool) for v in per_group.values()):
        raise ConfigError(f"{where}: 'min_mentions' table values must be whole numbers")
    unknown = set(per_group) - set(groups) - {"default"}
    if unknown:
        raise ConfigError(
            f"{where}: 'min_mentions' names unknown term group '{sorted(unknown)[0]}'"
        )
    try:
        return Rule(
            id=item["id"],
            name=item.get("name", item["id"]),
            expression=item["match"],
            groups=groups,
            min_mentions=per_group.get("default", 2) if per_group else minimum,
            group_min_mentions={k: v for k, v in per_group.items() if k != "default"},
            title_weight=float(item.get("title_weight", 2.0)),
            threshold=float(item.get("threshold", 0.0)),
            alert=item.get("alert", True),
            exclude=exclude,
            near_words=item.get("near_words", 20),
            channels=tuple(dict.fromkeys(c.strip() for c in channels)),
        )
    except RuleError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _terms(by_language: Any, where: str) -> tuple[Term, ...]:
    """A group's terms (or exclusions): one list, or a table of language = [terms]."""
    if isinstance(by_language, list):
        by_language = {"any": by_language}
    if not isinstance(by_language, dict):
        raise ConfigError(f"{where}: must be a table of language = [terms]")
    terms: list[Term] = []
    for language, values in by_language.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{where}.{language}: must be a list of strings")
        try:
            terms += [Term.parse(v) for v in values]
        except RuleError as exc:
            raise ConfigError(f"{where}.{language}: {exc}") from None
    unique = {(t.words, t.stems): t for t in reversed(terms)}  # one term listed in 2 languages
    return tuple(sorted(unique.values(), key=terms.index))


def _alerts(table: Any, path: Path) -> AlertSettings:
    where = f"{path}: [alerts]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    _check_types(table, _ALERT_KEYS, where)
    specs = [_channel(c, where) for c in table.get("channels", [])]
    env = os.environ.get("NEWSMON_NOTIFY", "")
    specs += [ChannelSpec(c) for c in re.split(r"[\s,]+", env) if c]
    health = table.get("health_channels", [])
    if not all(isinstance(c, str) and c.strip() for c in health):
        raise ConfigError(f"{where}: 'health_channels' must be a list of Apprise URLs or tags")
    return AlertSettings(
        channels=tuple(dict.fromkeys(specs)),
        health_channels=tuple(c.strip() for c in health),
        window_hours=float(table.get("window_hours", 48.0)),
        atom=Path(table["atom"]) if table.get("atom") else None,
        digest_minutes=float(table.get("digest_minutes", 0.0)),
        max_attempts=table.get("max_attempts", 0),
        retry_base_s=float(table.get("retry_base_s", 30.0)),
    )


def _channel(item: Any, where: str) -> ChannelSpec:
    if isinstance(item, dict):
        _check_types(item, {"url": str, "tags": list}, f"{where}: a channel")
        url, tags = item.get("url", ""), item.get("tags", [])
        if not all(isinstance(t, str) and re.fullmatch(r"[\w-]+", t) for t in tags):
            raise ConfigError(f"{where}: a channel's 'tags' must be a list of words")
    else:
        url, tags = item, []
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(
            f"{where}: 'channels' must list Apprise URLs (scheme://...) or tables "
            '{ url = "scheme://...", tags = ["..."] }'
        )
    return ChannelSpec(url, tuple(t.strip() for t in tags))


def _check_targets(alerts: AlertSettings, rules: tuple[Rule, ...], path: Path) -> None:
    """Every tag that a rule or the health news names belongs to some channel."""
    known = {t for c in alerts.channels for t in c.tags}
    named = [(f"rule {r.id}", t) for r in rules for t in r.channels]
    named += [("[alerts] health_channels", t) for t in alerts.health_channels]
    for who, target in named:
        if "://" not in target and target not in known:
            raise ConfigError(f"{path}: {who} names channel tag '{target}', which no channel has")


def _check_types(table: dict[str, Any], allowed: dict[str, Any], where: str) -> None:
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


def _settings(table: Any, path: Path) -> Settings:
    where = f"{path}: [settings]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    _check_types(table, _SETTINGS_KEYS, where)
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
    _check_types(item, _OUTLET_KEYS, where)
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
        _check_types(value, {"url": str, "pages": int}, here)
        if "url" not in value:
            raise ConfigError(f"{here}: missing required key 'url'")
        pages = value.get("pages", 1)
        if pages < 1:
            raise ConfigError(f"{here}: 'pages' must be at least 1")
        out.append(Section(urljoin(homepage, value["url"]), pages))
    return tuple(out)
