"""The `[[rule]]` and `[alerts]` tables of newsmon.toml: topic rules with their terms per
language, and the channels alerts and health news go to (Apprise URLs, with tags that rules
name)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractors.topics import Rule, RuleError, Term
from flows.config_checks import ConfigError, check_types


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


def parse_rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: must be a table")
    if isinstance(item.get("id"), str):
        where = f"{where} ({item['id']})"
    check_types(item, _RULE_KEYS, where)
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


def parse_alerts(table: Any, path: Path) -> AlertSettings:
    where = f"{path}: [alerts]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    check_types(table, _ALERT_KEYS, where)
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
        check_types(item, {"url": str, "tags": list}, f"{where}: a channel")
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


def check_targets(alerts: AlertSettings, rules: tuple[Rule, ...], path: Path) -> None:
    """Every tag that a rule or the health news names belongs to some channel."""
    known = {t for c in alerts.channels for t in c.tags}
    named = [(f"rule {r.id}", t) for r in rules for t in r.channels]
    named += [("[alerts] health_channels", t) for t in alerts.health_channels]
    for who, target in named:
        if "://" not in target and target not in known:
            raise ConfigError(f"{path}: {who} names channel tag '{target}', which no channel has")
