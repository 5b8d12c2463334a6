"""Why a rule matched a text or did not: a typed record that the CLI, the alerts and the web
render, and its plain-text form."""

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
    words: tuple[str, ...]  # the words it matched, folded (shows what a prefix reached)
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


def describe(verdict: Verdict, max_terms: int = 12) -> list[str]:
    """The verdict as a short block of plain lines (no markup)."""
    head = "MATCH" if verdict.matched else "no match: " + "; ".join(verdict.reasons)
    lines = [f"{verdict.rule_id}: {head}", f"  rule: {verdict.expression}"]
    groups = [
        f"{g.name} {g.mentions:g}/{g.minimum}{'' if g.present else ' (absent)'}"
        + (f", {g.excluded} excluded" if g.excluded else "")
        for g in verdict.groups
    ]
    lines.append("  mentions/minimum: " + "; ".join(groups))
    for c in verdict.conditions:
        wanted = "" if c.wanted else " (wanted: no)"
        lines.append(f"  {c.written}: {'yes' if c.holds else 'no'}{wanted}, {_condition_detail(c)}")
    lines.append(f"  score {verdict.score:g}, threshold {verdict.threshold:g}")
    if verdict.terms:
        shown = [_term(t) for t in verdict.terms[:max_terms]]
        more = len(verdict.terms) - max_terms
        lines.append("  fired: " + "; ".join(shown) + (f"; +{more} more" if more > 0 else ""))
    else:
        lines.append("  fired: no term")
    if verdict.excluded:
        lines.append("  excluded: " + "; ".join(_term(t) for t in verdict.excluded))
    return lines


def _term(hit: TermHit) -> str:
    text = hit.label()
    if hit.words and (hit.term.endswith("*") or len(hit.words) > 1):
        text += " [" + ", ".join(hit.words[:4]) + ("…" if len(hit.words) > 4 else "") + "]"
    return text


def _condition_detail(c: Condition) -> str:
    if c.kind is ConditionKind.MORE:
        sign = ">" if c.holds else "≤"
        return f"{c.counts[0]:g} {sign} {c.counts[1]:g}"
    if c.missing:
        return "needs " + ", ".join(c.missing) + " present"
    where = "in one sentence" if c.kind is ConditionKind.SENTENCE else f"within {c.window} words"
    if c.holds:
        return f"{where}: “{c.evidence}”" if c.evidence else where
    if c.kind is ConditionKind.SENTENCE:
        return "no sentence holds them all"
    return f"closest {c.closest} words apart" if c.closest is not None else "never together"
