"""`newsmon check OUTLET` / `--all`: one live pass over an outlet's sources, storing nothing,
saying what each source gave and what to fix.

For setting an outlet up, and for finding out why one fails: per source the feed type and item
count, the sitemap kind and URL count, the listing links that match the article pattern; then
one sample article extracted (title, author, date, words). A source that fails gets one line
with what its failure usually means.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

import typer

from extractors.http import HTML_TYPES, ClientSettings, PoliteClient
from extractors.records import Article, Failure, FailureKind, FetchPurpose, Outlet, UrlFailure
from extractors.urls import is_article_url
from flows.cli_common import ConfigOpt, fail, load_config, say
from flows.config import DEFAULT_CONFIG
from flows.discovery import Discovery, SourceSeen, discover

_NEVER = datetime.min.replace(tzinfo=UTC)
# What a failure of a source or of the sample page usually means, and what to do about it.
_ADVICE = {
    FailureKind.CANNOT_RESOLVE: "the host name does not resolve: check the URL, or this "
    "machine's network and DNS",
    FailureKind.CANNOT_CONNECT: "nothing answers there: the site is down, or unreachable from "
    "this network",
    FailureKind.TIMEOUT: "the server went silent: try again later, or raise read_timeout_s",
    FailureKind.DEADLINE: "the answer took too long: try again later, or raise "
    "page_deadline_s / source_deadline_s",
    FailureKind.CONNECTION_LOST: "the connection broke off: try again later",
    FailureKind.ANTI_BOT: "a bot wall: try from another network, or ask the site to let "
    "newsmon in (identify yourself in user_agent)",
    FailureKind.ROBOTS: "robots.txt forbids it: drop this URL",
    FailureKind.REDIRECT_REFUSED: "it redirects where newsmon does not follow: use the final "
    "address, on the outlet's own site",
    FailureKind.TOO_MANY_REDIRECTS: "a redirect loop: use the final address",
    FailureKind.TOO_LARGE: "larger than max_bytes",
    FailureKind.BAD_ENCODING: "its compression or encoding is broken",
    FailureKind.UNSUPPORTED_TYPE: "not HTML or XML: check the URL",
    FailureKind.BINARY: "binary content, not a page: check the URL",
    FailureKind.BAD_SOURCE: "not a feed or sitemap (an HTML page?): check the URL",
    FailureKind.NO_TEXT: "no article text on the page: does article_pattern also match "
    "listing pages, or does the site need JavaScript?",
}


@dataclass
class OutletCheck:
    outlet: Outlet
    discovery: Discovery
    candidates: int = 0
    sample: Article | UrlFailure | None = None
    fixes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return isinstance(self.sample, Article)


async def check_outlet(outlet: Outlet, client: PoliteClient) -> OutletCheck:
    """Discover as a first pass would (nothing remembered), then fetch and extract the newest
    candidate. Nothing is written anywhere."""
    client.add_outlet(outlet)
    found = await discover(outlet, client, [])
    result = OutletCheck(outlet, found, len(found.candidates))
    newest = sorted(
        found.candidates,
        key=lambda c: (c.published_at or c.modified_at or _NEVER).astimezone(UTC),
        reverse=True,
    )
    if newest:
        result.sample = await _sample(outlet, client, newest[0].url)
    result.fixes = _fixes(result)
    return result


async def _sample(outlet: Outlet, client: PoliteClient, url: str) -> Article | UrlFailure:
    from extractors.records import ExtractJob
    from extractors.workers import process

    page = await client.fetch(url, outlet.id, FetchPurpose.ARTICLE, HTML_TYPES)
    if page.failure is not None:
        return UrlFailure(url, outlet.id, page.failure)
    job = ExtractJob(
        page.text or "", url, page.final_url, outlet.id, outlet.homepage, page.fetched_at,
        "check", outlet.language,
    )  # fmt: skip
    return await asyncio.to_thread(process, job)


def _fixes(check: OutletCheck) -> list[str]:
    o, found = check.outlet, check.discovery
    fixes = []
    if found.probed and not (o.feeds or o.sitemaps):
        urls = ", ".join(s.url for s in found.probed if s.url != o.homepage)
        if urls:
            fixes.append(f"found by probing the homepage; name them in newsmon.toml: {urls}")
    listed = sum(s.entries for s in found.seen if s.kind != "sitemap index")
    if not check.candidates and listed and o.article_pattern:
        fixes.append(f"article_pattern matches none of the {listed} URLs the sources list")
    elif not check.candidates and not any(s.failure for s in found.seen):
        fixes.append("no article URL found: add a feed, a sitemap or a section listing page")
    if isinstance(check.sample, UrlFailure):
        fixes.append(f"the sample article failed: {_advice(check.sample.failure, None)}")
    if check.candidates and not o.article_pattern:
        off = [c.url for c in found.candidates if not is_article_url(c.url, None)]
        if off:
            fixes.append(f"no article_pattern: some candidates may be listings, e.g. {off[0]}")
    return fixes


def _advice(failure: Failure, status: int | None) -> str:
    if failure.kind == FailureKind.HTTP_STATUS and status is not None:
        if status in (404, 410):
            return "the URL is gone: correct it in newsmon.toml or drop it"
        if status in (401, 403):
            return "access refused: the site may block bots from this network"
        if status >= 500:
            return "the server is failing: try again later"
    return _ADVICE.get(failure.kind, "")


def source_line(seen: SourceSeen) -> str:
    """One line for one source: what it gave, or why it gave nothing and what that means."""
    indent = "  " * (seen.depth + 1)
    if seen.failure is not None:
        advice = _advice(seen.failure, seen.status)
        return f"{indent}{seen.kind} {seen.url}: {seen.failure.message}" + (
            f" — {advice}" if advice else ""
        )
    what = {"listing page": "links"}.get(seen.kind, "entries")
    if seen.kind == "sitemap index":
        what = "sitemaps"
    line = f"{indent}{seen.kind} {seen.url}: {seen.entries} {what}"
    if seen.kind != "sitemap index":
        line += f", {seen.articles} article URL(s)"
    return line + (f" ({seen.note})" if seen.note else "")


def sample_line(sample: Article | UrlFailure | None) -> str:
    if sample is None:
        return "  sample: none (no article URL found)"
    if isinstance(sample, UrlFailure):
        advice = _advice(sample.failure, None)
        return f"  sample {sample.url}: {sample.failure.message}" + (
            f" — {advice}" if advice else ""
        )
    date = sample.published_at.isoformat() if sample.published_at else "no date"
    via = f" ({sample.date_source})" if sample.date_source else ""
    authors = ", ".join(sample.authors) or "no author"
    return (
        f'  sample {sample.url}: "{sample.title or "(no title)"}" by {authors}, '
        f"{date}{via}, {sample.word_count} words"
    )


def _in_order(seen: list[SourceSeen], parent: str | None = None) -> list[SourceSeen]:
    """Sources as configured, each sitemap index followed by the sitemaps it listed."""
    out = []
    for s in seen:
        if s.parent == parent:
            out += [s, *_in_order(seen, s.url)] if s.kind == "sitemap index" else [s]
    return out


def report(check: OutletCheck) -> list[str]:
    o = check.outlet
    lines = [f"{o.id} ({o.name}) {o.homepage}"]
    seen = _in_order(check.discovery.seen)
    lines += [source_line(s) for s in seen]
    if all(s.failure for s in seen):
        return lines  # each failing source has said what it means
    lines.append(f"  {check.candidates} candidate article URL(s) on the outlet's site")
    lines.append(sample_line(check.sample))
    lines += [f"  fix: {fix}" for fix in check.fixes]
    return lines


async def check_outlets(outlets: list[Outlet], settings: ClientSettings) -> list[OutletCheck]:
    async with PoliteClient(settings) as client:
        return list(await asyncio.gather(*(check_outlet(o, client) for o in outlets)))


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_command(
        outlet_ids: Annotated[
            list[str] | None, typer.Argument(help="Outlet ids to check.", show_default=False)
        ] = None,
        all_outlets: Annotated[bool, typer.Option("--all", help="Check every outlet.")] = False,
        config: ConfigOpt = DEFAULT_CONFIG,
    ) -> None:
        """One live pass over outlets' sources, storing nothing: what each source gives, a
        sample article, and what to fix. Exit 1 when an outlet yields no article."""
        cfg = load_config(config)
        assert cfg is not None
        if bool(outlet_ids) == all_outlets:
            raise fail("name the outlets to check, or give --all")
        known = {o.id: o for o in cfg.outlets}
        unknown = [i for i in outlet_ids or [] if i not in known]
        if unknown:
            raise fail(f"no outlet '{unknown[0]}' in {config} (known: {', '.join(known)})")
        chosen = list(cfg.outlets) if all_outlets else [known[i] for i in outlet_ids or []]
        checks = asyncio.run(check_outlets(chosen, cfg.settings.client))
        for check in checks:
            for line in report(check):
                say(line)
        if not all(c.ok for c in checks):
            raise typer.Exit(1)
