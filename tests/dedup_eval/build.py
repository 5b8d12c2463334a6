"""Regenerate the labelled deduplication set: `variants/*.txt` and `labels.json`.

    .venv/bin/python -m tests.dedup_eval.build                 # variants + labels from the texts
    .venv/bin/python -m tests.dedup_eval.build --refresh-base  # also re-extract base/ and real/

Inputs (committed): `base/` (the nine demo articles as the pipeline extracts them),
`real/` (article bodies and wire snippets cut from the project seeds), `distinct/` (texts
written for this set). Everything below is the ground truth; the transformations live in
`evaluation.dedup.variants` and are seeded per document, so a rebuild is byte-identical and adding a
document does not change the others. See README.md for what the set contains and why.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from evaluation.dedup.documents import SAME_TOPIC, Document
from evaluation.dedup.variants import make_variant

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
SEED = 20250708
AZ_RU = SAME_TOPIC

# The nine demo articles (flows/demo/manifest.toml); five of them are the seed pages' articles.
# key: (file in base/, outlet, outlet's display name, title, language, topic, author, source)
BASES = {
    "russian-house-reciprocity": ("aze-media", "Aze.Media", "The atrophied principle of reciprocity, or a one-sided game", "en", AZ_RU, "Maqsud Salimov", "seed 000 article body = demo aze-media page /the-atrophied-principle-of-reciprocity-or-a-one-sided-game/ (real)"),
    "after-the-crisis": ("aze-media", "Aze.Media", "After the crisis – a cold spell: What lies ahead for Azerbaijan–Russia relations", "en", AZ_RU, "Nurani", "seed 004 article body = demo aze-media page /after-the-crisis-a-cold-spell-what-lies-ahead-for-azerbaijan-russia-relations/ (real)"),
    "haji-namazov-interview": ("aze-media", "JAMnews", "Haji Namazov: Russia’s relations with Azerbaijan are at times allied, at times not quite", "en", AZ_RU, None, "demo aze-media reprint of the JAMnews interview of seed 001 (real)"),
    "moscow-mends-fences": ("eurasianet", "Eurasianet", "Moscow tries to mend fences with Baku", "en", AZ_RU, None, "demo eurasianet page /moscow-tries-to-mend-fences-with-baku, the Eurasianet article of seed 002 (real)"),
    "north-south-corridor-ru": ("eurasianet", "Eurasianet", "Коридор «Север – Юг»: Москва всё больше зависит от Баку", "ru", AZ_RU, "Тамерлан Ахундов", "demo eurasianet page /koridor-sever-yug-moskva-vse-bolshe-zavisit-ot-baku (written for the demo)"),
    "anaklia-port": ("eurasianet", "Eurasianet", "Georgia: Anaklia port revival bets on Middle Corridor boom", "en", "south-caucasus", "Tamta Gelashvili", "demo eurasianet page /georgia-anaklia-port-revival-bets-on-middle-corridor-boom (written for the demo)"),
    "vak-closure-2017": ("commonspace", "commonspace.eu", "Relations between Azerbaijan and Russia hit an uncharacteristically low point", "en", AZ_RU, None, "seed 003 = demo commonspace page /opinion/relations-between-azerbaijan-and-russia-hit-uncharacteristically-low-point (real)"),
    "baku-moscow-pragmatism-az": ("commonspace", "commonspace.eu", "Bakı ilə Moskva arasında: müttəfiqlikdən praqmatizmə", "az", AZ_RU, "Rəşad Məmmədli", "demo commonspace page /opinion/baki-ile-moskva-arasinda-muttefiqlikden-praqmatizme (written for the demo)"),
    "cop29-finance": ("commonspace", "commonspace.eu", "COP29: Climate finance talks in Baku off to a difficult start", "en", "cop29", None, "demo commonspace page /news/cop29-climate-finance-talks-baku-difficult-start (written for the demo)"),
}  # fmt: skip
DEMO_PATHS = {
    "russian-house-reciprocity": "/the-atrophied-principle-of-reciprocity-or-a-one-sided-game/",
    "after-the-crisis": "/after-the-crisis-a-cold-spell-what-lies-ahead-for-azerbaijan-russia-relations/",
    "haji-namazov-interview": "/haji-namazov-russias-relations-with-azerbaijan-are-at-times-allied-at-times-not-quite/",
    "moscow-mends-fences": "/moscow-tries-to-mend-fences-with-baku",
    "north-south-corridor-ru": "/koridor-sever-yug-moskva-vse-bolshe-zavisit-ot-baku",
    "anaklia-port": "/georgia-anaklia-port-revival-bets-on-middle-corridor-boom",
    "vak-closure-2017": "/opinion/relations-between-azerbaijan-and-russia-hit-uncharacteristically-low-point",
    "baku-moscow-pragmatism-az": "/opinion/baki-ile-moskva-arasinda-muttefiqlikden-praqmatizme",
    "cop29-finance": "/news/cop29-climate-finance-talks-baku-difficult-start",
}

# Real copies cut from the seed pages: (file in real/, cluster, outlet, kind, source)
REAL = [
    ("aze-media-repost.txt", "russian-house-reciprocity", "aze-media", "repost", "seed 000 article body as captured from the page (paragraph breaks, curly quotes): the same outlet's text under another URL"),
    ("jamnews-haji-namazov.txt", "haji-namazov-interview", "jamnews", "real-copy", "seed 001: the JAMnews original of the interview, with its inline related-article links, without the reprint's 'Source: JAMnews'"),
    ("aggregator-eurasianet.txt", "moscow-mends-fences", "news-aggregator", "real-copy", "seed 002: an aggregator's copy of the Eurasianet article ('(Eurasianet) -- ' prefix, paragraphs flattened)"),
    ("commonspace-capture.txt", "vak-closure-2017", "commonspace", "real-copy", "seed 003: the same commonspace.eu commentary captured without the link text 'commonspace.eu' in its first line"),
]  # fmt: skip

# Wire snippets listed on the seed 002 aggregator page (the leads of articles not in the set).
# (file in real/, cluster, topic); the page lists four of them twice.
WIRE = [
    ("wire-cengiz.txt", "wire-cengiz", AZ_RU),
    ("wire-isw-ukrinform.txt", "wire-isw-ukrinform", AZ_RU),
    ("wire-danylov.txt", "wire-danylov", AZ_RU),
    ("wire-sputnik-mustafayev.txt", "wire-sputnik-mustafayev", AZ_RU),
    ("wire-reuters-strategic.txt", "wire-reuters-strategic", AZ_RU),
    ("wire-zakharov-jayaprakash.txt", "wire-zakharov-jayaprakash", "israel-iran"),
    ("wire-ep-resolution.txt", "wire-ep-resolution", "ukraine"),
]
# (id, file, outlet, source): the same snippet once more, at the same or another outlet
WIRE_REPEATS = [
    ("wire-cengiz-listed-twice", "wire-cengiz.txt", "news-aggregator", "seed 002 lists this snippet twice on one page: same outlet, other URL"),
    ("wire-reuters-strategic-wire-briefs", "wire-reuters-strategic.txt", "wire-briefs", "seed 002 lists it twice; modelled as the same wire snippet carried by a second outlet"),
]  # fmt: skip

# Distinct articles written for this set (same events, names and vocabulary, different texts).
# file stem: (outlet, title, language)
DISTINCT = {
    "aktau-crash-six-months": ("caucasus-times", "Six months after Aktau crash, Baku still waits for Moscow's admission", "en"),
    "yekaterinburg-custody-deaths": ("caucasus-times", "Deaths in Yekaterinburg custody send Baku–Moscow ties into a new freeze", "en"),
    "russian-house-legal-address": ("baku-observer", "Soft power needs a legal address", "en"),
    "zakharova-ally-demands": ("baku-observer", "When an ally demands what it will not give", "en"),
    "zakharova-briefing-room": ("caspian-digest", "Moscow's briefing-room diplomacy has a cost", "en"),
    "peacekeepers-quiet-exit": ("southcaucasus-review", "The quiet end of Russia's Karabakh mission", "en"),
    "sputnik-staff-detained": ("newsfeed-en", "Russia protests detention of Sputnik Azerbaijan staff", "en"),
    "kremlin-logic-baku-memory": ("baku-observer", "The Kremlin's logic and Baku's memory", "en"),
    "ru-mid-vyzval-posla": ("ru-briefs", "МИД России вызвал посла Азербайджана из-за задержаний в Баку", "ru"),
    "ru-russkiy-dom-myagkaya-sila": ("ru-aggregator", "Русский дом в Баку и пределы мягкой силы", "ru"),
    "az-azal-qezasi-etiraf": ("az-aggregator", "AZAL təyyarəsinin qəzası: Bakı Moskvadan etiraf gözləyir", "az"),
    "az-yekaterinburq-diaspora": ("az-briefs", "Yekaterinburq hadisələri: diasporanın təhlükəsizliyi hər şeydən önəmlidir", "az"),
}  # fmt: skip
DISTINCT_NOTES = {
    "russian-house-legal-address": "quotes verbatim the Declaration clause that russian-house-reciprocity quotes",
    "zakharova-ally-demands": "shares one verbatim Zakharova quote paragraph with zakharova-briefing-room",
    "zakharova-briefing-room": "shares one verbatim Zakharova quote paragraph with zakharova-ally-demands",
    "kremlin-logic-baku-memory": "quotes verbatim the Peskov paragraph of moscow-mends-fences",
    "ru-mid-vyzval-posla": "shares one verbatim Zakharova quote paragraph with ru-russkiy-dom-myagkaya-sila",
    "ru-russkiy-dom-myagkaya-sila": "shares one verbatim Zakharova quote paragraph with ru-mid-vyzval-posla",
}  # fmt: skip

# Generated syndication copies: (cluster, outlet, transforms)
VARIANTS = [
    ("russian-house-reciprocity", "caspian-digest", ("headline", "boilerplate")),
    ("russian-house-reciprocity", "southcaucasus-review", ("copyedit", "cut")),
    ("russian-house-reciprocity", "wire-briefs", ("snippet",)),
    ("after-the-crisis", "caspian-digest", ("headline", "added", "boilerplate")),
    ("after-the-crisis", "az-politics-digest", ("cut", "copyedit")),
    ("after-the-crisis", "newsfeed-en", ("snippet",)),
    ("haji-namazov-interview", "southcaucasus-review", ("cut", "boilerplate")),
    ("haji-namazov-interview", "wire-briefs", ("snippet",)),
    ("moscow-mends-fences", "caspian-digest", ("added", "copyedit", "boilerplate")),
    ("moscow-mends-fences", "az-politics-digest", ("headline", "cut")),
    ("moscow-mends-fences", "newsfeed-en", ("snippet",)),
    ("north-south-corridor-ru", "ru-aggregator", ("cut", "boilerplate")),
    ("north-south-corridor-ru", "ru-briefs", ("snippet",)),
    ("anaklia-port", "caspian-digest", ("copyedit", "boilerplate")),
    ("anaklia-port", "newsfeed-en", ("flatten",)),
    ("anaklia-port", "wire-briefs", ("snippet",)),
    ("vak-closure-2017", "southcaucasus-review", ("headline", "cut")),
    ("vak-closure-2017", "newsfeed-en", ("snippet",)),
    ("baku-moscow-pragmatism-az", "az-aggregator", ("added", "boilerplate")),
    ("baku-moscow-pragmatism-az", "az-briefs", ("snippet",)),
    ("cop29-finance", "caspian-digest", ("headline", "added")),
    ("cop29-finance", "wire-briefs", ("snippet",)),
    ("aktau-crash-six-months", "southcaucasus-review", ("headline", "boilerplate")),
    ("zakharova-ally-demands", "wire-briefs", ("snippet",)),
    ("ru-mid-vyzval-posla", "ru-aggregator", ("cut", "boilerplate")),
    ("az-azal-qezasi-etiraf", "az-briefs", ("snippet",)),
]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip("\n")


def originals(src: Path) -> tuple[list[dict], dict[str, Document], dict[str, str]]:
    """Label entries of the committed texts, the documents variants are made from, and the
    display name of each cluster's outlet."""
    entries: list[dict] = []
    docs: dict[str, Document] = {}
    names: dict[str, str] = {}
    for cluster, (outlet, name, title, lang, topic, author, source) in BASES.items():
        entries.append(
            dict(id=f"{cluster}--{outlet}", cluster=cluster, outlet=outlet, kind="original",
                 source=source, title=title, language=lang, topic=topic, author=author,
                 transforms=[], file=f"base/{cluster}.txt")
        )  # fmt: skip
        names[cluster] = name
    for file, cluster, outlet, kind, source in REAL:
        base = entries[list(BASES).index(cluster)]
        entries.append(
            dict(base, id=f"{cluster}--{outlet}-{kind}", outlet=outlet, kind=kind, source=source,
                 file=f"real/{file}")
        )  # fmt: skip
    for file, cluster, topic in WIRE:
        entries.append(
            dict(id=cluster, cluster=cluster, outlet="news-aggregator", kind="wire-snippet",
                 source="seed 002 wire snippet (its article is not in the set)", title=None,
                 language="en", topic=topic, author=None, transforms=[], file=f"real/{file}")
        )  # fmt: skip
    for doc_id, file, outlet, source in WIRE_REPEATS:
        first = next(e for e in entries if e["file"] == f"real/{file}")
        entries.append(dict(first, id=doc_id, outlet=outlet, source=source))
    for stem, (outlet, title, lang) in DISTINCT.items():
        note = DISTINCT_NOTES.get(stem)
        source = "written for this set" + (f"; {note}" if note else "")
        entries.append(
            dict(id=f"{stem}--{outlet}", cluster=stem, outlet=outlet, kind="distinct",
                 source=source, title=title, language=lang, topic=AZ_RU, author=None,
                 transforms=[], file=f"distinct/{stem}.txt")
        )  # fmt: skip
        names[stem] = outlet
    for e in entries:
        if e["kind"] in ("original", "distinct"):
            docs[e["cluster"]] = Document(
                id=e["id"], cluster=e["cluster"], outlet=e["outlet"], kind=e["kind"],
                text=_read(src / e["file"]), source=e["source"], title=e["title"],
                language=e["language"], topic=e["topic"], author=e["author"],
            )  # fmt: skip
    return entries, docs, names


