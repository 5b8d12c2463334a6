"""Explainable topic rules: named term groups in several languages, combined with AND, OR, NOT,
`>` and NEAR, with exclusions per group. Every verdict can say why (`explain`).

- `language`: terms, exclusions, expressions and the `Rule` (what a rule is).
- `scoring`: a text against a rule (`score` for storage, `explain` for people).
- `verdict`: the explanation's plain-text form (`describe`); the record is
  `extractors.records.Verdict`.
"""

from extractors.records.topics import Condition, ConditionKind, GroupCount, TermHit, Verdict
from extractors.topics.language import Rule, RuleError, Term, fold, tokens
from extractors.topics.scoring import TopicMatch, explain, score
from extractors.topics.verdict import describe

__all__ = [
    "Condition", "ConditionKind", "GroupCount", "Rule", "RuleError", "Term", "TermHit",
    "TopicMatch", "Verdict", "describe", "explain", "fold", "score", "tokens",
]  # fmt: skip
