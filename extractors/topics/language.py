"""The rule language: terms, term groups with exclusions, and expressions over the groups.

Matching folds case and diacritics (Ə/ə, İ/ı, ё, é all compare with their plain letters) and
works on whole words: `Baku` does not fire inside `Bakunin`. A `*` after a word makes it a
prefix, for inflection and suffixes (`Азербайджан*`, `Rusiya*`), in a phrase too
(`российск* сторон*` is «российская сторона» and «российской стороны»). A group's exclusions
are phrases in the same syntax: a mention that starts inside one of them does not count, which
tells the Russian language from Russia (`Russian language*`, `rus dil*`) and keeps a prefix from
reaching other words (`visit*` with the exclusion `visitor*`).

Expressions: `a AND b`, `a OR b`, `NOT a`, parentheses, `a > b` (more mentions), and proximity:
`a NEAR b` (within the rule's `near_words`), `a NEAR/12 b` (within 12 words), `a NEAR/s b` (in
one sentence). A chain `a NEAR/s b NEAR/s c` asks for one place that holds all of them; `NOT c`
in a chain asks that the place hold none of c (`a NEAR/s b NEAR/s NOT c`: a sentence naming a
and b and no third party).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, fields
from enum import StrEnum

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
    stems: tuple[bool, ...]  # per word: a prefix (written with `*`)

    @classmethod
    def parse(cls, raw: str) -> Term:
        text = raw.strip()
        words: list[str] = []
        stems: list[bool] = []
        for chunk in text.split():
            found = tokens(chunk.rstrip("*"))
            words += found
            stems += [False] * len(found)
            if found and chunk.endswith("*"):
                stems[-1] = True
        if not words:
            raise RuleError(f"term '{raw}' has no letters")
        return cls(text, tuple(words), tuple(stems))


# -- expressions ------------------------------------------------------------------------------


class Scope(StrEnum):
    WORDS = "words"  # within a number of words
    SENTENCE = "sentence"  # in one sentence


@dataclass(frozen=True)
class Group:
    name: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class More:
    """`a > b`: group a has more (weighted) mentions than group b."""

    left: str
    right: str


@dataclass(frozen=True)
class Near:
    """Every group present, and one place (a window of words, or a sentence) holding a mention of
    each and no mention of the groups in `without`. `words` None: the rule's `near_words`."""

    groups: tuple[str, ...]
    scope: Scope
    words: int | None = None
    without: tuple[str, ...] = ()

    def written(self, near_words: int) -> str:
        op = "NEAR/s" if self.scope is Scope.SENTENCE else f"NEAR/{self.words or near_words}"
        return f" {op} ".join([*self.groups, *(f"NOT {g}" for g in self.without)])


Node = Group | Not | And | Or | More | Near


class _Parser:
    """expr := and (OR and)* ; and := near (AND near)* ; near := compare (NEAR[/n|/s] compare)* ;
    compare := factor [> factor] ; factor := NOT factor | (expr) | name"""

    def __init__(self, text: str, names: set[str]) -> None:
        self.items = re.findall(r"\(|\)|>|NEAR/\w+|[\w-]+", text, re.IGNORECASE)
        self.names = names
        self.pos = 0
        self.text = text

    def parse(self) -> Node:
        if not self.items:
            raise RuleError("empty match expression")
        node = self._expr()
        if self.pos != len(self.items):
            raise self._error(f"unexpected '{self.items[self.pos]}'")
        return node

    def _error(self, what: str) -> RuleError:
        return RuleError(f"{what} in match expression '{self.text}'")

    def _peek(self) -> str:
        return self.items[self.pos].upper() if self.pos < len(self.items) else ""

    def _take(self) -> str:
        if self.pos >= len(self.items):
            raise RuleError(f"match expression '{self.text}' ends too early")
        self.pos += 1
        return self.items[self.pos - 1]

    def _expr(self) -> Node:
        node = self._and()
        while self._peek() == "OR":
            self._take()
            node = Or(node, self._and())
        return node

    def _and(self) -> Node:
        node = self._near()
        while self._peek() == "AND":
            self._take()
            node = And(node, self._near())
        return node

    def _near(self) -> Node:
        node = self._compare()
        ops: list[tuple[Scope, int | None]] = []
        operands = [node]
        while self._peek() == "NEAR" or self._peek().startswith("NEAR/"):
            ops.append(self._near_op(self._take()))
            operands.append(self._compare())
        if not ops:
            return node
        if len(set(ops)) > 1:
            raise self._error("a chain of NEAR needs one distance throughout")
        names = tuple(o.name for o in operands if isinstance(o, Group))
        without = tuple(
            o.node.name for o in operands if isinstance(o, Not) and isinstance(o.node, Group)
        )
        if len(names) + len(without) != len(operands):
            raise self._error("NEAR joins term groups (or NOT and a group)")
        if not names:
            raise self._error("NEAR needs a term group that is not negated")
        return Near(names, *ops[0], without)

    def _near_op(self, item: str) -> tuple[Scope, int | None]:
        _, _, arg = item.partition("/")
        if not arg:
            return Scope.WORDS, None
        if arg.lower() == "s":
            return Scope.SENTENCE, None
        if arg.isdigit() and int(arg) > 0:
            return Scope.WORDS, int(arg)
        raise self._error(f"'{item}' is not NEAR, NEAR/<words> or NEAR/s")

    def _compare(self) -> Node:
        node = self._factor()
        if self._peek() == ">":
            self._take()
            right = self._factor()
            if not isinstance(node, Group) or not isinstance(right, Group):
                raise self._error("'>' compares two term groups")
            return More(node.name, right.name)
        return node

    def _factor(self) -> Node:
        item = self._take()
        if item.upper() == "NOT":
            return Not(self._factor())
        if item == "(":
            node = self._expr()
            if self._take() != ")":
                raise self._error("missing ')'")
            return node
        if item not in self.names:
            raise RuleError(f"match expression names unknown term group '{item}'")
        return Group(item)


# -- rules ------------------------------------------------------------------------------------


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
    exclude: dict[str, tuple[Term, ...]] = field(default_factory=dict)  # per group
    channels: tuple[str, ...] = ()  # where its alerts go (Apprise URLs or tags); () = the default
    ast: Node = field(default=Group(""), compare=False, repr=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.exclude) - set(self.groups))
        if unknown:
            raise RuleError(f"exclusions name unknown term group '{unknown[0]}'")
        object.__setattr__(self, "ast", _Parser(self.expression, set(self.groups)).parse())

    def minimum(self, group: str) -> int:
        return self.group_min_mentions.get(group, self.min_mentions)

    def signature(self) -> str:
        """Changes whenever anything that affects scoring changes (to know what to re-score, and
        to give workers the new rules). Built from every field but those named in
        `_NOT_SCORING`, so a field added later is part of it unless said otherwise."""
        parts = []
        for f in fields(self):
            if f.name in _NOT_SCORING:
                continue
            value = getattr(self, f.name)
            if f.name in ("groups", "exclude"):
                value = {name: sorted(map(repr, terms)) for name, terms in sorted(value.items())}
            elif isinstance(value, dict):
                value = sorted(value.items())
            parts.append(f"{f.name}={value!r}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


# What a rule is called, whether and where it alerts, and its compiled form change no score.
_NOT_SCORING = frozenset({"id", "name", "alert", "channels", "ast"})