def build(src: Path = HERE, out: Path = HERE) -> list[dict]:
    """Write variants/ and labels.json under `out` from the texts under `src`."""
    entries, docs, names = originals(src)
    (out / "variants").mkdir(parents=True, exist_ok=True)
    for old in (out / "variants").glob("*.txt"):
        old.unlink()
    for cluster, outlet, transforms in VARIANTS:
        base = docs[cluster]
        tag = "snippet" if "snippet" in transforms else "copy"
        doc_id = f"{cluster}--{outlet}-{tag}"
        rng = random.Random(f"{SEED}:{doc_id}")
        variant = make_variant(base, doc_id, outlet, transforms, rng, source_name=names[cluster])
        path = f"variants/{doc_id}.txt"
        (out / path).write_text(variant.text + "\n", encoding="utf-8")
        entries.append(
            dict(id=doc_id, cluster=cluster, outlet=outlet, kind=variant.kind,
                 source=variant.source, title=variant.title, language=variant.language,
                 topic=variant.topic, author=variant.author, transforms=list(variant.transforms),
                 file=path)
        )  # fmt: skip
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "duplicate document ids"
    labels = {
        "description": "Labelled documents for evaluating story deduplication; see README.md. "
        "Generated by tests/dedup_eval/build.py.",
        "seed": SEED,
        "documents": entries,
    }
    text = json.dumps(labels, ensure_ascii=False, indent=1) + "\n"
    (out / "labels.json").write_text(text, encoding="utf-8")
    return entries


