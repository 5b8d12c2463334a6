"""How fast typical analyst queries run on a store of 100,000 articles.

    python -m benchmarks.query_bench [--articles 100000] [--repeat 7] [--keep]

Builds a DuckDB store through the real storage API (`Store.write` of `Batch`es, as the
pipeline writes them: story placement with real fingerprints, topic rows scored by the
project's first rule in newsmon.toml, one `fetches` row per article). The articles are
generated in English, Russian and Azerbaijani (Russian and Azerbaijani words in several
inflected forms): Zipf-distributed vocabulary with news words and place names, 9 outlets, fetch
dates spread over one year up to the build time, 12% of articles copies (verbatim or edited)
of an article another outlet published shortly before, so that stories span outlets.
Fingerprints and topic scores are computed in worker processes, as the extraction workers do.

Then times each query --repeat times on an open read-only connection (median and min; the
first, cold run is reported apart), once more through `Store.query` (open, query, close: what
the API and `newsmon sql` pay), and `newsmon sql` end to end in a subprocess. Queries that
say "now" use the build time, so a kept store gives the same answers later.

With --keep the store is kept in benchmarks/results/cache/ and reused by the next run with
the same --articles, and the desk's figures follow (benchmarks/desk_bench.py: the full-text
index built pass by pass, search latency, every page of `newsmon web`). Prints tables and
writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
CACHE = RESULTS / "cache"
ROOT = Path(__file__).resolve().parents[1]
GENERATOR = 2  # bump when the generated data changes, so a kept store is rebuilt
BATCH = 2000  # articles per Store.write (one outlet-run's worth in a busy pass)
CHUNK = 100  # articles per worker task
SPAN = timedelta(days=365)
COPY_SHARE = 0.12
TOPIC_SHARE = 0.04
RARE_WORD, RARE_SHARE = "Zangezur", 0.002

# (id, name, homepage, language, weight). Copies stay within a language: a translation is not
# a copy, and story placement would not join it.
OUTLETS = [
    ("azertag", "AZERTAC", "https://azertag.az", "en", 5),
    ("trend", "Trend", "https://en.trend.az", "en", 4),
    ("aze-media", "Aze.Media", "https://aze.media", "en", 2),
    ("jamnews", "JAMnews", "https://jam-news.net", "en", 3),
    ("eurasianet", "Eurasianet", "https://eurasianet.org", "en", 2),
    ("interfax", "Interfax", "https://www.interfax.ru", "ru", 4),
    ("minval", "Minval", "https://minval.az", "ru", 2),
    ("apa", "APA", "https://apa.az", "az", 3),
    ("report-az", "Report.az", "https://report.az", "az", 2),
]
_OUTLET_WEIGHTS = list(itertools.accumulate(o[4] for o in OUTLETS))


@dataclass(frozen=True)
class Language:
    """A generated language: common and news words, place names (with inflected forms where
    the language inflects them), syllables for a Zipf tail of stems, and endings put on tail
    stems so that one word appears in several forms, as Russian and Azerbaijani words do."""

    common: list[str]
    news: list[str]
    places: list[str]
    syllables: list[str]
    endings: list[str]
    tail: int
    topic: tuple[list[str], list[str], list[str], str]  # az side, ru side, what, template
    title_prefix: str
    joiner: str  # put into an edited copy's title


def _words(text: str) -> list[str]:
    return text.split()


LANGUAGES = {
    "en": Language(
        common=_words(
            "the of and to in a that for on is was with said as by it at from his be has have "
            "are will not an this which but after were had who their they its been also more "
            "would than one two new over year years last about into when there up other could "
            "all can out first some while during three percent against under since between "
            "before both most week month today yesterday according however further"
        ),
        news=_words(
            "government minister ministry president talks agreement border peace energy gas oil "
            "pipeline sanctions trade economic security military officials statement meeting "
            "visit cooperation region regional foreign policy parliament election court "
            "investigation prices market exports imports transit corridor railway project "
            "projects investment company companies bank budget tax reform protest opposition "
            "journalists media report analysts experts conflict ceasefire negotiations "
            "delegation summit capital city country countries international development "
            "infrastructure water construction agriculture tourism airline flights education "
            "health hospital police prosecutors detained arrested released citizens migrants "
            "community communities diplomats ambassador embassy relations"
        ),
        places=_words(
            "Azerbaijan Russia Armenia Georgia Turkey Iran Kazakhstan Ukraine Baku Moscow "
            "Yerevan Tbilisi Ankara Tehran Brussels Washington Nakhchivan Karabakh Ganja Sumgait"
        ),
        syllables=_words(
            "ka ri mo ta le sa ne vo li gu ba ze ro mi du ha pe sho na tu ve ki lo za"
        ),
        endings=[""],
        tail=60000,
        topic=(
            ["Azerbaijan", "Baku", "Azerbaijani officials", "President Aliyev"],
            ["Russia", "Moscow", "the Kremlin", "Russian diplomats"],
            ["bilateral relations", "energy transit", "trade talks", "the agreement"],
            "{az} and {ru} discussed {what} {filler}.",
        ),
        title_prefix="Azerbaijan and Russia: ",
        joiner=" the ",
    ),
    "ru": Language(
        common=_words(
            "и в не на что с по как из за от для это он она они его ее их также был была были "
            "будет может после при уже более года году время том этом между о к до"
        ),
        news=_words(
            "правительство правительства министр министра министерство президент президента "
            "переговоры переговоров соглашение соглашения граница границы мир энергетика газ "
            "нефть нефти трубопровод санкции санкций торговля торговли экономика безопасность "
            "военные заявление заявил встреча визит сотрудничество регион политика парламент "
            "выборы суд расследование цены рынок экспорт импорт транзит коридор проект "
            "инвестиции компания банк бюджет налог реформа протест оппозиция журналисты доклад "
            "эксперты конфликт перемирие делегация саммит столица страна страны развитие"
        ),
        places=_words(
            "Азербайджан Азербайджана Азербайджане Россия России Россией Армения Армении Грузия "
            "Турция Иран Баку Москва Москве Москвы Ереван Тбилиси Карабах Карабаха Нахичевань"
        ),
        syllables=_words("ка ри мо та ле са не во ли гу ба зе ро ми ду ха пе шо на ту ве ки ло за"),
        endings=["", "", "а", "у", "ом", "е", "ы", "ов", "ами", "ах", "ой", "ий"],
        tail=30000,
        topic=(
            ["Азербайджан", "Баку", "Ильхам Алиев", "азербайджанские власти"],
            ["Россия", "Москва", "Кремль", "российские дипломаты"],
            ["двусторонние отношения", "транзит энергии", "торговые переговоры", "соглашение"],
            "{az} и {ru} обсудили {what} {filler}.",
        ),
        title_prefix="Азербайджан и Россия: ",
        joiner=" и ",
    ),
    "az": Language(
        common=_words(
            "və bu ilə da də üçün olan bir ki onun daha sonra artıq isə həm kimi görə il ildə "
            "tərəfindən çox qədər arasında"
        ),
        news=_words(
            "hökumət nazir nazirlik prezident danışıqlar saziş sərhəd sülh enerji qaz neft boru "
            "kəməri sanksiyalar ticarət iqtisadiyyat təhlükəsizlik hərbi bəyanat görüş səfər "
            "əməkdaşlıq region siyasət parlament seçki məhkəmə araşdırma qiymətlər bazar ixrac "
            "idxal tranzit dəhliz layihə investisiya şirkət bank büdcə vergi islahat etiraz "
            "müxalifət jurnalistlər media hesabat ekspertlər münaqişə atəşkəs sammit paytaxt "
            "ölkə beynəlxalq inkişaf"
        ),
        places=_words(
            "Azərbaycan Azərbaycanın Azərbaycanda Rusiya Rusiyanın Rusiyada Ermənistan Gürcüstan "
            "Türkiyə İran Bakı Bakıda Moskva Moskvada İrəvan Tbilisi Qarabağ Naxçıvan Gəncə Sumqayıt"
        ),
        syllables=_words("ka rı mo tə le sa nə vo li gü ba zə ro mi du xa pe şo na tu ve ki lo ça"),
        endings=["", "", "da", "dan", "ın", "nın", "lar", "lər", "ya", "də"],
        tail=20000,
        topic=(
            ["Azərbaycan", "Bakı", "Prezident İlham Əliyev", "Azərbaycan rəsmiləri"],
            ["Rusiya", "Moskva", "Kreml", "Rusiya diplomatları"],
            ["ikitərəfli münasibətləri", "enerji tranzitini", "ticarət danışıqlarını", "sazişi"],
            "{az} və {ru} {what} müzakirə etdi {filler}.",
        ),
        title_prefix="Azərbaycan və Rusiya: ",
        joiner=" və ",
    ),
}


def _vocabulary(lang: Language, seed: int) -> tuple[list[str], list[float]]:
    rng = random.Random(seed)
    tail: set[str] = set()
    while len(tail) < lang.tail:
        tail.add("".join(rng.choices(lang.syllables, k=rng.randint(2, 4))))
    words = lang.common + lang.news + sorted(tail)
    cum = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(words))))
    return words, cum


VOCABULARIES = {
    code: _vocabulary(lang, seed) for seed, (code, lang) in enumerate(LANGUAGES.items(), start=1)
}


def _tail_words(rng: random.Random, code: str, k: int, skip_common: bool = False) -> list[str]:
    lang = LANGUAGES[code]
    words, cum = VOCABULARIES[code]
    picked = rng.choices(words, cum_weights=cum, k=k)
    if skip_common:
        picked = rng.choices(words[len(lang.common) :], k=k)
    if len(lang.endings) == 1:
        return picked
    fixed = len(lang.common) + len(lang.news)
    return [w + rng.choice(lang.endings) if w not in words[:fixed] else w for w in picked]


def _sentence(rng: random.Random, code: str, places: list[str]) -> str:
    words = _tail_words(rng, code, rng.randint(8, 24))
    if rng.random() < 0.06:
        words.insert(rng.randrange(len(words)), rng.choice(places))
    return " ".join(words).capitalize() + "."


def _topic_sentence(rng: random.Random, code: str) -> str:
    az, ru, what, template = LANGUAGES[code].topic
    filler = " ".join(_tail_words(rng, code, rng.randint(3, 8)))
    return template.format(
        az=rng.choice(az), ru=rng.choice(ru), what=rng.choice(what), filler=filler
    )


def outlet_of(i: int) -> int:
    return bisect.bisect(_OUTLET_WEIGHTS, random.Random(i * 7 + 1).random() * _OUTLET_WEIGHTS[-1])


def language_of(i: int) -> str:
    return OUTLETS[outlet_of(i)][3]


def original(i: int) -> tuple[str, str]:
    """Title and text of generated article `i` (deterministic), in its outlet's language."""
    rng = random.Random(i)
    code = language_of(i)
    lang = LANGUAGES[code]
    topic = rng.random() < TOPIC_SHARE
    places = rng.sample(lang.places, 3)
    paragraphs = []
    for _ in range(rng.randint(4, 9)):
        sentences = [_sentence(rng, code, places) for _ in range(rng.randint(2, 4))]
        if topic and rng.random() < 0.6:
            sentences.insert(0, _topic_sentence(rng, code))
        paragraphs.append(" ".join(sentences))
    if code == "en" and rng.random() < RARE_SHARE:
        paragraphs.insert(1, f"The {RARE_WORD} corridor was mentioned again by officials.")
    head = _tail_words(rng, code, rng.randint(4, 9), skip_common=True)
    head.insert(rng.randrange(len(head)), places[0])
    title = " ".join(head).capitalize()
    if topic:
        title = lang.title_prefix + title
    return title, "\n".join(paragraphs)


