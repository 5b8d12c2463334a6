"""The generated articles of benchmarks/query_bench.py (its docstring describes them),
deterministic by index; `make_articles` runs in a worker process of the build."""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

GENERATOR = 2  # bump when the generated data changes, so a kept store is rebuilt
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
