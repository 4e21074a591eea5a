"""The last info's KPIs: computed at the first read and only then, equal to the log's KPIs,
and a plain dict once pickled or copied."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

import twin.envs.episode_kpis as episode_kpis
from twin.envs.dispatch import DispatchEnv
from twin.envs.episode_kpis import EpisodeKpis
from twin.measure.kpi import compute_kpis

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "scenarios" / "examples" / "job_shop.yaml"


def _last_info(env: DispatchEnv) -> dict[str, object]:
    env.reset(seed=3)
    while True:
        *_, terminated, truncated, info = env.step(0)
        if terminated or truncated:
            return info


def test_kpis_are_computed_once_at_the_first_read(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []

    def counted(*args: object) -> dict[str, float]:
        calls.append(1.0)
        return compute_kpis(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(episode_kpis, "compute_kpis", counted)
    kpis = _last_info(DispatchEnv(SHOP, horizon=1500))["kpis"]
    assert isinstance(kpis, EpisodeKpis) and calls == []
    assert kpis["completed"] > 0 and len(calls) == 1
    assert len(kpis) == len(dict(kpis)) and len(calls) == 1


def test_kpis_equal_the_logs_and_pickle_and_copy_as_a_dict() -> None:
    env = DispatchEnv(SHOP, horizon=1500)
    kpis = _last_info(env)["kpis"]
    assert isinstance(kpis, EpisodeKpis)
    plant = env.plant
    warmup = min(plant.start + env.scenario.warmup, plant.env.now)
    expected = compute_kpis(plant.log, env.scenario, warmup, plant.env.now)
    assert kpis == expected and list(kpis) == list(expected)
    for plain in (pickle.loads(pickle.dumps(kpis)), copy.copy(kpis), copy.deepcopy(kpis)):
        assert type(plain) is dict and plain == expected
    assert repr(kpis) == repr(expected)