def spec(i: int, n: int, end: datetime) -> dict:
    """Where and when article `i` of `n` appears, and what it is a copy of (if anything)."""
    rng = random.Random(i * 31 + 7)
    fetched_at = end - SPAN * (n - 1 - i) / n - timedelta(seconds=rng.randint(0, 300))
    source = i - rng.randint(1, 60) if i > 60 and rng.random() < COPY_SHARE else None
    outlet = outlet_of(i)
    if source is not None:
        same = [k for k, o in enumerate(OUTLETS) if o[3] == language_of(source)]
        others = [k for k in same if k != outlet_of(source)]
        outlet = others[rng.randrange(len(others))]
    return {"fetched_at": fetched_at, "outlet": outlet, "source": source}


def make_articles(start: int, stop: int, n: int, end: datetime, rules: tuple) -> list:
    """Articles start..stop-1 with fingerprints and topic scores (runs in a worker)."""
    from extractors.article import EXTRACTOR_VERSION, article_id, content_hash, word_count
    from extractors.fingerprint import fingerprint
    from extractors.records import Article
    from extractors.workers import Scorer

    scorer = Scorer(rules)
    out = []
    for i in range(start, stop):
        s = spec(i, n, end)
        title, text = original(s["source"] if s["source"] is not None else i)
        rng = random.Random(i)
        if s["source"] is not None and rng.random() < 0.7:  # an edited copy, not verbatim
            paragraphs = text.split("\n")
            code = language_of(s["source"])
            places = LANGUAGES[code].places
            paragraphs[rng.randrange(len(paragraphs))] += " " + _sentence(rng, code, places)
            if len(paragraphs) > 4:
                paragraphs.pop()
            text = "\n".join(paragraphs)
            title = title.replace(" ", LANGUAGES[code].joiner, 1)
        oid, _, home, lang, _ = OUTLETS[s["outlet"]]
        url = f"{home}/news/{i:06d}-{'-'.join(title.lower().split()[:5])}"
        published = s["fetched_at"] - timedelta(minutes=rng.randint(5, 600))
        out.append(
            Article(
                id=article_id(url), outlet_id=oid, url=url, canonical_url=url, title=title,
                authors=[f"Reporter {i % 97}"], published_at=published, date_source="jsonld",
                fetched_at=s["fetched_at"], language=lang, description=text[:160],
                tags=[], sitename=OUTLETS[s["outlet"]][1], text=text, word_count=word_count(text),
                content_hash=content_hash(text), extractor_version=EXTRACTOR_VERSION,
                discovered_via="feed", final_url=url, fingerprint=fingerprint(text),
                topics=scorer.scores(title, text) or None,
            )
        )  # fmt: skip
    return out


