"""How well story deduplication groups copies of one story, measured on labelled documents.

Every document becomes one article in a fresh temporary DuckDB store, written the way the
pipeline writes (several runs, one `Batch` per outlet and run, in a seeded shuffled order), so
the real `StoryAssigner` places it. Then every pair of documents is scored: predicted "same
story" = same `story_id` in the store (a same-outlet repost that became a URL alias counts
under the article it points to), truth = same `cluster` label. Reported: pairwise precision,
recall and F1, the false merges (pairs of different clusters put into one story), the missed
pairs, and how many false merges join two documents of one topic (different articles about the
same events, which is where a deduplicator is most tempted to merge).

The labelled set lives in `tests/dedup_eval/` (see its README); `tests/dedup_eval/build.py`
regenerates its syndication variants with the transformations in variants.py. When the shared
corpora are present (`../shared/corpora` next to the repository, or a path given), the set is
extended at run time with real texts read from there, never copied into the project: the 28
azernews.az articles and a sample of fundus ground-truth bodies (Russian and English), as extra
distinct documents plus variants generated from a seeded subset of them.

    python -m evaluation.dedup [--corpora PATH] [--seed N] [--orders N]   (make eval-dedup)

documents.py: the labelled set; variants.py: syndication variants; corpora.py: real texts
from ../shared/corpora; scoring.py: ingest and pairwise scores; report.py and __main__.py: the report.
"""
