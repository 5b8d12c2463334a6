"""Going back in time: which sitemaps and listing pages hold an outlet's articles of a date range.

Pure functions over what discovery parsed (extractors.discover's entries); flows/backfill.py
fetches. Three ways back, in the order a backfill prefers them:
- a sitemap index whose children name their dates (`sitemap-2024-03.xml`, `/2024/03/`,
  `?yyyy=2024&mm=03`) or carry a `lastmod`: the children that cover the range are chosen
  without reading the others;
- numbered children with no dates (WordPress `wp-sitemap-posts-post-N.xml`, Yoast
  `post-sitemap2.xml`, Drupal `?page=N`) and paginated sections and feeds (`?page=N`,
  `/page/N/`, `?paged=N`): ordered pages, searched for the range by the dates of the pages read
  so far (`next_page`), so three years back costs a few probes, not a thousand pages;
- the stop rule: a walk ends once a page older than the range has been read.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from extractors.discover import Entry

MIN_YEAR = 1995  # a four-digit number below this in a sitemap's name is no year
# Ways a sitemap's name says which month (or day) it holds: 2024-03, 2024/03, 2024_03, 202403.
_NAME_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})[-_/]?(?P<m>0[1-9]|1[0-2])(?:[-_/]?(?P<d>0[1-9]|[12]\d|3[01]))?(?!\d)"
)
_NAME_YEAR = re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?![\d])")
_YEAR_KEYS = ("yyyy", "year", "y")
_MONTH_KEYS = ("mm", "month", "m")
# The number of a numbered sitemap: wp-sitemap-posts-post-3.xml, post-sitemap3.xml, sitemap-3.xml
_NAME_NUMBER = re.compile(r"(?P<stem>.*?)(?P<n>\d{1,5})(?P<ext>\.xml(?:\.gz)?)$")
_PAGE_KEYS = ("page", "paged", "p", "pg")
_PATH_PAGE = re.compile(r"/page/(?P<n>\d+)/?$")
_DAY_END = timedelta(days=1, microseconds=-1)  # the last instant of a day, from its start


@dataclass(frozen=True)
class Window:
    """The dates a backfill wants, both ends included (UTC days)."""

    since: date
    until: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the window."""
        return datetime.combine(self.until + timedelta(days=1), time.min, UTC)

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def overlaps(self, span: Span) -> bool:
        return span.oldest < self.end and span.newest >= self.start


@dataclass(frozen=True)
class Span:
    """The oldest and newest dates of what a page or a sitemap holds."""

    oldest: datetime
    newest: datetime


def entry_date(entry: Entry) -> datetime | None:
    """An entry's date for a backfill: its publication date, else its lastmod (in news sitemaps
    mostly the publication date; a page edited long after is missed rather than every later page
    fetched: the article's own date decides in the end)."""
    return entry.published_at or entry.modified_at


def span_of(entries: Sequence[Entry]) -> Span | None:
    """The dates a page of entries covers, for finding one's way (None: no entry is dated).
    A tenth at each end is left out, so a pinned old post on a listing's first page does not
    make it look like the end of the archive; the page's own entries are all kept anyway."""
    dates = sorted(d for d in (entry_date(e) for e in entries) if d is not None)
    if not dates:
        return None
    trim = len(dates) // 10
    kept = dates[trim : len(dates) - trim] if trim else dates
    return Span(kept[0], kept[-1])


def in_window(entry: Entry, window: Window) -> bool:
    """Worth fetching: dated within the window, or not dated at all (its page decides)."""
    when = entry_date(entry)
    return when is None or window.holds(when)


def named_span(url: str) -> Span | None:
    """The dates a sitemap's name says it holds: a day, a month or a year."""
    parts = urlsplit(url)
    query = {k.lower(): v for k, v in parse_qsl(parts.query)}
    year = next((query[k] for k in _YEAR_KEYS if query.get(k, "").isdigit()), None)
    if year is not None and MIN_YEAR <= int(year) <= 2100:
        month = next((query[k] for k in _MONTH_KEYS if query.get(k, "").isdigit()), None)
        if month is not None and 1 <= int(month) <= 12:
            return _month(int(year), int(month))
        return _year(int(year))
    name = parts.path
    # The last date in the path is the most specific (/2024/sitemap-2024-03.xml).
    match = next(reversed(list(_NAME_DATE.finditer(name))), None)
    if match is not None:
        year, month = int(match["y"]), int(match["m"])
        if year >= MIN_YEAR:
            if match["d"]:
                day = date(year, month, int(match["d"]))
                return Span(_at(day), _at(day + timedelta(days=1)) - timedelta(microseconds=1))
            return _month(year, month)
    years = [int(m["y"]) for m in _NAME_YEAR.finditer(name.rsplit("/", 1)[-1])]
    if len(years) == 1 and years[0] >= MIN_YEAR:
        return _year(years[0])
    return None


