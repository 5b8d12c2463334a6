"""HTML page → Article record: trafilatura for text and metadata, our own date and language logic.

Runs in the extraction pool's worker processes (extractors.workers), so everything here is a
plain picklable function over plain records.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from functools import lru_cache

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.settings import set_date_params
from trafilatura.utils import load_html

from extractors.article_text import normalize_text
from extractors.byline import authors
from extractors.chrome import keys as paragraph_keys
from extractors.chrome import strip as strip_chrome
from extractors.dates import htmldate_guess, modified, published
from extractors.fingerprint import fingerprint, preload
from extractors.headline import headline, site_names
from extractors.records import (  # noqa: F401 - ExtractJob is re-exported for callers
    Article,
    ExtractJob,
    Failure,
    FailureKind,
    TitleSource,
    UrlFailure,
)
from extractors.urls import canonicalize, same_site, url_key

EXTRACTOR_VERSION = f"newsmon-1/trafilatura-{trafilatura.__version__}"
_KICKER_WORDS = 12  # a line before the headline longer than this is body, not a kicker
SHORT_SAMPLE = 600  # characters; agreed with the 1,500-character sample on 1,332 texts
MIN_WORDS = 25  # snippet pages (a lead and "...") still count: they join their story


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
    site = site_names(tree, jsonld, job.final_url, None)
    heading = headline(tree, jsonld, job.final_url, site, job.hint_title)
    page_date = published(tree, jsonld, job.hint_published, heading.element, job.final_url)
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
    title, title_source = heading.text, heading.source
    if title is None and doc.title:
        title, title_source = " ".join(doc.title.split()), TitleSource.TITLE
    text = _without_leading_title(doc.text.strip(), [title, heading.whole, doc.title])
    paragraphs = paragraph_keys(text)  # before the chrome goes: what the outlet's pages teach
    text, _ = strip_chrome(text, job.chrome)
    words = word_count(text)
    if words < MIN_WORDS:
        return _no_text(job, f"text too short for an article ({words} words)")
    if _letter_share(text) < 0.6:
        return _no_text(job, "text is not prose (mostly symbols or binary)")
    canonical = _page_canonical(tree, job) or canonicalize(job.final_url) or job.url
    published_at, date_source = page_date or htmldate_guess(doc.date)
    modified_at, modified_source = modified(tree, jsonld, heading.element) or (None, None)
    if modified_at is not None and published_at is not None and modified_at < published_at:
        modified_at, modified_source = None, None  # an "update" before publication is noise
    language = detect_language(f"{title or ''}\n{text}") or _declared_language(tree)
    names, author_source = authors(tree, jsonld, heading.element, site, job.hint_author)
    normalized = normalize_text(text)  # shared by the exact hash and the fingerprint
    return Article(
        id=article_id(canonical),
        outlet_id=job.outlet_id,
        url=job.url,
        canonical_url=canonical,
        title=title,
        authors=names,
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
        title_source=title_source,
        author_source=author_source,
        modified_at=modified_at,
        modified_source=modified_source,
        paragraph_keys=paragraphs,
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
    """Share of letters, their marks and digits among the visible characters: binary or
    symbol soup has few. Marks count (Devanagari writes vowels as combining signs, which are
    not letters to str.isalpha), and so do digits (a table of figures is still text)."""
    sample = "".join(text[:5000].split())
    if not sample:
        return 0.0
    kept = sum(ch.isalnum() or unicodedata.category(ch)[0] == "M" for ch in sample)
    return kept / len(sample)


def _without_leading_title(text: str, titles: list[str | None]) -> str:
    """Drop the headline when it is among the first lines: trafilatura keeps an <h1> inside the
    article container, and the title has its own column. What precedes it goes too (kickers,
    breadcrumbs, datelines, slogans) unless it reads as prose: some layouts put the lead or
    the whole body above the headline. `titles`: the ways the page spells its headline."""
    wanted = {normalize_text(title) for title in titles if title}
    wanted.discard("")
    if not wanted:
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines[:6]):
        if normalize_text(line) in wanted:
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


# Compiled once: it runs on every page.
_CANONICAL = lxml.etree.XPath(
    '//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content'
)


def _page_canonical(tree: lxml.html.HtmlElement, job: ExtractJob) -> str | None:
    """rel=canonical, then og:url — only when they stay on the outlet's own site."""
    candidates = sorted(_CANONICAL(tree), key=lambda href: href.getparent().tag != "link")
    for href in candidates:
        url = canonicalize(str(href), job.final_url)
        if url and same_site(url, job.homepage):
            return url
    return None


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


def _walk_jsonld(data: object):  # noqa: ANN202 - generator over nested JSON-LD
    if isinstance(data, list):
        for item in data:
            yield from _walk_jsonld(item)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            if key in data:
                yield from _walk_jsonld(data[key])


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
