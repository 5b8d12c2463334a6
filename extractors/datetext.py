"""Dates as pages write them: "Oct 31, 2025", "31.10.2025", «3 декабря 2025», "3 dekabr 2025",
the labels beside them ("Published", «Обновлено», "Yenilənib"), and the date in an article's URL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from extractors.discover import parse_datetime

PUBLISHED_LABEL = re.compile(
    r"\b(?:published|posted|first published|опубликовано|дата публикации|dərc (?:olunub|edilib)|"
    r"veröffentlicht|publié|publicado)\b",
    re.I,
)
UPDATED_LABEL = re.compile(
    r"\b(?:updated|last updated|modified|last modified|reviewed|обновлено|изменено|yenilənib|"
    r"aktualisiert|mis à jour|actualizado)\b",
    re.I,
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "january jan январь января янв yanvar ocak januar janvier enero",
            "february feb февраль февраля фев fevral şubat februar février febrero",
            "march mar март марта mart märz mars marzo",
            "april apr апрель апреля апр aprel nisan avril abril",
            "may май мая may mayıs mai mayo",
            "june jun июнь июня iyun haziran juni juin junio",
            "july jul июль июля iyul temmuz juli juillet julio",
            "august aug август августа авг avqust ağustos août agosto",
            "september sep sept сентябрь сентября сен sentyabr eylül septembre septiembre",
            "october oct октябрь октября окт oktyabr ekim oktober octobre octubre",
            "november nov ноябрь ноября ноя noyabr kasım novembre noviembre",
            "december dec декабрь декабря дек dekabr aralık dezember décembre diciembre",
        ),
        start=1,
    )
    for name in names.split()
}
_WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag "
    "freitag samstag sonntag понедельник вторник среда четверг пятница суббота воскресенье "
    "bazar ertəsi çərşənbə cümə şənbə"
)
# Where a date starts in a line of text: a weekday, or a month's name before its day.
DATE_WORDS = re.compile(
    r"\b(?:" + "|".join(_WEEKDAYS.split()) + r")\b|\b(?:"
    + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?\s*\d",
    re.I,
)  # fmt: skip
_MONTH = r"([^\W\d_]{3,10})\.?"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+{_MONTH},?\s+(\d{{4}})\b")
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")
_URL_DATE = re.compile(r"/((?:19|20)\d\d)/(\d{1,2}|[a-z]{3,9})/(\d{1,2})(?:/|$)", re.I)
_NUMERIC = re.compile(r"\b(\d{1,4})([./-])(\d{1,2})\2(\d{2,4})\b")


def parse_date(value: str, month_first: bool = True) -> datetime | None:
    """ISO 8601 or RFC 822, else a date as people write it ("Oct 31, 2025", "31.10.2025",
    «3 декабря 2025», "3 dekabr 2025"), taken as midnight UTC. `month_first`: how to read
    3/4/2025 (see month_first())."""
    value = value.strip()
    if not value:
        return None
    date = parse_datetime(value)
    if date is not None:
        return date
    return human_date(value, month_first)


def human_date(text: str, month_first: bool = True) -> datetime | None:
    for pattern, order in ((_DAY_MONTH_YEAR, "dmy"), (_MONTH_DAY_YEAR, "mdy")):
        match = pattern.search(text)
        if match:
            parts = dict(zip(order, match.groups(), strict=True))
            month = _MONTHS.get(parts["m"].casefold())
            if month:
                return make_date(int(parts["y"]), month, int(parts["d"]))
    match = _NUMERIC.search(text)
    if not match:
        return None
    first, separator, middle, last = match.groups()
    if len(first) == 4:
        return make_date(int(first), int(middle), int(last))
    year = int(last) + (2000 if len(last) == 2 else 0)
    day, month = int(first), int(middle)
    # A slash is month first where the page is American (unless the first number cannot be a
    # month); dots and dashes are day first, as most of the world writes them.
    if separator == "/" and month_first and day <= 12:
        day, month = month, day
    return make_date(year, month, day)


def make_date(year: int, month: int, day: int) -> datetime | None:
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def as_the_url_reads(shown: datetime, url: str) -> datetime:
    """A shown date read with day and month the other way round when the article's URL, dated
    when it was published (/2023/10/03/, /2023/october/03/), says so: "03/10/2023" on a page
    that declares no country, or the wrong one."""
    match = _URL_DATE.search(url)
    if match is None or shown.day > 12:
        return shown
    year, month, day = match.groups()
    month = int(month) if month.isdigit() else _MONTHS.get(month.lower(), 0)
    swapped = make_date(shown.year, shown.day, shown.month)
    wanted = (int(year), month, int(day))
    if swapped is not None and (swapped.year, swapped.month, swapped.day) == wanted:
        return swapped
    return shown
