"""Explainable topic rules: named term groups in several languages, combined with AND/OR/NOT.

A rule fires when its expression holds over the groups that reach `min_mentions` and the
total weighted mentions reach `threshold`. Every match keeps the terms that fired and how often,
so a user can see why an article matched.

Matching folds case and diacritics (Ə/ə, İ/ı, ё, é all compare with their plain letters) and
works on whole words: `Baku` does not fire inside `Bakunin`. A trailing `*` makes a term a
prefix, for inflection and suffixes (`Азербайджан*`, `Rusiya*`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, fields

_TOKEN = re.compile(r"\w+", re.UNICODE)
_LETTERS = str.maketrans({"ı": "i", "ə": "e", "ß": "ss"})


class RuleError(ValueError):
    """A rule that cannot be compiled (one-line message)."""


def fold(text: str) -> str:
    """Lower case without diacritics: what terms and texts are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_LETTERS)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


@dataclass(frozen=True)
class Term:
    label: str  # as the user wrote it
    words: tuple[str, ...]  # folded
    prefix: bool  # last word is a prefix

    @classmethod
    def parse(cls, raw: str) -> Term:
        text = raw.strip()
        prefix = text.endswith("*")
        words = tuple(tokens(text.rstrip("*")))
        if not words:
            raise RuleError(f"term '{raw}' has no letters")
        return cls(text, words, prefix)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    expression: str
    groups: dict[str, tuple[Term, ...]]
    min_mentions: int = 2
    group_min_mentions: dict[str, int] = field(default_factory=dict)  # per-group overrides
    near_words: int = 20  # how close `a NEAR b` mentions must be
    title_weight: float = 2.0
    threshold: float = 0.0
    alert: bool = True
    _ast: tuple = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        ast = _Parser(self.expression, set(self.groups)).parse()
        object.__setattr__(self, "_ast", ast)

    def signature(self) -> str:
        """Changes whenever anything that affects scoring changes (to know what to re-score, and
        to give workers the new rules). Built from every field but those named in
        `_NOT_SCORING`, so a field added later is part of it unless said otherwise."""
        parts = []
        for f in fields(self):
            if f.name in _NOT_SCORING:
                continue
            value = getattr(self, f.name)
            if f.name == "groups":
                value = {name: sorted(map(repr, terms)) for name, terms in sorted(value.items())}
            elif isinstance(value, dict):
                value = sorted(value.items())
            parts.append(f"{f.name}={value!r}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


# What a rule is called, whether it alerts and its compiled form do not change any score.
_NOT_SCORING = frozenset({"id", "name", "alert", "_ast"})


@dataclass(frozen=True)
class TopicMatch:
    rule_id: str
    matched: bool
    score: float
    terms: list[str]  # "group: term ×count", strongest first
    groups: dict[str, float]  # weighted mentions per group


class _Text:
    """A text tokenised once, answering term counts quickly."""

    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self.counts = Counter(self.tokens)
        self._by_start: dict[str, list[str]] = {}
        for token in self.counts:
            self._by_start.setdefault(token[:3], []).append(token)
        self._positions: dict[str, list[int]] | None = None

    def positions(self, term: Term) -> set[int]:
        """Where the term starts in the text (token positions)."""
        if self._positions is None:
            self._positions = {}
            for i, token in enumerate(self.tokens):
                self._positions.setdefault(token, []).append(i)
        first = term.words[0]
        if len(term.words) == 1 and term.prefix:
            starts = [
                p
                for t in self._by_start.get(first[:3], [])
                if t.startswith(first) and (len(first) >= 3 or t == first)
                for p in self._positions[t]
            ]
            return set(starts)
        if len(term.words) == 1:
            return set(self._positions.get(first, []))
        found = set()
        n = len(term.words)
        for start in self._positions.get(first, []):
            window = self.tokens[start : start + n]
            if len(window) < n or window[: n - 1] != list(term.words[: n - 1]):
                continue
            last = window[-1]
            if last == term.words[-1] or (term.prefix and last.startswith(term.words[-1])):
                found.add(start)
        return found


def score(rule: Rule, title: str | None, text: str) -> TopicMatch:
    body, head = _Text(text), _Text(title or "")
    group_mentions: dict[str, float] = {}
    group_positions: dict[str, list[int]] = {}
    fired: list[tuple[float, str]] = []
    for name, terms in rule.groups.items():
        # A word matched by two terms of a group (Kreml* and Kremlin*) is one mention.
        seen_body: set[int] = set()
        seen_title: set[int] = set()
        for term in terms:
            in_body = body.positions(term) - seen_body
            in_title = head.positions(term) - seen_title
            seen_body |= in_body
            seen_title |= in_title
            weighted = len(in_body) + rule.title_weight * len(in_title)
            if weighted:
                where = f" (title ×{len(in_title)})" if in_title else ""
                fired.append(
                    (weighted, f"{name}: {term.label} ×{len(in_body) + len(in_title)}{where}")
                )
        group_mentions[name] = len(seen_body) + rule.title_weight * len(seen_title)
        # The title counts as one place near everything in it (position -1000).
        group_positions[name] = sorted(seen_body) + ([-1000] if seen_title else [])
    present = {
        name: m >= rule.group_min_mentions.get(name, rule.min_mentions)
        for name, m in group_mentions.items()
    }
    total = sum(group_mentions.values())
    context = _Context(group_mentions, present, group_positions, rule.near_words)
    matched = _evaluate(rule._ast, context) and total >= rule.threshold
    fired.sort(key=lambda x: (-x[0], x[1]))
    return TopicMatch(rule.id, matched, round(total, 2), [t for _, t in fired], group_mentions)


# -- boolean expressions over group names ---------------------------------------------------


class _Parser:
    """expr := term (OR term)* ; term := near (AND near)* ; near := compare (NEAR compare)* ;
    compare := factor [> factor] ; factor := NOT factor | (expr) | name

    `a > b`: group a has more (weighted) mentions than group b."""

    def __init__(self, text: str, names: set[str]) -> None:
        self.items = re.findall(r"\(|\)|>|[\w-]+", text)
        self.names = names
        self.pos = 0
        self.text = text

    def parse(self) -> tuple:
        if not self.items:
            raise RuleError("empty match expression")
        node = self._expr()
        if self.pos != len(self.items):
            raise RuleError(
                f"unexpected '{self.items[self.pos]}' in match expression '{self.text}'"
            )
        return node

    def _peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def _take(self) -> str:
        item = self._peek()
        if item is None:
            raise RuleError(f"match expression '{self.text}' ends too early")
        self.pos += 1
        return item

    def _expr(self) -> tuple:
        node = self._term()
        while (self._peek() or "").upper() == "OR":
            self._take()
            node = ("or", node, self._term())
        return node

    def _term(self) -> tuple:
        node = self._near()
        while (self._peek() or "").upper() == "AND":
            self._take()
            node = ("and", node, self._near())
        return node

    def _near(self) -> tuple:
        node = self._compare()
        while (self._peek() or "").upper() == "NEAR":
            self._take()
            right = self._compare()
            if node[0] != "group" or right[0] != "group":
                raise RuleError(f"NEAR joins two term groups, in match expression '{self.text}'")
            node = ("near", node[1], right[1])
        return node

    def _compare(self) -> tuple:
        node = self._factor()
        if self._peek() == ">":
            self._take()
            right = self._factor()
            if node[0] != "group" or right[0] != "group":
                raise RuleError(f"'>' compares two term groups, in match expression '{self.text}'")
            return ("more", node[1], right[1])
        return node

    def _factor(self) -> tuple:
        item = self._take()
        if item.upper() == "NOT":
            return ("not", self._factor())
        if item == "(":
            node = self._expr()
            if self._take() != ")":
                raise RuleError(f"missing ')' in match expression '{self.text}'")
            return node
        if item not in self.names:
            raise RuleError(f"match expression names unknown term group '{item}'")
        return ("group", item)


@dataclass(frozen=True)
class _Context:
    mentions: dict[str, float]
    present: dict[str, bool]
    positions: dict[str, list[int]]
    near_words: int


def _near(a: list[int], b: list[int], window: int) -> bool:
    """Some mention of `a` within `window` words of some mention of `b` (sorted lists)."""
    i = j = 0
    while i < len(a) and j < len(b):
        if abs(a[i] - b[j]) <= window:
            return True
        if a[i] < b[j]:
            i += 1
        else:
            j += 1
    return False


def _evaluate(node: tuple, ctx: _Context) -> bool:
    kind = node[0]
    if kind == "group":
        return ctx.present[node[1]]
    if kind == "not":
        return not _evaluate(node[1], ctx)
    if kind == "more":
        return ctx.mentions[node[1]] > ctx.mentions[node[2]]
    if kind == "near":
        a, b = node[1], node[2]
        return (
            ctx.present[a]
            and ctx.present[b]
            and _near(ctx.positions[a], ctx.positions[b], ctx.near_words)
        )
    left, right = _evaluate(node[1], ctx), _evaluate(node[2], ctx)
    return left and right if kind == "and" else left or right
