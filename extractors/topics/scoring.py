"""Scoring a text against a rule: mentions per group (exclusions applied), the expression, and
the verdict that says why.

A rule fires when its expression holds over the groups that reach their minimum mentions and
the total weighted mentions reach `threshold`. `score` is what the pipeline stores for every
article; `explain` returns the full `Verdict` for people (same decision, plus the evidence).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import sentencex

from extractors.records.topics import Condition, ConditionKind, GroupCount, TermHit, Verdict
from extractors.topics.language import And, Group, More, Near, Node, Not, Or, Rule, Scope, Term
from extractors.topics.language import tokens as fold_tokens

_WORD = re.compile(r"\w+")
TITLE = -1  # the title is a place of its own: one sentence, and one spot for NEAR
EVIDENCE_CHARS = 240


@dataclass(frozen=True)
class TopicMatch:
    rule_id: str
    matched: bool
    score: float
    terms: list[str]  # "group: term ×count", strongest first
    groups: dict[str, float]  # weighted mentions per group


class _Text:
    """A text tokenised once, answering term positions quickly; sentences on demand."""

    def __init__(self, text: str, language: str | None) -> None:
        self.text = text
        self.language = language or "en"
        self.tokens = fold_tokens(text)
        self._by_start: dict[str, list[str]] = {}
        for token in set(self.tokens):
            self._by_start.setdefault(token[:3], []).append(token)
        self._positions: dict[str, list[int]] | None = None
        self._sentences: tuple[list[int], list[str]] | None = None
        self._written: list[str] | None = None

    def written(self, start: int, n: int) -> str:
        """Words `start`..`start+n` as the text has them (folded if the two tokenisations differ)."""
        if self._written is None:
            original = _WORD.findall(self.text)
            self._written = original if len(original) == len(self.tokens) else self.tokens
        return " ".join(self._written[start : start + n])

    def positions(self, term: Term) -> list[int]:
        """Where the term starts in the text (token positions, ascending)."""
        starts = self._at(term.words[0], term.stems[0])
        n = len(term.words)
        if n == 1:
            return starts
        found = []
        for start in starts:
            window = self.tokens[start + 1 : start + n]
            if len(window) == n - 1 and all(
                token == word or (stem and token.startswith(word))
                for token, word, stem in zip(window, term.words[1:], term.stems[1:], strict=True)
            ):
                found.append(start)
        return found

    def _at(self, word: str, stem: bool) -> list[int]:
        """Positions of a word, or of every word it begins when it is a stem (of 3 letters or
        more: a shorter stem would reach too many words)."""
        if self._positions is None:
            self._positions = {}
            for i, token in enumerate(self.tokens):
                self._positions.setdefault(token, []).append(i)
        if not stem or len(word) < 3:
            return self._positions.get(word, [])
        return sorted(
            p
            for t in self._by_start.get(word[:3], [])
            if t.startswith(word)
            for p in self._positions[t]
        )

    def sentence_of(self, position: int) -> int:
        return self._split()[0][position]

    def sentence(self, index: int) -> str:
        return self._split()[1][index]

    def _split(self) -> tuple[list[int], list[str]]:
        """Sentence number of every token, and the sentences as written. sentencex (Wikimedia)
        knows each language's abbreviations and initials (`В. Путин`, `Mr.`)."""
        if self._sentences is None:
            owner: list[int] = []
            texts: list[str] = []
            for piece in sentencex.segment(self.language, self.text):
                count = len(fold_tokens(piece))
                if count:
                    owner += [len(texts)] * count
                    texts.append(" ".join(piece.split()))
            # Tokenising sentence by sentence should give the same tokens; if not, the rest of
            # the text is one more sentence rather than an index error.
            owner = owner[: len(self.tokens)] + [len(texts)] * (len(self.tokens) - len(owner))
            self._sentences = (owner, texts + [""])
        return self._sentences


@dataclass
class _Mentions:
    """One group's mentions: positions in the body, in the title, and which terms fired."""

    body: list[int]
    title: list[int]
    hits: list[TermHit]
    excluded: list[TermHit]


