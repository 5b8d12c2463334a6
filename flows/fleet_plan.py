"""How a pass splits its outlets into runs for the workers (flows/fleet.py hands them out): a
plain function, apart from fleet.py so that planning imports no Prefect."""

from __future__ import annotations

from urllib.parse import urlsplit

from extractors.records import Outlet


def chunks(outlets: list[Outlet], per_run: int) -> list[list[Outlet]]:
    """Runs of about `per_run` outlets, the outlets of one host always in one run: politeness
    (pacing, connections per host) is kept by one client, and two workers never pace the same
    host each on its own. A host is a name (with or without www.) and a port, as the client
    paces it: another port is another server."""
    by_host: dict[tuple[str, int | None], list[Outlet]] = {}
    for outlet in outlets:
        parts = urlsplit(outlet.homepage)
        host = ((parts.hostname or outlet.id).removeprefix("www."), parts.port)
        by_host.setdefault(host, []).append(outlet)
    runs: list[list[Outlet]] = []
    for group in by_host.values():
        if runs and len(runs[-1]) + len(group) <= per_run:
            runs[-1].extend(group)
        else:
            runs.append(list(group))
    return runs