def bench_rules() -> tuple:
    """The project's first topic rule, as an analyst would configure it."""
    from flows.config import load

    config = ROOT / "newsmon.toml"
    return load(config).rules[:1] if config.exists() else ()


def build(db: Path, n: int, end: datetime) -> dict:
    """Write `n` generated articles through Store.write, BATCH at a time."""
    from extractors.records import Batch, FetchRecord, Outlet, OutletReport
    from storage.db import Store

    rules = bench_rules()
    store = Store(db)
    outlet_rows = [Outlet(o[0], o[1], o[2], o[3]) for o in OUTLETS]
    started = time.perf_counter()
    writes: list[float] = []
    stored = 0
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(os.cpu_count(), mp_context=ctx) as pool:

        def submit(first: int) -> list[Future]:
            stop = min(first + BATCH, n)
            return [
                pool.submit(make_articles, a, min(a + CHUNK, stop), n, end, rules)
                for a in range(first, stop, CHUNK)
            ]

        pending = [submit(first) for first in range(0, min(2 * BATCH, n), BATCH)]
        for number, first in enumerate(range(0, n, BATCH)):
            articles = [a for future in pending.pop(0) for a in future.result()]
            if first + 2 * BATCH < n:
                pending.append(submit(first + 2 * BATCH))
            run_id = f"bench-{number:04d}"
            now = articles[-1].fetched_at
            batch = Batch(
                run_id=run_id, outlets=outlet_rows, articles=articles,
                fetches=[
                    FetchRecord(a.outlet_id, "article", a.url, a.url, 200, 8 * len(a.text), 0.05, a.fetched_at, None)
                    for a in articles
                ],
                reports=[OutletReport(run_id, o[0], o[1], now, now) for o in OUTLETS],
            )  # fmt: skip
            t0 = time.perf_counter()
            stored += store.write(batch).stored
            writes.append(time.perf_counter() - t0)
            done = first + len(articles)
            if number % 10 == 0 or done == n:
                rate = done / (time.perf_counter() - started)
                print(f"  built {done:,}/{n:,} ({rate:.0f} articles/s)", flush=True)
    return {
        "articles": n, "stored": stored, "build_s": round(time.perf_counter() - started, 1),
        "store_write_s": round(sum(writes), 1), "rule": rules[0].id if rules else None,
        # Store.write of one batch, ms per article: does it grow with the store?
        "write_ms_per_article_first_last": [round(1000 * w / BATCH, 2) for w in (writes[0], writes[-1])],
        "end": end.isoformat(), "generator": GENERATOR,
    }  # fmt: skip