def _group_mentions(name: str, rule: Rule, body: _Text, head: _Text, explain: bool) -> _Mentions:
    cancelled_body: dict[int, Term] = {}
    cancelled_title: dict[int, Term] = {}
    for term in rule.exclude.get(name, ()):
        for text, cancelled in ((body, cancelled_body), (head, cancelled_title)):
            for start in text.positions(term):
                for p in range(start, start + len(term.words)):
                    cancelled.setdefault(p, term)
    covered_body: set[int] = set()
    covered_title: set[int] = set()
    starts_body: list[int] = []
    starts_title: list[int] = []
    hits: list[TermHit] = []
    dropped: Counter[tuple[Term, bool]] = Counter()
    # Words matched by two terms of a group (Kreml* and Kremlin*, "rəsmi Bakı" and Bakı*) are
    # one mention, claimed by the longer term.
    for term in sorted(rule.groups[name], key=lambda t: -len(t.words)):
        found = []
        for text, covered, starts, cancelled, in_title in (
            (body, covered_body, starts_body, cancelled_body, False),
            (head, covered_title, starts_title, cancelled_title, True),
        ):
            n = len(term.words)
            new = [p for p in text.positions(term) if covered.isdisjoint(range(p, p + n))]
            for p in new:
                if p in cancelled:
                    dropped[(cancelled[p], in_title)] += 1
            kept = [p for p in new if p not in cancelled]
            for p in kept:
                covered.update(range(p, p + n))
            starts += kept
            found.append(kept)
        in_body, in_title = found
        if in_body or in_title:
            words = _words(term, (body, in_body), (head, in_title)) if explain else ()
            weight = len(in_body) + rule.title_weight * len(in_title)
            hits.append(TermHit(name, term.label, len(in_body), len(in_title), words, weight))
    excluded = []
    for term in dict.fromkeys(t for t, _ in dropped):
        b, t = dropped[(term, False)], dropped[(term, True)]
        excluded.append(TermHit(name, term.label, b, t, (), b + rule.title_weight * t))
    return _Mentions(sorted(starts_body), sorted(starts_title), hits, excluded)


def _words(term: Term, *found: tuple[_Text, list[int]]) -> tuple[str, ...]:
    n = len(term.words)
    counts = Counter(text.written(p, n) for text, starts in found for p in starts)
    return tuple(w for w, _ in counts.most_common())


class _Judge:
    """Evaluates an expression over a text's mentions, keeping each NEAR and `>` it met."""

    def __init__(self, rule: Rule, mentions: dict[str, _Mentions], body: _Text, explain: bool):
        self.rule = rule
        self.mentions = mentions
        self.body = body
        self.explain = explain
        self.weighted = {
            name: len(m.body) + rule.title_weight * len(m.title) for name, m in mentions.items()
        }
        self.conditions: list[Condition] = []
        self.outcome: dict[int, bool] = {}  # id(node) -> value
        self._negated = False

    def present(self, name: str) -> bool:
        return self.weighted[name] >= self.rule.minimum(name)

    def holds(self, node: Node) -> bool:
        value = self._holds(node)
        self.outcome[id(node)] = value
        return value

    def _holds(self, node: Node) -> bool:
        # Every branch is evaluated (no short cut) so that the verdict lists every condition.
        if isinstance(node, Group):
            return self.present(node.name)
        if isinstance(node, Not):
            self._negated = not self._negated
            value = not self.holds(node.node)
            self._negated = not self._negated
            return value
        if isinstance(node, And):
            left, right = self.holds(node.left), self.holds(node.right)
            return left and right
        if isinstance(node, Or):
            left, right = self.holds(node.left), self.holds(node.right)
            return left or right
        if isinstance(node, More):
            counts = (self.weighted[node.left], self.weighted[node.right])
            holds = counts[0] > counts[1]
            written = f"{node.left} > {node.right}"
            self.conditions.append(
                Condition(
                    ConditionKind.MORE,
                    written,
                    (node.left, node.right),
                    holds,
                    not self._negated,
                    counts,
                )  # fmt: skip
            )
            return holds
        return self.near(node)

    def near(self, node: Near) -> bool:
        written = node.written(self.rule.near_words)
        missing = tuple(g for g in node.groups if not self.present(g))
        if node.scope is Scope.SENTENCE:
            kind, window = ConditionKind.SENTENCE, None
            place = None if missing else self._same_sentence(node.groups, node.without)
            holds = place is not None
            closest = None
        else:
            kind, window = ConditionKind.NEAR, node.words or self.rule.near_words
            place = None if missing else self._tightest(node.groups, node.without)
            closest = None if place is None else place[1] - place[0]
            holds = closest is not None and closest <= window
        evidence = self._evidence(place) if holds and self.explain and place else ""
        self.conditions.append(
            Condition(
                kind,
                written,
                node.groups,
                holds,
                not self._negated,
                (),
                window,
                closest,
                missing,
                evidence,
            )  # fmt: skip
        )
        return holds

    def blame(self, node: Node, want: bool = True) -> list[str]:
        """Why `node` is not `want`: the leaves of the expression that decided it."""
        if self.outcome[id(node)] == want:
            return []
        if isinstance(node, Not):
            return self.blame(node.node, not want)
        if isinstance(node, And | Or):
            # An AND that should hold, or an OR that should not, fails through each culprit.
            parts = [self.blame(node.left, want), self.blame(node.right, want)]
            return [r for part in parts for r in part]
        if isinstance(node, Group):
            n, low = self.weighted[node.name], self.rule.minimum(node.name)
            return [f"{node.name} {n:g} < {low}" if want else f"{node.name} {n:g} ≥ {low}"]
        if isinstance(node, More):
            a, b = self.weighted[node.left], self.weighted[node.right]
            return [f"{node.left} {a:g} {'≤' if want else '>'} {node.right} {b:g}"]
        written = node.written(self.rule.near_words)
        missing = [g for g in node.groups if not self.present(g)]
        if want and missing:
            lows = [f"{g} {self.weighted[g]:g} < {self.rule.minimum(g)}" for g in missing]
            return [f"{written}: " + ", ".join(lows)]
        return [f"{written}: {'not together' if want else 'together'}"]

    def _same_sentence(
        self, groups: tuple[str, ...], without: tuple[str, ...]
    ) -> tuple[int, int] | None:
        """The first sentence (as a span of token positions) holding a mention of each group and
        none of `without`."""
        if all(self.mentions[g].title for g in groups) and not any(
            self.mentions[g].title for g in without
        ):
            return (TITLE, TITLE)
        per_group = []
        for g in groups:
            per_group.append({self.body.sentence_of(p): p for p in self.mentions[g].body})
        barred = {self.body.sentence_of(p) for g in without for p in self.mentions[g].body}
        common = set.intersection(*(set(s) for s in per_group)) - barred
        if not common:
            return None
        first = min(common)
        spots = [s[first] for s in per_group]
        return (min(spots), max(spots))

    def _tightest(
        self, groups: tuple[str, ...], without: tuple[str, ...]
    ) -> tuple[int, int] | None:
        """The narrowest span of body positions holding a mention of every group and none of
        `without` (0 when the title names them all and none of `without`)."""
        if all(self.mentions[g].title for g in groups) and not any(
            self.mentions[g].title for g in without
        ):
            return (TITLE, TITLE)
        # A span may not cross a mention of `without`: look between them, piece by piece.
        bars = sorted(p for g in without for p in self.mentions[g].body)
        spans = [
            self._tightest_between(groups, low, high)
            for low, high in zip([-1, *bars], [*bars, len(self.body.tokens)], strict=True)
        ]
        found = [s for s in spans if s is not None]
        return min(found, key=lambda s: s[1] - s[0]) if found else None

    def _tightest_between(
        self, groups: tuple[str, ...], low: int, high: int
    ) -> tuple[int, int] | None:
        """`_tightest` over the body positions strictly between `low` and `high`."""
        events = sorted((p, g) for g in groups for p in self.mentions[g].body if low < p < high)
        have: Counter[str] = Counter()
        best: tuple[int, int] | None = None
        left = 0
        for p, g in events:
            have[g] += 1
            while len(have) == len(groups):
                start, first = events[left]
                if best is None or p - start < best[1] - best[0]:
                    best = (start, p)
                have[first] -= 1
                if not have[first]:
                    del have[first]
                left += 1
        return best

    def _evidence(self, place: tuple[int, int]) -> str:
        if place[0] == TITLE:
            return "(the title)"
        first, last = self.body.sentence_of(place[0]), self.body.sentence_of(place[1])
        text = " ".join(self.body.sentence(i) for i in range(first, last + 1))
        return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "…"