def _at(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _month(year: int, month: int) -> Span:
    last = calendar.monthrange(year, month)[1]
    return Span(_at(date(year, month, 1)), _at(date(year, month, last)) + _DAY_END)


def _year(year: int) -> Span:
    return Span(_at(date(year, 1, 1)), _at(date(year, 12, 31)) + _DAY_END)


class Paging(StrEnum):
    QUERY = "query"  # ?page=N, ?paged=N (WordPress), ?p=N
    PATH = "path"  # /page/N/ (WordPress listings and feeds)
    NAME = "name"  # post-sitemap2.xml, wp-sitemap-posts-post-2.xml


@dataclass(frozen=True)
class Numbered:
    """A page of a numbered series: `series` names the series (the URL without its number)."""

    series: str
    number: int
    paging: Paging
    key: str = ""  # the query parameter, for QUERY


def page_number(url: str) -> Numbered | None:
    """Where a sitemap or listing URL stands in a numbered series: `post-sitemap2.xml` is page
    2 of `post-sitemap#.xml`; the first of a series often has no number (`post-sitemap.xml`)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    for key, value in query:
        if key.lower() in _PAGE_KEYS and value.isdigit():
            rest = urlencode([(k, v) for k, v in query if k != key])
            series = urlunsplit(parts._replace(query=rest))
            return Numbered(series, int(value), Paging.QUERY, key)
    path = parts.path
    match = _PATH_PAGE.search(path)
    if match:
        series = urlunsplit(parts._replace(path=path[: match.start()] + "/page/#/"))
        return Numbered(series, int(match["n"]), Paging.PATH)
    match = _NAME_NUMBER.match(path)
    if match:
        series = urlunsplit(parts._replace(path=match["stem"].rstrip("-_") + "#" + match["ext"]))
        return Numbered(series, int(match["n"]), Paging.NAME)
    if path.endswith((".xml", ".xml.gz")):
        stem, ext = (path[:-7], ".xml.gz") if path.endswith(".gz") else (path[:-4], ".xml")
        series = urlunsplit(parts._replace(path=stem.rstrip("-_") + "#" + ext))
        return Numbered(series, 1, Paging.NAME)
    return None


@dataclass(frozen=True)
class ChildPlan:
    """A sitemap index's children for a window: those chosen by their dates, and series of
    numbered children without dates, each in page order, to be searched with next_page."""

    chosen: list[Entry]
    series: list[list[Entry]]
    skipped: int  # children whose dates fall outside the window


def choose_children(children: Sequence[Entry], window: Window) -> ChildPlan:
    chosen: list[Entry] = []
    undated: list[Entry] = []
    skipped = 0
    for child in children:
        span = named_span(child.url)
        if span is not None:
            if window.overlaps(span):
                chosen.append(child)
            else:
                skipped += 1
        else:
            undated.append(child)
    # A child's lastmod is when its newest entry changed: it holds nothing after it, and (in a
    # series ordered by date) nothing before its predecessor's lastmod.
    series: dict[str, list[tuple[int, Entry]]] = {}
    loose: list[Entry] = []
    for child in undated:
        numbered = page_number(child.url)
        if numbered is None:
            loose.append(child)
        else:
            series.setdefault(numbered.series, []).append((numbered.number, child))
    searched: list[list[Entry]] = []
    for members in series.values():
        ordered = [child for _, child in sorted(members, key=lambda m: m[0])]
        lastmods = [c.modified_at for c in ordered]
        if all(lastmods) and lastmods == sorted(lastmods):  # type: ignore[type-var]
            for index, child in enumerate(ordered):
                before = ordered[index - 1].modified_at if index else None
                newest = child.modified_at
                assert newest is not None
                if newest >= window.start and (before is None or before < window.end):
                    chosen.append(child)
                else:
                    skipped += 1
        else:
            searched.append(ordered)
    for child in loose:
        if child.modified_at is not None and child.modified_at < window.start:
            skipped += 1
        else:
            chosen.append(child)
    return ChildPlan(chosen, searched, skipped)


class Order(StrEnum):
    NEWEST_FIRST = "newest-first"  # listings and feed pages
    OLDEST_FIRST = "oldest-first"  # numbered sitemaps (WordPress, Yoast)


EMPTY = None  # a page past the end (missing, or with no entries)
# A page with entries but no dates on any of them (no page is really dated at year 1).
UNDATED = Span(datetime.min.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))


def infer_order(seen: Mapping[int, Span | None], default: Order) -> Order:
    """The order a series really has, once two of its pages with dates have been read."""
    dated = sorted((k, s) for k, s in seen.items() if s is not EMPTY and s != UNDATED)
    if len(dated) < 2:
        return default
    (_, first), (_, later) = dated[0], dated[-1]
    if later.newest < first.newest:
        return Order.NEWEST_FIRST
    if later.newest > first.newest:
        return Order.OLDEST_FIRST
    return default


def next_page(
    seen: Mapping[int, Span | None],
    window: Window,
    order: Order = Order.NEWEST_FIRST,
    last: int | None = None,
) -> int | None:
    """The page (1-based) to read next to cover `window`, or None when it is covered.

    `seen` maps each page read so far to the dates it holds (EMPTY past the end); `last` is the
    number of pages when known (a sitemap index lists them), and is needed for OLDEST_FIRST.
    Pages are searched, not walked: galloping (1, 2, 4, 8, ...) then halving finds the newest
    page that reaches into the window; from there pages are read one by one until one reaches
    below it (the stop rule) or the pages end. An undated page gives no bearing: the search
    then reads every page in turn.
    """
    if order == Order.OLDEST_FIRST:
        if last is None:
            raise ValueError("an oldest-first series needs its number of pages")
        flipped = {last + 1 - k: v for k, v in seen.items()}
        found = next_page(flipped, window, Order.NEWEST_FIRST, last)
        return None if found is None else last + 1 - found
    if last is not None and last < 1:
        return None
    limit = (last + 1) if last is not None else None  # the first page past the end, if known

    def past_end(k: int) -> bool:
        return (limit is not None and k >= limit) or (k in seen and seen[k] is EMPTY)

    if any(span == UNDATED for span in seen.values()):
        # No bearings from dates: read every page up to the end.
        k = 1
        while not past_end(k) and k in seen:
            k += 1
        return None if past_end(k) else k

    # Pages 1..lo are wholly newer than the window; hi is the first known page that reaches
    # below the window's end (or the end of the pages).
    lo = max((k for k, s in seen.items() if s is not EMPTY and s.oldest >= window.end), default=0)
    reaching = [k for k, s in seen.items() if (s is EMPTY or s.oldest < window.end) and k > lo]
    hi = min(reaching, default=limit)
    if hi is None:  # no known end yet: gallop
        return max(1, 2 * lo)
    if hi - lo > 1:
        return (lo + hi) // 2
    k = hi  # the newest page reaching into the window (or the end of the pages)
    while True:
        if past_end(k):
            return None
        if k not in seen:
            return k
        span = seen[k]
        assert span is not None
        if span.newest < window.start:
            return None  # wholly older than the window: covered
        if span.oldest < window.start:
            return None  # reaches below the window: nothing older is wanted
        k += 1


@dataclass(frozen=True)
class Pager:
    """How a listing numbers its pages: learnt from its own link to the second page."""

    base: str  # the first page's URL
    paging: Paging
    key: str = "page"  # the query parameter, for QUERY
    first_number: int = 1  # what the first page would be called (Drupal counts from 0)

    def url(self, page: int) -> str:
        """The URL of page `page` (1 = the first page, as served at `base`)."""
        if page <= 1:
            return self.base
        number = page - 1 + self.first_number
        parts = urlsplit(self.base)
        if self.paging == Paging.PATH:
            path = parts.path.rstrip("/") + f"/page/{number}/"
            return urlunsplit(parts._replace(path=path))
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != self.key]
        query.append((self.key, str(number)))
        return urlunsplit(parts._replace(query=urlencode(query)))


def pager(base: str, second: str | None) -> Pager:
    """The pager of a listing whose first page is `base` and whose "next" link is `second`
    (extractors.discover.next_page_url); WordPress's /page/N/ when the page names none."""
    numbered = page_number(second) if second else None
    if numbered is not None and numbered.paging == Paging.QUERY:
        return Pager(base, Paging.QUERY, numbered.key, first_number=numbered.number - 1)
    if numbered is not None and numbered.paging == Paging.PATH:
        return Pager(base, Paging.PATH, first_number=numbered.number - 1)
    return Pager(base, Paging.PATH)
