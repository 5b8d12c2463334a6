"""The summary `pipeline_bench --runs N` prints: medians of ratios taken within each run."""

from __future__ import annotations

from benchmarks.pipeline_bench import summarise_runs


def run(limit: float, peers: dict[str, float]) -> dict:
    return {
        "ratio_to_limit": limit, "ratio_to_naive": 1.1, "second_pass_share": 0.015,
        "ratio_to_peers": peers,
    }  # fmt: skip


def test_medians_are_of_per_run_ratios_and_peers_missing_from_a_run_are_not_invented() -> None:
    runs = [
        run(0.73, {"news-please": 3.2}),
        run(0.89, {"news-please": 4.3, "newspaper4k": 4.9}),
        run(0.81, {"news-please": 4.0, "newspaper4k": 4.4}),
    ]
    summary = summarise_runs(runs)
    assert summary["median"]["newsmon / limit"] == 0.81
    assert summary["median"]["newsmon / news-please"] == 4.0
    assert summary["ratios"]["newsmon / newspaper4k"] == [4.9, 4.4]
    assert summary["median"]["newsmon / newspaper4k"] == 4.65