def queries(end: datetime, rule: str | None) -> dict[str, str]:
    now = f"TIMESTAMPTZ '{end.isoformat()}'"
    found = {
        "counts by day and outlet, last 30 days": f"""
            SELECT published_at::DATE AS day, outlet_id, count(*) AS articles FROM articles
            WHERE published_at > {now} - INTERVAL 30 DAY GROUP BY ALL ORDER BY day DESC, outlet_id""",
        "keyword: '%Azerbaijan%Russia%' in text or title, latest 20": """
            SELECT published_at, outlet_id, title, url FROM articles
            WHERE text ILIKE '%Azerbaijan%Russia%' OR title ILIKE '%Azerbaijan%Russia%'
            ORDER BY published_at DESC LIMIT 20""",
        "keyword: Baku AND Moscow (README example), latest 20": """
            SELECT published_at, outlet_id, title, url FROM articles
            WHERE text ILIKE '%Baku%' AND text ILIKE '%Moscow%' ORDER BY published_at DESC LIMIT 20""",
        f"keyword: rare word '{RARE_WORD}', all": f"""
            SELECT published_at, outlet_id, title, url FROM articles
            WHERE text ILIKE '%{RARE_WORD}%' OR title ILIKE '%{RARE_WORD}%' ORDER BY published_at DESC""",
        "topic join: rule's matched articles, latest 50": f"""
            SELECT a.published_at, o.name, a.title, t.score, t.terms
            FROM article_topics t JOIN articles a ON a.id = t.article_id
            JOIN outlets o ON o.id = a.outlet_id
            WHERE t.rule_id = '{rule}' AND t.matched ORDER BY a.published_at DESC LIMIT 50""",
        "story join: stories from >= 2 outlets, last 7 days": f"""
            SELECT title, outlets, copies, first_published FROM stories
            WHERE len(outlets) >= 2 AND first_seen > {now} - INTERVAL 7 DAY
            ORDER BY copies DESC, first_seen DESC""",
        "latest 50 items (ORDER BY fetched_at DESC)": """
            SELECT fetched_at, outlet_id, title, url FROM articles ORDER BY fetched_at DESC LIMIT 50""",
    }
    if rule is None:
        del found["topic join: rule's matched articles, latest 50"]
    return {name: " ".join(sql.split()) for name, sql in found.items()}


