"""Which Prefect server, if any, records a one-shot run (`newsmon run`, `newsmon demo`).

A run is recorded on the Prefect server the user configured: PREFECT_API_URL, from the
environment or the active Prefect profile. Otherwise it goes without Prefect. Prefect would
start a temporary server of its own for the one run, which cost 10-60 s before the first
request and kept nothing once the command ended; and recording on a server that merely happens
to run (one on 127.0.0.1:4200) was measured and left out: importing Prefect and opening the
flow run double the CPU before the first request, past the two seconds a one-shot command may
take to start working (benchmarks/README.md, start-up). NEWSMON_PREFECT=off runs without
Prefect even when a server is configured.

Nothing here imports Prefect: the profile is read as the TOML file it is.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import httpx


def api_for_run() -> tuple[str | None, str | None]:
    """(API URL to record the run on, or None; a note for the user, or None)."""
    if os.environ.get("NEWSMON_PREFECT", "auto").strip().lower() in ("off", "0", "no", "false"):
        return None, None
    configured = configured_api()
    if configured is None:
        return None, None
    if answers(configured):
        return configured, None
    return None, f"the Prefect server at {configured} does not answer; running without it"


def configured_api() -> str | None:
    """PREFECT_API_URL as Prefect would read it: the environment, else the active profile."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active")
    settings = profiles.get("profiles", {}).get(active, {}) if isinstance(active, str) else {}
    url = settings.get("PREFECT_API_URL") if isinstance(settings, dict) else None
    return url if isinstance(url, str) and url else None


def answers(api_url: str, connect_s: float = 3.0, answer_s: float = 30.0) -> bool:
    """Any HTTP answer will do: Prefect Cloud wants a key even for /health. A server that is not
    there is known within `connect_s` (refused at once, or no connection); one that accepted
    the connection is there, and a busy one (its SQLite database, a loaded machine) is given
    `answer_s` to answer rather than being passed over for the run."""
    try:
        httpx.get(
            f"{api_url.rstrip('/')}/health", timeout=httpx.Timeout(answer_s, connect=connect_s)
        )
    except httpx.HTTPError:
        return False
    return True
