"""Redirect scenarios run inside a loopback-only network namespace (see tests/support/netns.py and
tests/test_redirects.py, which asserts on what this prints: one JSON object)."""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from extractors.http import FEED_TYPES, ClientSettings, PoliteClient
from extractors.records import FetchPurpose, Outlet, Page
from tests.support.hostile import HostileServer, page, redirect, robots_txt, unused_port
from tests.support.netns import METADATA, PRIVATE, PUBLIC_A, PUBLIC_B, PUBLIC_C, inside

SETTINGS = ClientSettings(connect_timeout_s=2, read_timeout_s=2, retries=0, backoff_base_s=0.01)
ARTICLE, FEED = FetchPurpose.ARTICLE, FetchPurpose.FEED


def names(answers: dict[str, list[str]]) -> Callable:
    """A resolver for made-up names: each name answers its addresses in turn, then keeps
    answering the last (two answers make a DNS rebinding)."""
    calls: dict[str, int] = {}

    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        n = calls[host] = calls.get(host, -1) + 1
        return [answers[host][min(n, len(answers[host]) - 1)]]

    return resolve


def outlet(homepage: str, outlet_id: str = "news") -> Outlet:
    return Outlet(outlet_id, outlet_id, homepage, "en", min_delay_s=0)


def seen(p: Page) -> dict[str, Any]:
    return {"kind": p.failure.kind if p.failure else None, "error": p.error, "final": p.final_url}


async def private_targets() -> dict[str, Any]:
    """An outlet on a public address whose pages redirect to private ones."""
    port = unused_port(PUBLIC_A)
    with ExitStack() as stack:
        meta = stack.enter_context(HostileServer({"/latest/meta-data/": page()}, METADATA))
        lan = stack.enter_context(HostileServer({"/admin": page()}, PRIVATE))
        local = stack.enter_context(HostileServer({"/secret": page()}))
        site = stack.enter_context(HostileServer({
            "/to-metadata": redirect(f"{meta.url}/latest/meta-data/"),
            "/to-private": redirect(f"{lan.url}/admin", 301),
            "/to-loopback": redirect(f"{local.url}/secret", 307),
            "/to-localhost": redirect(f"http://localhost:{local.port}/secret"),
            "/feed-to-metadata": redirect(f"{meta.url}/latest/meta-data/"),
            "/to-file": redirect("file:///etc/passwd"),
        }, PUBLIC_A, port))  # fmt: skip
        async with PoliteClient(SETTINGS) as client:
            client.add_outlet(outlet(site.url + "/"))
            paths = ["/to-metadata", "/to-private", "/to-loopback", "/to-localhost", "/to-file"]
            pages = {p: seen(await client.fetch(site.url + p, "news", ARTICLE)) for p in paths}
            feed = await client.fetch(site.url + "/feed-to-metadata", "news", FEED, FEED_TYPES)
            pages["/feed-to-metadata"] = seen(feed)
        return {
            "pages": pages, "origin": site.url, "metadata": meta.url, "private": lan.url,
            "loopback": local.url, "requests": {
                "metadata": meta.requests, "private": lan.requests, "loopback": local.requests,
                "site": site.requests,
            },
        }  # fmt: skip


async def rebinding() -> dict[str, Any]:
    """A name that resolves to a public address when the hop is checked and to loopback when
    the connection is made."""
    port = unused_port(PUBLIC_B)
    with ExitStack() as stack:
        public = stack.enter_context(HostileServer({"/rss": page()}, PUBLIC_B, port))
        local = stack.enter_context(HostileServer({"/rss": page()}, "127.0.0.1", port))
        site = stack.enter_context(
            HostileServer({"/feed": redirect(f"http://cdn.rebind-news.org:{port}/rss")}, PUBLIC_A)
        )
        resolver = names({"cdn.rebind-news.org": [PUBLIC_B, "127.0.0.1"]})
        async with PoliteClient(SETTINGS, resolver=resolver) as client:
            client.add_outlet(outlet(site.url + "/"))
            got = await client.fetch(site.url + "/feed", "news", FEED, FEED_TYPES)
        return {"page": seen(got), "public": public.requests, "loopback": local.requests}


