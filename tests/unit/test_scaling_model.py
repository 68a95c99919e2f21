"""The scaling benchmark's model: list scheduling of scene chains on N CPUs."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scaling import (
    Chain,
    Costs,
    chains_from,
    child_settings,
    finer,
    fit_costs,
    makespan,
    model_curve,
    predict,
)


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


def test_finer_parts_use_more_cpus_than_pieces() -> None:
    # Costs on a line through the origin: 0.1 CPU s of narration and 0.2 of encoding per second.
    chains = [chain(0, 4.0, 8.0, video=40.0), chain(1, 1.0, 2.0, video=10.0)]
    assert fit_costs(chains) == Costs(0.0, 0.1, 0.0, 0.2)
    assert makespan(chains, 4) == pytest.approx(12.0)
    # Four parts of 10 s (1 + 2 CPU s each) and the 10 s scene: five chains of 3 s on 4 CPUs.
    parts = finer(chains, 10.0)
    assert [(c.scene, c.narrate_s, c.encode_s) for c in parts] == [(0, 1.0, 2.0)] * 4 + [
        (1, 1.0, 2.0)
    ]
    assert makespan(chains, 4, segment_s=10.0) == pytest.approx(6.0)


def test_each_finer_part_pays_the_fixed_cost_of_a_piece() -> None:
    # Encoding costs 0.2 s a piece plus 0.1 s per second of video.
    chains = [chain(n, 1.0, 0.2 + 0.1 * v, video=v) for n, v in enumerate((5.0, 10.0, 20.0))]
    costs = fit_costs(chains)
    assert costs.encode_fixed == pytest.approx(0.2) and costs.encode_per_s == pytest.approx(0.1)
    parts = [c for c in finer(chains, 5.0) if c.scene == 0]
    assert len(finer(chains, 5.0)) == 1 + 2 + 4
    assert sum(c.encode_s for c in finer(chains, 5.0)) == pytest.approx(
        sum(c.encode_s for c in chains) + (1 + 3) * 0.2
    )
    assert parts == [chains[0]]


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
    assert curve["wall_s_pieces_as_run"]["16"] == pytest.approx(1.0 + 6.0)
    # Scene 1 (30 s) in parts of at most 8 s: four parts, each a quarter of its CPU (the fit
    # through two points has no fixed cost here: 0.5 = a + 5b, 2.0 = a + 30b gives a = 0.2 for
    # narration, and 4.0 = a + 30b, 0.5 = a + 5b gives a = -0.2, so encoding goes through 0).
    costs = curve["fitted_costs"]
    assert costs["narrate_fixed"] == pytest.approx(0.2)
    assert costs["encode_fixed"] == 0.0
    narrate = (2.0 - 0.2) / 4 + 0.2
    assert curve["wall_s_finer_parts"]["16"] == pytest.approx(1.0 + narrate + 1.0)
    assert curve["speedup_2_to_16_finer"] > curve["speedup_2_to_16_today"]


def test_each_run_has_a_narrator_per_core_unless_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actors.app import local_encoders
    from vividly_ray.settings import load_settings

    monkeypatch.delenv("VIVIDLY_NARRATOR_POOL_SIZE", raising=False)
    for cpus, ray_cpus, encoders in ((1, 2, 1), (2, 2, 1), (16, 16, 8)):
        settings = load_settings(**child_settings(cpus, tmp_path))
        assert (settings.narrator_pool_size, settings.ray_num_cpus) == (cpus, ray_cpus)
        assert local_encoders(settings) == encoders
    monkeypatch.setenv("VIVIDLY_NARRATOR_POOL_SIZE", "3")
    assert load_settings(**child_settings(16, tmp_path)).narrator_pool_size == 3
