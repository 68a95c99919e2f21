"""The scaling benchmark's model: list scheduling of scene chains on N CPUs."""

from __future__ import annotations

import pytest

from benchmarks.scaling import Chain, chains_from, makespan, model_curve, predict


def chain(scene: int, narrate: float, encode: float, video: float = 10.0) -> Chain:
    return Chain(scene, narrate, encode, video)


def test_one_cpu_runs_all_work_back_to_back() -> None:
    chains = [chain(0, 1.0, 2.0), chain(1, 0.5, 0.5), chain(2, 2.0, 1.0)]
    assert makespan(chains, 1) == pytest.approx(7.0)


def test_enough_cpus_leave_the_longest_chain() -> None:
    chains = [chain(0, 1.0, 2.0), chain(1, 0.5, 0.5), chain(2, 2.0, 1.5)]
    assert makespan(chains, 8) == pytest.approx(3.5)


def test_two_cpus_follow_the_pools_order() -> None:
    # Scene 0 first, then longest first; a ready encode goes before a new narration.
    chains = [chain(0, 1.0, 1.0), chain(1, 1.0, 3.0), chain(2, 1.0, 1.0)]
    # t=0: n0 (cpu a), n1 (cpu b); t=1: e0, e1 start; t=2: e0 done -> n2; t=3: e2; t=4: e1 done
    assert makespan(chains, 2) == pytest.approx(4.0)


def test_split_encodes_use_more_cpus_than_scenes() -> None:
    chains = [chain(0, 1.0, 8.0, video=40.0)]
    assert makespan(chains, 4) == pytest.approx(9.0)
    # Five parts of at most 8 s of video, each 1.6 CPU s, on 4 CPUs: two rounds.
    assert makespan(chains, 4, segment_s=8.0) == pytest.approx(1.0 + 3.2)


def test_no_chains_take_no_time() -> None:
    assert makespan([], 4) == 0.0


def manifest() -> dict[str, object]:
    return {
        "stage_seconds": {
            "validating": 0.1,
            "retrieving": 0.2,
            "generating_video": 9.0,
            "processing_video": 0.5,
            "notifying": 0.05,
        },
        "durations": {"scenes": [{"index": 0, "seconds": 5.0}, {"index": 1, "seconds": 30.0}]},
        "tasks": [
            {"task": "narrate", "scene": 0, "cpu_s": 0.5},
            {"task": "encode", "scene": 0, "cpu_s": 0.5},
            {"task": "narrate", "scene": 1, "cpu_s": 2.0},
            {"task": "encode", "scene": 1, "cpu_s": 4.0},
        ],
    }


def test_the_manifest_gives_chains_and_a_curve() -> None:
    chains = chains_from(manifest())
    assert chains == [Chain(0, 0.5, 0.5, 5.0), Chain(1, 2.0, 4.0, 30.0)]
    # Serial 0.85 s + overhead 0.15 s + all 7 CPU s on one CPU.
    assert predict(manifest(), 0.15, 1) == pytest.approx(8.0)
    curve = model_curve(manifest(), 0.15, [1, 2, 16], 8.0)
    assert curve["wall_s_one_encode_per_scene"]["16"] == pytest.approx(1.0 + 6.0)
    assert curve["wall_s_split_encodes"]["16"] == pytest.approx(1.0 + 2.0 + 1.0)
    assert curve["speedup_2_to_16_split"] > curve["speedup_2_to_16_today"]
