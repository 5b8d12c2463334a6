"""How a pass splits its outlets into worker runs (flows/fleet_plan.py), without Prefect."""

from __future__ import annotations

from extractors.records import Outlet
from flows.fleet_plan import chunks


def _outlet(outlet_id: str, homepage: str) -> Outlet:
    return Outlet(outlet_id, outlet_id, homepage, "en")


def test_the_outlets_of_one_host_go_to_one_run_and_other_hosts_to_others() -> None:
    outlets = [
        _outlet("a", "https://www.wire.example/"),
        _outlet("a-world", "https://wire.example/world"),  # the same host without www.
        _outlet("b", "https://paper.example/"),
        _outlet("c", "http://127.0.0.1:8001/"),
        _outlet("d", "http://127.0.0.1:8002/"),  # another port: another server
        _outlet("c-again", "http://127.0.0.1:8001/news"),
    ]
    runs = chunks(outlets, per_run=1)
    assert [[o.id for o in run] for run in runs] == [
        ["a", "a-world"],
        ["b"],
        ["c", "c-again"],
        ["d"],
    ]
    together = chunks(outlets, per_run=3)
    assert [[o.id for o in run] for run in together] == [
        ["a", "a-world", "b"], ["c", "c-again", "d"],
    ]  # fmt: skip