def _judge(
    rule: Rule, title: str | None, text: str, language: str | None, explain: bool
) -> tuple[_Judge, bool, float]:
    body, head = _Text(text, language), _Text(title or "", language)
    mentions = {name: _group_mentions(name, rule, body, head, explain) for name in rule.groups}
    judge = _Judge(rule, mentions, body, explain)
    holds = judge.holds(rule.ast)
    total = round(sum(judge.weighted.values()), 2)
    return judge, holds, total


def _strongest(judge: _Judge) -> list[TermHit]:
    hits = [h for m in judge.mentions.values() for h in m.hits]
    return sorted(hits, key=lambda h: (-h.weight, h.label()))


def score(rule: Rule, title: str | None, text: str, language: str | None = None) -> TopicMatch:
    """How the text scores against the rule (what is stored for every article)."""
    judge, holds, total = _judge(rule, title, text, language, explain=False)
    matched = holds and total >= rule.threshold
    terms = [h.label() for h in _strongest(judge)]
    return TopicMatch(rule.id, matched, total, terms, dict(judge.weighted))


def explain(rule: Rule, title: str | None, text: str, language: str | None = None) -> Verdict:
    """The same decision as `score`, with every group's mentions against its minimum, every NEAR
    and `>` with its outcome and evidence, the score against the threshold and what fired."""
    judge, holds, total = _judge(rule, title, text, language, explain=True)
    groups = tuple(
        GroupCount(name, judge.weighted[name], rule.minimum(name), _cancelled(m))
        for name, m in judge.mentions.items()
    )
    excluded = tuple(h for m in judge.mentions.values() for h in m.excluded)
    reasons = judge.blame(rule.ast)
    if total < rule.threshold:
        reasons.append(f"score {total:g} < threshold {rule.threshold:g}")
    return Verdict(
        rule.id, rule.expression, holds and total >= rule.threshold, holds, total,
        rule.threshold, groups, tuple(judge.conditions), tuple(_strongest(judge)), excluded,
        tuple(reasons),
    )  # fmt: skip


def _cancelled(m: _Mentions) -> int:
    return sum(h.body + h.title for h in m.excluded)
