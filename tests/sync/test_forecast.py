"""Forecasts from a plant state: the JSON document, determinism, per-job answers, the CLI,
refusals, and interventions compared with common random numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.helpers import scenario
from twin.cli import app
from twin.errors import ScenarioError
from twin.scenario import load_scenario
from twin.scenario.state import PlantState
from twin.sim.plant import Plant
from twin.sync.forecast import forecast

ROOT = Path(__file__).resolve().parents[2]

LINE_DATA = {
    "name": "line",
    "horizon": 600,
    "seed": 2,
    "replications": 12,
    "products": {
        "part": {"arrival": {"dist": "exponential", "mean": 1.3}, "route": ["cut", "drill"], "due_date": {"slack": 25}}
    },
    "stations": {
        "cut": {
            "buffer": 6,
            "process_time": {"dist": "gamma", "shape": 3, "scale": 0.35},
            "failures": {
                "ttf": {"dist": "weibull", "shape": 2, "scale": 200},
                "ttr": {"dist": "exponential", "mean": 15},
            },
        },
        "drill": {"machines": 2, "buffer": 3, "process_time": {"dist": "uniform", "low": 1.0, "high": 2.2}},
    },
}
LINE = scenario(LINE_DATA["stations"], LINE_DATA["products"], horizon=600, seed=2, replications=12)


@pytest.fixture(scope="module")
def state() -> PlantState:
    plant = Plant(LINE, seed=9)
    plant.env.run(until=333.0)
    found = plant.snapshot()
    assert len(found.jobs) >= 3
    return found


def test_the_forecast_document_has_the_contracts_names_and_sane_numbers(state: PlantState) -> None:
    document = forecast(LINE, state, 120.0, replications=10)
    assert {"time", "horizon", "kpis", "completions", "jobs"} <= set(document)
    assert (document["time"], document["horizon"]) == (333.0, 120.0)
    assert set(document["kpis"]["throughput"]) == {"mean", "ci_low", "ci_high"}
    fan = document["completions"]
    assert len(fan["p10"]) == len(fan["p50"]) == len(fan["p90"]) == 2  # two hours
    assert all(a <= b <= c for a, b, c in zip(fan["p10"], fan["p50"], fan["p90"], strict=True))
    assert document["kpis"]["completed"]["mean"] == pytest.approx(fan["total"]["mean"])
    assert [job["id"] for job in document["jobs"]] == [job.id for job in state.jobs]
    for job in document["jobs"]:
        assert {"id", "p10", "p50", "p90", "p_late"} <= set(job)
        assert 0.0 <= job["p_late"] <= 1.0
        if job["p90"] is not None:
            assert 333.0 <= job["p10"] <= job["p50"] <= job["p90"] <= 453.0
    # The job nearest to done (furthest along its route) leaves first at the median.
    first = max(state.jobs, key=lambda j: (j.step, j.where == "machine", j.elapsed))
    medians = {job["id"]: job["p50"] for job in document["jobs"] if job["p50"] is not None}
    assert medians[first.id] == min(medians.values())


def test_a_forecast_is_reproducible_and_the_same_on_any_executor(state: PlantState) -> None:
    one = forecast(LINE, state, 60.0, replications=4, seed=5)
    assert forecast(LINE, state, 60.0, replications=4, seed=5) == one
    assert forecast(LINE, state, 60.0, replications=4, seed=6) != one


@pytest.mark.slow
def test_workers_give_the_serial_forecast(state: PlantState) -> None:
    assert forecast(LINE, state, 60.0, replications=4, workers=2) == forecast(LINE, state, 60.0, replications=4)


def test_a_job_due_before_it_can_be_done_is_late_and_one_due_far_ahead_is_not() -> None:
    s = scenario({"a": {"process_time": 2.0}}, {"p": {"release": [{"at": 0}], "route": ["a"]}})
    state = PlantState.model_validate(
        {
            "time": 10.0,
            "jobs": [
                {
                    "id": "soon",
                    "product": "p",
                    "where": "machine",
                    "station": "a",
                    "machine": "0",
                    "elapsed": 0.5,
                    "due": 11,
                },
                {"id": "later", "product": "p", "where": "buffer", "station": "a", "due": 100},
            ],
            "machines": [{"station": "a", "machine": "0", "state": "busy", "since": 9.5}],
        }
    )
    jobs = {job["id"]: job for job in forecast(s, state, 10.0, replications=3)["jobs"]}
    assert jobs["soon"]["p50"] == pytest.approx(11.5) and jobs["soon"]["p_late"] == 1.0
    assert jobs["later"]["p50"] == pytest.approx(13.5) and jobs["later"]["p_late"] == 0.0


def test_an_intervention_is_compared_from_the_same_state_with_common_random_numbers(state: PlantState) -> None:
    """A third drill machine: same arrivals and same process times, so not one replication
    completes fewer jobs."""
    more = LINE.model_copy(
        update={"stations": {**LINE.stations, "drill": LINE.stations["drill"].model_copy(update={"machines": 3})}}
    )
    from twin.sync.forecast import forecast_replication, forecast_scenario

    base, plus = forecast_scenario(LINE, state, 240.0), forecast_scenario(more, state, 240.0)
    for r in range(6):
        a = forecast_replication(base, state, r, 1, 60.0).per_bin.sum()
        b = forecast_replication(plus, state, r, 1, 60.0).per_bin.sum()
        assert b >= a - 1


def test_a_state_the_scenario_cannot_start_from_is_refused(state: PlantState) -> None:
    bad = state.model_copy(update={"jobs": [state.jobs[0].model_copy(update={"station": "x"})]})
    with pytest.raises(ScenarioError, match="unknown station 'x'"):
        forecast(LINE, bad, 60.0)
    with pytest.raises(ScenarioError, match="--horizon: must be a positive number"):
        forecast(LINE, state, 0.0)


def _write(tmp_path: Path, state: PlantState) -> tuple[Path, Path]:
    scen, path = tmp_path / "line.yaml", tmp_path / "state.json"
    scen.write_text(yaml.safe_dump(LINE_DATA))
    path.write_text(json.dumps(state.to_json()))
    return scen, path


def test_twin_forecast_prints_json_tables_and_a_fan_chart(tmp_path: Path, state: PlantState) -> None:
    scen, path = _write(tmp_path, state)
    runner = CliRunner()
    args = ["forecast", str(scen), "--state", str(path), "--horizon", "120", "--replications", "5"]
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["horizon"] == 120.0 and len(document["jobs"]) == len(state.jobs)
    plot = tmp_path / "fan.png"
    done = runner.invoke(app, [*args, "--plot", str(plot), "--set", "stations.drill.machines=3"])
    assert done.exit_code == 0, done.output
    assert "completions per 60 min" in done.stdout and plot.stat().st_size > 1000


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # a job at a station the scenario does not have
        (
            {"jobs": [{"id": "1", "product": "part", "where": "buffer", "station": "saw"}]},
            "jobs[0].station: unknown station 'saw'",
        ),
        # not a state at all
        ({"time": "noon"}, "time:"),
    ],
)
def test_twin_forecast_refuses_a_bad_state_with_exit_2(
    tmp_path: Path, state: PlantState, change: dict[str, object], expected: str
) -> None:
    scen, path = _write(tmp_path, state)
    path.write_text(json.dumps({**state.to_json(), **change}))
    done = CliRunner().invoke(app, ["forecast", str(scen), "--state", str(path), "--horizon", "60"])
    assert done.exit_code == 2 and expected in done.output and "Traceback" not in done.output


def test_the_motor_plant_logs_cut_into_states_and_its_features_are_refused_by_name(tmp_path: Path) -> None:
    """`twin run --log` on the motor plant (transport, batches, assembly, rework,
    maintenance), then `twin calibrate` and `twin state` read the log back, and `twin forecast`
    refuses clearly."""
    motor = ROOT / "scenarios" / "examples" / "motor_plant.yaml"
    log, path = tmp_path / "motor.csv", tmp_path / "state.json"
    runner = CliRunner()
    done = runner.invoke(
        app, ["run", str(motor), "--replications", "1", "--set", "horizon=900", "--set", "warmup=0", "--log", str(log)]
    )
    assert done.exit_code == 0, done.output
    calibrated = tmp_path / "motor_calibrated.yaml"
    done = runner.invoke(app, ["calibrate", str(log), "--out", str(calibrated)])
    assert done.exit_code == 0 and "Traceback" not in done.output, done.output
    assert load_scenario(calibrated).stations
    done = runner.invoke(app, ["state", str(log), "--at", "800", "--out", str(path)])
    assert done.exit_code == 0, done.output
    assert "events rejected" not in done.output
    assert PlantState.model_validate_json(path.read_text()).jobs
    done = runner.invoke(app, ["forecast", str(motor), "--state", str(path), "--horizon", "60"])
    assert done.exit_code == 2 and "Traceback" not in done.output
    for feature in ("stations.oven.batch", "stations.assembly.assemble", "transport.vehicles"):
        assert f"{feature}: warm start does not support" in done.output