def timed(run, repeat: int) -> dict:  # noqa: ANN001 - a callable returning rows
    times, rows = [], None
    for _ in range(repeat + 1):
        started = time.perf_counter()
        rows = run()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "cold_ms": round(times[0], 2), "median_ms": round(statistics.median(times[1:]), 2),
        "min_ms": round(min(times[1:]), 2), "rows": len(rows),
    }  # fmt: skip


def measure(db: Path, end: datetime, rule: str | None, repeat: int) -> dict:
    import duckdb

    from storage.db import Store

    results: dict[str, dict] = {}
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    store = Store(db)
    try:
        for name, sql in queries(end, rule).items():
            results[name] = timed(lambda sql=sql: con.execute(sql).fetchall(), repeat)
            api = timed(lambda sql=sql: store.query(sql).rows, max(3, repeat // 2))
            results[name]["store_query_median_ms"] = api["median_ms"]
            results[name]["sql"] = sql
    finally:
        con.close()
    return results


def cli(db: Path, sql: str, repeat: int) -> dict:
    """`newsmon sql` end to end: interpreter start, imports, open, query, print."""
    exe = Path(sys.executable).with_name("newsmon")
    command = [str(exe) if exe.exists() else "newsmon", "sql", sql, "--db", str(db)]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1)}