async def dead_hop() -> dict[str, Any]:
    """One article redirects to another host of the outlet's site that is down."""
    port, dead = unused_port(PUBLIC_A), unused_port(PUBLIC_B)
    with HostileServer({
        "/moved": redirect(f"http://old.outlet-news.org:{dead}/story"),
        "/one-story": page(), "/two-story": page(),
    }, PUBLIC_A, port) as site:  # fmt: skip
        resolver = names({"www.outlet-news.org": [PUBLIC_A], "old.outlet-news.org": [PUBLIC_B]})
        home = f"http://www.outlet-news.org:{port}"
        async with PoliteClient(SETTINGS, resolver=resolver) as client:
            client.add_outlet(outlet(home + "/"))
            pages = [await client.fetch(home + p, "news", ARTICLE) for p in
                     ("/moved", "/one-story", "/two-story")]  # fmt: skip
            outlet_host = client.host_failure(home + "/")
            hop_host = client.host_failure(f"http://old.outlet-news.org:{dead}/")
        return {
            "pages": [seen(p) for p in pages], "requests": site.requests,
            "outlet_host_failure": outlet_host and outlet_host.kind,
            "hop_host_failure": hop_host and hop_host.kind,
        }  # fmt: skip


async def robots_and_scope() -> dict[str, Any]:
    """Hops to other hosts: robots.txt of the hop's host decides, and articles stay on site."""
    port, cdn_port = unused_port(PUBLIC_A), unused_port(PUBLIC_C)
    with ExitStack() as stack:
        cdn = stack.enter_context(HostileServer({
            "/robots.txt": robots_txt("User-agent: *\nDisallow: /private/\n"),
            "/private/story": page(), "/private/rss": page(), "/open/story": page(),
        }, PUBLIC_C, cdn_port))  # fmt: skip
        site = stack.enter_context(HostileServer({
            "/robots.txt": robots_txt("User-agent: *\nAllow: /\n"),
            "/a": redirect(f"http://cdn.outlet-news.org:{cdn_port}/private/story"),
            "/b": redirect(f"http://cdn.outlet-news.org:{cdn_port}/open/story"),
            "/off-site": redirect(f"http://elsewhere-news.net:{cdn_port}/open/story"),
            "/feed": redirect(f"http://elsewhere-news.net:{cdn_port}/private/rss"),
        }, PUBLIC_A, port))  # fmt: skip
        resolver = names({
            "www.outlet-news.org": [PUBLIC_A], "cdn.outlet-news.org": [PUBLIC_C],
            "elsewhere-news.net": [PUBLIC_C],
        })  # fmt: skip
        home = f"http://www.outlet-news.org:{port}"
        async with PoliteClient(SETTINGS, resolver=resolver) as client:
            client.add_outlet(outlet(home + "/"))
            pages = {p: seen(await client.fetch(home + p, "news", ARTICLE))
                     for p in ("/a", "/b", "/off-site")}  # fmt: skip
            pages["/feed"] = seen(await client.fetch(home + "/feed", "news", FEED, FEED_TYPES))
            log = [(r.kind, r.url, r.status) for r in client.drain_log("news")]
        return {"pages": pages, "cdn": cdn.requests, "site": site.requests, "log": log}


async def configured_private_host() -> dict[str, Any]:
    """A local mirror on a private address is fine for the outlet configured with it, and off
    limits for another outlet's redirect."""
    with ExitStack() as stack:
        mirror = stack.enter_context(HostileServer({"/story": page()}, PRIVATE))
        public = stack.enter_context(
            HostileServer({"/story": redirect(f"{mirror.url}/story")}, PUBLIC_A)
        )
        async with PoliteClient(SETTINGS) as client:
            client.add_outlet(outlet(mirror.url + "/", "mirror"))
            client.add_outlet(outlet(public.url + "/", "public"))
            own = await client.fetch(mirror.url + "/story", "mirror", ARTICLE)
            other = await client.fetch(public.url + "/story", "public", ARTICLE)
        return {"own": seen(own), "other": seen(other), "mirror": mirror.requests}


async def main() -> dict[str, Any]:
    results: dict[str, Any] = {}
    for scenario in (private_targets, rebinding, dead_hop, robots_and_scope,
                     configured_private_host):  # fmt: skip
        try:
            results[scenario.__name__] = await scenario()
        except Exception:  # reported to the test, which fails on it with the traceback
            results[scenario.__name__] = {"crashed": traceback.format_exc()}
    return results


if __name__ == "__main__":
    inside()
    print(json.dumps(asyncio.run(main()), default=str))
