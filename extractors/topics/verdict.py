"""Why a rule matched a text or did not, in plain text (the record is
extractors.records.Verdict, which the web renders its own way)."""

from __future__ import annotations

from extractors.records.topics import Condition, ConditionKind, TermHit, Verdict


def describe(verdict: Verdict, max_terms: int = 12) -> list[str]:
    """The verdict as a short block of plain lines (no markup)."""
    head = "MATCH" if verdict.matched else "no match: " + "; ".join(verdict.reasons)
    # A long expression may be written over several lines of the config: one line here.
    lines = [f"{verdict.rule_id}: {head}", "  rule: " + " ".join(verdict.expression.split())]
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
