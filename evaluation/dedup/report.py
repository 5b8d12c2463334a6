"""The evaluation's table and its errors, with the similarity figures behind each."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from evaluation.dedup.documents import Document
from evaluation.dedup.scoring import PairDiagnosis, Scores, diagnose


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_table(results: Sequence[Scores]) -> str:
    head = ["set", "docs", "clusters", "stories", "rows", "true pairs", "pred pairs",
            "precision", "recall", "F1", "false merges", "same-topic FM", "missed pairs"]  # fmt: skip
    body = [
        [r.name, r.documents, r.clusters, r.stories, r.rows, r.true_pairs, r.predicted_pairs,
         r.precision, r.recall, r.f1, len(r.false_merges), r.same_topic_false_merges,
         len(r.missed)]
        for r in results
    ]  # fmt: skip
    cells = [head] + [[_cell(v) for v in row] for row in body]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _best_pair(
    docs: dict[str, Document], left: list[str], right: list[str]
) -> tuple[str, str, PairDiagnosis]:
    pairs = [(a, b, diagnose(docs[a].text, docs[b].text)) for a in left for b in right]
    return max(pairs, key=lambda p: (p[2].est_jaccard, p[2].lead_hits))


def format_details(result: Scores, documents: Sequence[Document], limit: int = 25) -> str:
    docs = {d.id: d for d in documents}
    lines = [f"[{result.name}] joined their cluster's first document, by kind:"]
    for kind, (joined, total) in result.joined_by_kind.items():
        lines.append(f"  {kind:<14} {joined}/{total}")
    if result.merges:
        lines.append(
            f"[{result.name}] false merges: {len(result.merges)} stories hold several clusters"
        )
        for story, groups in list(result.merges.items())[:limit]:
            lines.append(f"  story {story}: " + " + ".join(f"{{{', '.join(g)}}}" for g in groups))
            for x, y in combinations(range(len(groups)), 2):
                a, b, diag = _best_pair(docs, groups[x], groups[y])
                lines.append(f"    {a} ~ {b}: {diag.explain()}")
    if result.splits:
        lines.append(f"[{result.name}] missed: {len(result.splits)} clusters split over stories")
        for cluster, groups in list(result.splits.items())[:limit]:
            lines.append(
                f"  cluster {cluster}: " + " | ".join(f"{{{', '.join(g)}}}" for g in groups)
            )
            for x, y in combinations(range(len(groups)), 2):
                a, b, diag = _best_pair(docs, groups[x], groups[y])
                lines.append(f"    {a} ~ {b}: {diag.explain()}")
                if diag.exact or diag.near_rule or diag.snippet_rule:
                    lines.append(
                        "      (this pair matches on its own: the split comes from the arrival "
                        "order; a document joins one story; only snippet-started stories are merged later)"
                    )
    if not result.merges and not result.splits:
        lines.append(f"[{result.name}] no errors")
    return "\n".join(lines)