# -- re-extracting the committed texts (needs the demo pages, and ../shared/seeds for real/) ---
def refresh_base(out: Path = HERE, seeds: Path = SEEDS) -> None:
    from extractors.article import ExtractJob, extract
    from extractors.records import Article
    from flows.demo.server import DEMO_DIR, load_manifest

    by_path = {a["path"]: (o, a) for o in load_manifest() for a in o.articles}
    (out / "base").mkdir(exist_ok=True)
    for cluster, path in DEMO_PATHS.items():
        outlet, article = by_path[path]
        html = (DEMO_DIR / "site" / outlet.id / article["file"]).read_text(encoding="utf-8")
        url = outlet.origin + path
        job = ExtractJob(html, url, url, outlet.id, outlet.origin + "/", datetime.now(UTC), "feed")
        result = extract(job)
        assert isinstance(result, Article), result
        (out / "base" / f"{cluster}.txt").write_text(result.text + "\n", encoding="utf-8")
    if not seeds.is_dir():
        print(f"{seeds} not found: real/ left as it is")
        return
    seed = {p.name[:3]: p.read_text(encoding="utf-8") for p in seeds.glob("*.txt")}
    real = out / "real"
    real.mkdir(exist_ok=True)

    def body(text: str, first: str, last: str | None, occurrence: int = -1) -> str:
        start = text.rfind(first) if occurrence == -1 else text.find(first)
        end = text.find(last, start) + len(last) if last else len(text)
        return text[start:end].strip()

    files = {
        "aze-media-repost.txt": body(seed["000"], "The media space has been flooded", "Translated from minval.az"),
        "jamnews-haji-namazov.txt": body(seed["001"], "Political observer Haji Namazov", None),
        "commonspace-capture.txt": body(seed["003"], "This is a commentary by the political editor", None),
    }  # fmt: skip
    lines = [line.strip() for line in seed["002"].splitlines() if line.strip()]
    files["aggregator-eurasianet.txt"] = next(x for x in lines if x.startswith("(Eurasianet) -- "))
    snippets = list(dict.fromkeys(x for x in lines if x.endswith("...")))
    for (file, _, _), text in zip(WIRE, snippets, strict=True):
        files[file] = text
    for file, text in files.items():
        (real / file).write_text(text + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh-base", action="store_true", help="re-extract base/ and real/")
    args = parser.parse_args(argv)
    if args.refresh_base:
        refresh_base()
    entries = build()
    kinds: dict[str, int] = {}
    for e in entries:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    clusters = len({e["cluster"] for e in entries})
    print(f"{len(entries)} documents, {clusters} clusters: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
