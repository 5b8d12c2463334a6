"""A loopback outlet with three years of articles behind monthly sitemaps (WordPress/Yoast
style: an index naming one sitemap per month), for backfills, archives and revisits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.support.pages import article
from tests.support.server import Response, Site

FIRST_MONTH = date(2022, 7, 1)
MONTHS = 36  # 2022-07 .. 2025-06


class HistoricOutlet:
    """`per_month` articles a month for MONTHS months, each month in its own sitemap."""

    def __init__(self, per_month: int = 3, delay_s: float = 0.0) -> None:
        self.site = Site("https://history.example")
        self.delay_s = delay_s
        self.articles: dict[str, datetime] = {}  # path -> publication time
        months = []
        for m in range(MONTHS):
            year, month = (
                FIRST_MONTH.year + (FIRST_MONTH.month - 1 + m) // 12,
                (FIRST_MONTH.month - 1 + m) % 12 + 1,
            )
            months.append((year, month))
            paths = []
            for i in range(per_month):
                when = datetime(year, month, 3 + 9 * i % 25, 10 + i // 3, 30, tzinfo=UTC)
                path = f"/{year}/{month:02d}/report-{year}-{month:02d}-{i}-on-the-corridor"
                self.articles[path] = when
                paths.append(path)
                self.set_page(path, f"Report {year}-{month:02d} number {i} on the corridor")
            self.site.routes[f"/sitemap-{year}-{month:02d}.xml"] = Response(
                self._urlset(paths), "application/xml", delay_s=delay_s
            )
        children = "".join(
            f"<sitemap><loc>{self.site.real_origin}/sitemap-{y}-{m:02d}.xml</loc>"
            f"<lastmod>{y}-{m:02d}-28</lastmod></sitemap>"
            for y, m in months
        )
        self.site.routes["/sitemap_index.xml"] = Response(
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + children.encode()
            + b"</sitemapindex>",
            "application/xml",
        )
        self.site.routes["/robots.txt"] = Response(b"User-agent: *\nAllow: /\n", "text/plain")

    def set_page(self, path: str, title: str, when: datetime | None = None) -> None:
        when = when or self.articles[path]
        self.site.routes[path] = Response(article(0, when, path, title), delay_s=self.delay_s)

    def _urlset(self, paths: list[str]) -> bytes:
        urls = "".join(
            f"<url><loc>{self.site.real_origin}{p}</loc>"
            f"<lastmod>{self.articles[p].date().isoformat()}</lastmod></url>"
            for p in paths
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        ).encode()

    def flat_sitemap(self) -> str:
        """One sitemap naming every article (a live pass over all of them); its URL."""
        self.site.routes["/sitemap-all.xml"] = Response(
            self._urlset(sorted(self.articles)), "application/xml"
        )
        return f"{self.site.url}/sitemap-all.xml"

    def in_month(self, year: int, month: int) -> set[str]:
        return {p for p, when in self.articles.items() if (when.year, when.month) == (year, month)}

    def publish_now(self, path: str, title: str, hours_ago: float = 1.0) -> None:
        """A fresh article (for revisits), listed in a feed."""
        when = datetime.now(UTC) - timedelta(hours=hours_ago)
        self.articles[path] = when
        self.set_page(path, title, when)
        items = "".join(
            f"<item><title>x</title><link>{self.site.real_origin}{p}</link></item>"
            for p, w in self.articles.items()
            if w > datetime.now(UTC) - timedelta(days=2)
        )
        self.site.routes["/feed/"] = Response(
            (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>History</title>'
                f"<link>{self.site.real_origin}/</link>{items}</channel></rss>"
            ).encode(),
            "application/rss+xml",
        )
