"""Verdicts: why a topic rule matched a text or did not (rendered by the CLI, the alerts and
the web), and what of a report survives translation (to join one event's reports across
languages)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class TermHit:
    """A term that fired (or, in `Verdict.excluded`, an exclusion that cancelled mentions)."""

    group: str
    term: str  # as written in the rule
    body: int  # mentions in the text
    title: int  # mentions in the title
    words: tuple[str, ...]  # the words it matched, as written (shows what a prefix reached)
    weight: float  # body + title_weight * title

    def label(self) -> str:
        """The form stored in `article_topics.terms`: `group: term ×n (title ×k)`."""
        where = f" (title ×{self.title})" if self.title else ""
        return f"{self.group}: {self.term} ×{self.body + self.title}{where}"


@dataclass(frozen=True)
class GroupCount:
    name: str
    mentions: float  # weighted: a title mention counts title_weight times
    minimum: int
    excluded: int  # mentions that an exclusion cancelled

    @property
    def present(self) -> bool:
        return self.mentions >= self.minimum


class ConditionKind(StrEnum):
    NEAR = "near"  # groups within a window of words
    SENTENCE = "sentence"  # groups in one sentence
    MORE = "more"  # one group has more mentions than another


@dataclass(frozen=True)
class Condition:
    """One NEAR or `>` of the expression, with its outcome and the evidence for it."""

    kind: ConditionKind
    written: str  # as in the expression, e.g. `azerbaijan NEAR/s russia NEAR/s relations`
    groups: tuple[str, ...]
    holds: bool
    wanted: bool  # the outcome that favours a match (False under NOT)
    counts: tuple[float, ...] = ()  # MORE: mentions of each side
    window: int | None = None  # NEAR: the most words allowed between the mentions
    closest: int | None = None  # NEAR: the tightest span found holding every group (words)
    missing: tuple[str, ...] = ()  # NEAR: groups below their minimum
    evidence: str = ""  # the sentence(s) where the groups meet


@dataclass(frozen=True)
class Verdict:
    rule_id: str
    expression: str
    matched: bool
    expression_holds: bool
    score: float  # all groups' weighted mentions together
    threshold: float
    groups: tuple[GroupCount, ...]
    conditions: tuple[Condition, ...]
    terms: tuple[TermHit, ...]  # strongest first
    excluded: tuple[TermHit, ...]
    reasons: tuple[str, ...]  # why there is no match, read along the expression (empty: match)


@dataclass(frozen=True)
class EventKey:
    language: str
    names: frozenset[str]  # consonant skeletons of capitalised words
    numbers: frozenset[str]  # figures of two or more digits


@dataclass(frozen=True)
class EventMatch:
    same: bool
    score: float
    shared: tuple[str, ...]  # the features both keys carry, rarest first
