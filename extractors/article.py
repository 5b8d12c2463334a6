"""HTML page → Article record: trafilatura for text and metadata, our own date and language logic.

Runs in the extraction pool's worker processes (extractors.workers), so everything here is a
plain picklable function over plain records.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import lxml.etree
import lxml.html
import trafilatura
import trafilatura.utils
from trafilatura.settings import set_date_params
from trafilatura.utils import load_html

from extractors.article_text import normalize_text
from extractors.discover import parse_datetime
from extractors.fingerprint import fingerprint, preload
from extractors.records import Article, Failure, FailureKind, UrlFailure
from extractors.urls import canonicalize, same_site, url_key

EXTRACTOR_VERSION = f"newsmon-1/trafilatura-{trafilatura.__version__}"
_KICKER_WORDS = 12  # a line before the headline longer than this is body, not a kicker
SHORT_SAMPLE = 600  # characters; agreed with the 1,500-character sample on 1,332 texts
MIN_WORDS = 25  # snippet pages (a lead and "...") still count: they join their story
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "opinionnewsarticle",
    "analysisnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "report", "scholarlyarticle",
    "techarticle", "liveblogposting",
}  # fmt: skip
_DATE_META = (
    "article:published_time", "og:published_time", "og:article:published_time", "datepublished",
    "publish-date", "publish_date", "publication_date", "pubdate", "sailthru.date",
    "parsely-pub-date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created", "date",
)  # fmt: skip
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,40}$")

# lxml.html picks the Python class of an element in a Python method each time code touches
# that element: some 5,000 calls per page through trafilatura, htmldate and readability. A
# lookup done in C, giving every element lxml.html's HtmlElement, extracts exactly the same
# (only form controls lose their own subclasses, which none of them use) for less CPU.
ELEMENT_CLASSES = lxml.etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement,
    comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)
trafilatura.utils.HTML_PARSER.set_element_class_lookup(ELEMENT_CLASSES)


@dataclass(frozen=True)
class ExtractJob:
    html: str
    url: str
    final_url: str
    outlet_id: str
    homepage: str
    fetched_at: datetime
    via: str
    default_language: str | None = None
    hint_title: str | None = None
    hint_published: datetime | None = None
    hint_author: str | None = None


def extract(job: ExtractJob) -> Article | UrlFailure:
    try:
        return _extract(job)
    except Exception as exc:  # a page that breaks the parser is that page's failure only
        message = f"extraction error: {type(exc).__name__}: {exc}"[:200]
        return _failed(job, Failure(FailureKind.INTERNAL, message))


def _no_text(job: ExtractJob, message: str) -> UrlFailure:
    return _failed(job, Failure(FailureKind.NO_TEXT, message))


def _failed(job: ExtractJob, failure: Failure) -> UrlFailure:
    return UrlFailure(job.url, job.outlet_id, failure, job.fetched_at)


def _extract(job: ExtractJob) -> Article | UrlFailure:
    # trafilatura's own loader (comments and processing instructions dropped, faulty markup
    # repaired, a bytes fallback): the tree it was tuned on, and the one plain trafilatura uses.
    tree = load_html(job.html)
    if tree is None:
        return _no_text(job, "unparseable HTML")
    jsonld = _jsonld_nodes(tree)
    page_date = _page_date(tree, job, jsonld)
    doc = trafilatura.bare_extraction(
        tree,
        url=job.final_url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        # htmldate's extensive search (free-text dates through dateparser) is a sixth of the
        # extraction's time, and its answer only counts when the page has no stronger date.
        date_extraction_params=set_date_params(extensive=page_date is None),
    )
    if doc is None or not (doc.text or "").strip():
        return _no_text(job, "no article text found")
    text = _without_leading_title(doc.text.strip(), doc.title)
    words = word_count(text)
    if words < MIN_WORDS:
        return _no_text(job, f"text too short for an article ({words} words)")
    if _letter_share(text) < 0.6:
        return _no_text(job, "text is not prose (mostly symbols or binary)")
    canonical = _page_canonical(tree, job) or canonicalize(job.final_url) or job.url
    published_at, date_source = page_date or _htmldate(doc.date)
    language = detect_language(f"{doc.title or ''}\n{text}") or _declared_language(tree)
    title = _clean_title(doc.title, doc.sitename) or job.hint_title
    normalized = normalize_text(text)  # shared by the exact hash and the fingerprint
    return Article(
        id=article_id(canonical),
        outlet_id=job.outlet_id,
        url=job.url,
        canonical_url=canonical,
        title=title,
        authors=_authors(doc.author, tree, jsonld) or _split(job.hint_author),
        published_at=published_at,
        date_source=date_source,
        fetched_at=job.fetched_at,
        language=language or job.default_language,
        description=doc.description or None,
        tags=_split(doc.tags) or _split(doc.categories),
        sitename=doc.sitename or None,
        text=text,
        word_count=words,
        content_hash=content_hash(text, normalized),
        extractor_version=EXTRACTOR_VERSION,
        discovered_via=job.via,
        final_url=job.final_url,
        fingerprint=fingerprint(text, normalized),
    )


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def word_count(text: str) -> int:
    """Words, counting Chinese/Japanese/Korean characters (written without spaces) as
    half a word each, so those articles are not mistaken for stubs."""
    cjk = len(_CJK.findall(text))
    if not cjk:
        return len(text.split())
    return len(_CJK.sub(" ", text).split()) + cjk // 2


def _letter_share(text: str) -> float:
    sample = "".join(text[:5000].split())
    return sum(ch.isalpha() for ch in sample) / len(sample) if sample else 0.0


def _without_leading_title(text: str, title: str | None) -> str:
    """Drop the headline when it is among the first lines: trafilatura keeps an <h1> inside the
    article container, and the title has its own column. What precedes it goes too (kickers,
    breadcrumbs, datelines, slogans) unless it reads as prose: some layouts put the lead or
    the whole body above the headline."""
    if not title:
        return text
    wanted = normalize_text(title)
    lines = text.split("\n")
    for index, line in enumerate(lines[:6]):
        if normalize_text(line) == wanted:
            before = lines[:index]
            if any(_is_prose(kept) for kept in before):
                rest = "\n".join([*before, *lines[index + 1 :]]).strip()
            else:
                rest = "\n".join(lines[index + 1 :]).lstrip()
            return rest or text
    return text


def _is_prose(line: str) -> bool:
    """A sentence or more: longer than a kicker and ending as sentences do (slogans don't)."""
    line = line.strip()
    return len(line.split()) > _KICKER_WORDS and line.rstrip("\"'»”’)").endswith(
        (".", "!", "?", "…")
    )


def article_id(canonical_url: str) -> str:
    """Stable id of an article: the hash of its URL key, so URL variants share it."""
    return hashlib.sha256(url_key(canonical_url).encode("utf-8")).hexdigest()[:20]


def content_hash(text: str, normalized: str | None = None) -> str:
    """`normalized` is normalize_text(text), when the caller has it already."""
    folded = normalize_text(text) if normalized is None else normalized
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


# Compiled once: these run on every page, and one walk of the tree serves both kinds.
_CANONICAL = lxml.etree.XPath(
    '//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content'
)
# (Through the attribute axis: a third of the time of testing every element's attributes.)
_DATE_MARKED = lxml.etree.XPath(
    '//@itemprop[.="datePublished"]/.. | //@property[.="dc:date" or .="schema:dateCreated"]/..'
)
_TIME_TAGS = lxml.etree.XPath("//time[@datetime]")


def _page_canonical(tree: lxml.html.HtmlElement, job: ExtractJob) -> str | None:
    """rel=canonical, then og:url — only when they stay on the outlet's own site."""
    candidates = sorted(_CANONICAL(tree), key=lambda href: href.getparent().tag != "link")
    for href in candidates:
        url = canonicalize(str(href), job.final_url)
        if url and same_site(url, job.homepage):
            return url
    return None


def _page_date(
    tree: lxml.html.HtmlElement, job: ExtractJob, jsonld: list[dict]
) -> tuple[datetime, str] | None:
    """The strongest plausible publication date the page or its feed states outright, tried in
    order of trust and only as far as needed; htmldate's guess (day only) is the fallback."""
    signals = (
        (lambda: _jsonld_date(jsonld), "jsonld"),
        (lambda: _meta_date(tree), "meta"),
        (lambda: job.hint_published, "feed"),
        (lambda: _time_tag_date(tree), "time-tag"),
    )
    for signal, source in signals:
        date = signal()
        if _plausible(date):
            return date, source
    return None


def _htmldate(value: str | None) -> tuple[datetime | None, str | None]:
    date = parse_datetime(value) if value else None
    return (date, "htmldate") if _plausible(date) else (None, None)


def _plausible(date: datetime | None) -> bool:
    return date is not None and EARLIEST <= date <= datetime.now(UTC) + timedelta(days=1)


def _jsonld_nodes(tree: lxml.html.HtmlElement) -> list[dict]:
    """Every object in the page's JSON-LD blocks (graphs and main entities included)."""
    nodes: list[dict] = []
    for script in tree.iter("script"):
        if script.get("type", "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text_content(), strict=False)
        except ValueError:
            continue  # a broken block is skipped, the others still count
        nodes.extend(_walk_jsonld(data))
    return nodes


def _jsonld_date(jsonld: list[dict]) -> datetime | None:
    fallback = None
    for node in jsonld:
        value = node.get("datePublished") or node.get("dateCreated")
        if not isinstance(value, str):
            continue
        types = node.get("@type")
        types = [types] if isinstance(types, str) else (types or [])
        date = parse_datetime(value)
        if date is None:
            continue
        if any(str(t).lower() in _ARTICLE_TYPES for t in types):
            return date
        fallback = fallback or date
    return fallback


def _walk_jsonld(data: object):  # noqa: ANN202 - generator over nested JSON-LD
    if isinstance(data, list):
        for item in data:
            yield from _walk_jsonld(item)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            if key in data:
                yield from _walk_jsonld(data[key])


def _meta_date(tree: lxml.html.HtmlElement) -> datetime | None:
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in _DATE_META and meta.get("content") and key not in found:
            found[key] = meta.get("content")
    for key in _DATE_META:
        if key in found:
            date = parse_datetime(found[key])
            if date is not None:
                return date
    return None


def _time_tag_date(tree: lxml.html.HtmlElement) -> datetime | None:
    """A machine-readable date marked as the publication date, or the first in the article."""
    marked = _DATE_MARKED(tree)
    published = [el for el in marked if el.get("itemprop") == "datePublished"]
    dc_dates = [el for el in marked if el.get("itemprop") != "datePublished"]
    times = _TIME_TAGS(tree)
    values = (
        [el.get("datetime") for el in published]
        + [el.get("content") for el in published + dc_dates]
        + [el.get("datetime") for el in times if _inside(el, "article")]
        + [el.get("datetime") for el in times if _inside(el, "main")]
    )
    for value in values:
        date = parse_datetime(value) if value else None
        # A bare date has no zone or time: take it, but only with a time does it beat htmldate.
        if date is not None and "T" in value:
            return date
    return None


def _inside(element: lxml.html.HtmlElement, tag: str) -> bool:
    return any(ancestor.tag == tag for ancestor in element.iterancestors())


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - py3langid has no public type
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text, or None when the text is too short to tell."""
    # The classifier's cost grows with the sample (a Python loop over its bytes). A short
    # sample settles most texts; when it leaves any doubt, a couple of hundred words decide.
    sample = text[:1500]
    if len(sample) < 60:
        return None
    if len(sample) > SHORT_SAMPLE:
        lang, prob = _identifier().classify(sample[:SHORT_SAMPLE])
        if prob >= 0.999:
            return str(lang)
    lang, prob = _identifier().classify(sample)
    return str(lang) if prob >= 0.5 else None


def _declared_language(tree: lxml.html.HtmlElement) -> str | None:
    value = tree.get("lang") or next(
        iter(tree.xpath("//meta[@property='og:locale']/@content")), None
    )
    if not value:
        return None
    return str(value).replace("_", "-").split("-")[0].lower() or None


def _clean_title(title: str | None, sitename: str | None) -> str | None:
    if not title:
        return None
    title = " ".join(title.split())
    if sitename and title.endswith(sitename) and len(title) > len(sitename) + 5:
        stripped = _TITLE_SUFFIX.sub("", title)
        return stripped or title
    return title


def _authors(value: str | None, tree: lxml.html.HtmlElement, jsonld: list[dict]) -> list[str]:
    """trafilatura's byline, spelled as the page spells it (trafilatura title-cases names)."""
    names = _split(value)
    if not names:
        meta = tree.xpath('//meta[@name="author"]/@content')
        return _split(str(meta[0])) if meta else []
    raw = [
        str(v) for v in tree.xpath('//meta[@name="author"]/@content | //*[@rel="author"]//text()')
    ]
    raw += _jsonld_authors(jsonld)
    spelled = {normalize_text(r): " ".join(r.split()) for r in raw if r.strip()}
    page: tuple[str, str] | None = None  # the page's text, and folded; read once if needed
    out = []
    for name in names:
        found = spelled.get(normalize_text(name))
        if found is None:
            if page is None:
                text = tree.text_content()
                page = (text, text.casefold())
            found = _spelled_in(name, *page)
        out.append(found)
    return out


def _spelled_in(name: str, page_text: str, folded: str) -> str:
    """The name as the page's text spells it, or as given when the text does not have it.
    `folded` is page_text.casefold()."""
    words = normalize_text(name).split()
    # A case-insensitive regex over the whole page is slow; most names that are not in the
    # page's text are told apart by a plain search of the folded text first.
    if not words or not all(word in folded for word in words):
        return name
    # trafilatura folds punctuation too ("commonspace.eu" -> "Commonspace Eu").
    pattern = r"\b" + r"\W{1,3}".join(re.escape(word) for word in words) + r"\b"
    match = re.search(pattern, page_text, re.I)
    return " ".join(match.group(0).split()) if match else name


def _jsonld_authors(jsonld: list[dict]) -> list[str]:
    names: list[str] = []
    for node in jsonld:
        authors = node.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if isinstance(author, dict) and isinstance(author.get("name"), str):
                names.append(author["name"])
            elif isinstance(author, str):
                names.append(author)
    return names


def _split(value: str | list[str] | None) -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else re.split(r"\s*[;,]\s*", value)
    seen: list[str] = []
    for item in items:
        item = " ".join(str(item).split())
        if item and item not in seen:
            seen.append(item)
    return seen


def warm_up() -> None:
    """Load what the first page would otherwise wait for (the language model, the MinHash
    permutations)."""
    _identifier()
    preload()