def cached_store(n: int, keep: bool, tmp: Path) -> tuple[Path, dict]:
    folder = CACHE / f"query-{n}" if keep else tmp
    db, meta_path = folder / "bench.duckdb", folder / "meta.json"
    if keep and meta_path.exists() and db.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("generator") == GENERATOR and meta.get("articles") == n:
            print(f"reusing the store in {folder} (built {meta['end']})", flush=True)
            return db, {**meta, "reused": True}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    end = datetime.now(UTC).replace(microsecond=0)
    print(f"building {n:,} articles in {db} ...", flush=True)
    meta = build(db, n, end)
    meta_path.write_text(json.dumps(meta, indent=1))
    return db, {**meta, "reused": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep/reuse the store in results/cache")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        db, meta = cached_store(args.articles, args.keep, Path(tmp_name))
        end = datetime.fromisoformat(meta["end"])
        shape = _shape(db, meta.get("rule"))
        print(
            f"store: {shape['articles']:,} articles, {shape['stories']:,} stories "
            f"({shape['multi_outlet_stories']:,} from >= 2 outlets), {shape['matched']:,} matched "
            f"({100 * shape['matched'] / max(shape['articles'], 1):.1f}%), {shape['db_mb']} MB; "
            f"built in {meta['build_s']} s ({meta['store_write_s']} s in Store.write)",
            flush=True,
        )
        results = measure(db, end, meta.get("rule"), args.repeat)
        latest = queries(end, None)["latest 50 items (ORDER BY fetched_at DESC)"]
        cli_query = cli(db, latest, max(3, args.repeat // 2))
        cli_trivial = cli(db, "SELECT 1", max(3, args.repeat // 2))
    width = max(len(name) for name in results) + 2
    print(
        f"\n{'query':<{width}}{'median ms':>11}{'min ms':>9}{'cold ms':>9}{'Store.query':>13}{'rows':>7}"
    )
    for name, r in results.items():
        api = r.get("store_query_median_ms")
        print(
            f"{name:<{width}}{r['median_ms']:>11.1f}{r['min_ms']:>9.1f}{r['cold_ms']:>9.1f}"
            f"{'' if api is None else f'{api:.1f}':>13}{r['rows']:>7}"
        )
    print(
        f"\n`newsmon sql` end to end (latest 50): median {cli_query['median_ms']:.0f} ms, "
        f'min {cli_query["min_ms"]:.0f} ms; `newsmon sql "SELECT 1"`: median '
        f"{cli_trivial['median_ms']:.0f} ms (the CLI's own start-up)"
    )
    desk = None
    if args.keep:  # the desk's figures need the kept store: its index is built once
        from benchmarks import desk_bench

        print()
        desk = desk_bench.run(db, db.parent / "meta.json", end, args.repeat, compare_fts=False)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"query-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(), "cores": os.cpu_count(),
                "python": sys.version.split()[0], "store": {**meta, **shape}, "queries": results,
                "cli_latest_50": cli_query, "cli_select_1": cli_trivial, "desk": desk,
            },
            indent=1, default=str,
        )
    )  # fmt: skip
    print(f"wrote {path}")
    return 0


def _shape(db: Path, rule: str | None) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            """SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM stories),
                      (SELECT count(*) FROM stories WHERE len(outlets) >= 2),
                      (SELECT count(*) FROM article_topics WHERE matched AND rule_id = ?)""",
            [rule or ""],
        ).fetchall()[0]
    finally:
        con.close()
    size = sum(f.stat().st_size for f in db.parent.iterdir() if f.is_file())
    return {
        "articles": row[0], "stories": row[1], "multi_outlet_stories": row[2], "matched": row[3],
        "db_mb": round(size / 1e6, 1),
    }  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
