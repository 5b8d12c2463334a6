"""`newsmon check`: one live pass that stores nothing and says what each source gave."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from extractors.http import ClientSettings
from flows.check import check_outlets, report
from flows.config import parse
from flows.demo.server import SiteServer, demo_config, demo_sites, load_manifest
from tests.support.configs import write_config
from tests.support.hostile import HostileServer, page, unused_port
from tests.support.processes import WAIT_S

FAST = ClientSettings(connect_timeout_s=2, read_timeout_s=5, retries=0)
NEWSMON = [sys.executable, "-m", "flows.cli"]
CHALLENGE = b"<html><head><title>Just a moment...</title></head><body>_cf_chl_opt</body></html>"


def checked(config_text: str, tmp_path: Path) -> list[list[str]]:
    import tomllib

    config = parse(tomllib.loads(config_text), tmp_path / "c.toml")
    return [report(c) for c in asyncio.run(check_outlets(list(config.outlets), FAST))]


def test_check_says_what_each_demo_source_gave_and_extracts_a_sample(tmp_path: Path) -> None:
    with SiteServer(demo_sites()) as server:
        reports = checked(demo_config(server.urls(), load_manifest()), tmp_path)
        url = server.urls()["https://eurasianet.org"]
    eurasianet = next(r for r in reports if r[0].startswith("eurasianet "))
    assert eurasianet[1] == f"  RSS feed {url}/rss: 3 entries, 3 article URL(s)"
    assert eurasianet[2] == f"  sitemap {url}/sitemap.xml: 9 entries, 3 article URL(s)"
    assert eurasianet[3] == f"  listing page {url}/region/azerbaijan: 44 links, 3 article URL(s)"
    assert eurasianet[4] == "  3 candidate article URL(s) on the outlet's site"
    sample = eurasianet[5]
    assert sample.startswith(f"  sample {url}/")
    assert re.search(
        r': ".+" by .+, 2025-\d\d-\d\dT[\d:]+[-+]\d\d:\d\d \(\w+\), \d+ words$', sample
    )
    aze = next(r for r in reports if r[0].startswith("aze-media "))
    index = next(i for i, line in enumerate(aze) if "sitemap index" in line)
    assert aze[index].endswith("3 sitemaps (the newest 3 of its 3 sitemaps read)")
    assert all(line.startswith("    sitemap ") for line in aze[index + 1 : index + 4])
    assert not any(line.startswith("  fix:") for r in reports for line in r)


def test_check_names_a_bot_wall_and_a_pattern_that_matches_nothing(tmp_path: Path) -> None:
    routes = {
        "/rss": page(CHALLENGE, 403, headers={"Server": "cloudflare"}),
        "/news/": page(b'<html><body><a href="/story/one-two-three">x</a></body></html>'),
    }
    with HostileServer(routes) as site:
        text = (
            f'[[outlet]]\nid = "walled"\nname = "W"\nhomepage = "{site.url}/"\nlanguage = "en"\n'
            f'feeds = ["/rss"]\nsections = ["/news/"]\narticle_pattern = "^/article/"\n'
        )
        (lines,) = checked(text, tmp_path)
    assert lines[1] == (
        f"  feed {site.url}/rss: anti-bot wall (Cloudflare, HTTP 403): the site refuses automated "
        "clients from this network; try again later, from another network, or ask the site to "
        "allow newsmon — a bot wall: try from another network, or ask the site to let newsmon in "
        "(identify yourself in user_agent)"
    )
    assert lines[2] == f"  listing page {site.url}/news/: 1 links, 0 article URL(s)"
    assert "  fix: article_pattern matches none of the 1 URLs the sources list" in lines


def newsmon(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="300", NO_COLOR="1")
    return subprocess.run(
        [*NEWSMON, *args], capture_output=True, text=True, timeout=WAIT_S, env=env
    )


@pytest.mark.slow  # subprocesses
def test_check_against_an_unreachable_host_prints_one_line_per_source(tmp_path: Path) -> None:
    home = f"http://127.0.0.1:{unused_port()}/"
    config = write_config(
        tmp_path / "c.toml",
        "[settings]\nretries = 0\n"
        f'[[outlet]]\nid = "down"\nname = "Down"\nhomepage = "{home}"\nlanguage = "en"\n'
        'feeds = ["/rss"]\nsitemaps = ["/sitemap.xml"]\nsections = ["/news/"]\n'
        f'[[outlet]]\nid = "bare"\nname = "Bare"\nhomepage = "{home}"\nlanguage = "en"\n',
    )
    done = newsmon("check", "--all", "-c", str(config))
    assert done.returncode == 1 and done.stderr == ""
    lines = done.stdout.splitlines()
    advice = "— nothing answers there: the site is down, or unreachable from this network"
    assert [line.split(": cannot connect: ")[0] for line in lines] == [
        f"down (Down) {home}",
        f"  feed {home}rss",
        f"  sitemap {home}sitemap.xml",
        f"  listing page {home}news/",
        f"bare (Bare) {home}",
        f"  homepage {home}",
    ]
    assert all(line.endswith(advice) for line in lines if line.startswith("  "))
    for args, message in [
        (["check", "nope"], "newsmon: error: no outlet 'nope' in"),
        (["check"], "newsmon: error: name the outlets to check, or give --all"),
    ]:
        wrong = newsmon(*args, "-c", str(config))
        assert wrong.returncode == 2 and wrong.stderr.startswith(message), wrong.stderr
        assert "Traceback" not in wrong.stderr
