"""`twin replay` and `twin mirror`: a log sent to an MQTT broker, and the twin following one live."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from twin.commands.common import ScenarioFile, fail, read_scenario
from twin.errors import ScenarioError
from twin.measure.labels import count_of

__all__ = ["mirror", "replay"]

Broker = Annotated[
    str,
    typer.Option(
        help="Broker URL: mqtt://[USER[:PASSWORD]@]HOST[:PORT], or mqtts:// for TLS (?ca=FILE, ?insecure=1).",
        show_default=False,
    ),
]
Topic = Annotated[str, typer.Option(help="Topic of the event messages (a filter with + or # for the mirror).")]


def _broker(text: str) -> Any:
    from twin.sync.mirror_broker import parse_broker_url

    try:
        return parse_broker_url(text)
    except ValueError as error:
        fail([str(error)])


def _topic_problems(option: str, topic: str, wildcards: bool) -> list[str]:
    if not topic.strip():
        return [f"{option}: must not be empty (got {topic!r})"]
    if not wildcards and ("+" in topic or "#" in topic):
        return [f"{option}: must be a plain topic, without + or # (got {topic})"]
    return []


def _echo(line: str) -> None:
    typer.echo(line, err=True)


def replay(
    log: Annotated[Path, typer.Argument(help="Event log: CSV with a header, or Parquet.", show_default=False)],
    broker: Broker,
    topic: Topic = "plant/events",
    speed: Annotated[float, typer.Option(help="Times real speed (0: as fast as possible).")] = 1.0,
    time_unit: Annotated[
        str, typer.Option(help="The log's time unit (s, min, h, d): pacing, and the unit timestamps convert to.")
    ] = "min",
    timeout: Annotated[
        float, typer.Option(help="Give up (exit 1) when the broker acknowledges nothing for this many seconds.")
    ] = 60.0,
) -> None:
    """Publish a log's events on an MQTT topic, one JSON message per event (QoS 1, `seq`
    per source), at SPEED times real speed."""
    from twin.sync.eventlog import read_log, time_unit_factor
    from twin.sync.mirror_replay import ReplayError, replay_log

    url = _broker(broker)
    problems = _topic_problems("--topic", topic, wildcards=False)
    if not speed >= 0:
        problems.append(f"--speed: must be >= 0 (got {speed})")
    if not timeout > 0:
        problems.append(f"--timeout: must be > 0 (got {timeout})")
    try:
        seconds = time_unit_factor(time_unit)
    except ValueError as error:
        problems.append(f"--time-unit: {error}")
    if problems:
        fail(problems)
    try:
        frame = read_log(log, time_unit=time_unit)
    except ScenarioError as error:
        fail([str(p) for p in error.problems])
    try:
        done = replay_log(frame, url, topic, speed, seconds, log=_echo, timeout=timeout)
    except ReplayError as error:
        _echo(f"replay: {error}")
        raise typer.Exit(1) from None
    _echo(
        f"replay: {count_of(done.messages, 'event')} from {count_of(done.sources, 'source')}, "
        f"time {done.first:g} to {done.last:g} "
        f"{time_unit}, sent to {url} on {topic} in {done.wall_s:.2f} s"
    )


def _state_out_problems(path: Path | None) -> list[str]:
    if path is None:
        return []
    if not path.name.lower().endswith(".json"):
        return [f"--state-out: must end in .json (got {path.name})"]
    if not path.parent.is_dir():
        return [f"--state-out: folder does not exist (got {path.parent})"]
    if path.is_dir():
        return [f"--state-out: is a folder (got {path})"]
    return []


def mirror(
    file: ScenarioFile,
    broker: Broker,
    topic: Topic = "plant/events",
    publish: Annotated[
        str | None,
        typer.Option(
            help="Topic of the retained state-and-forecast message (default: plant/forecast for plant/events)."
        ),
    ] = None,
    forecast_every: Annotated[float, typer.Option(help="Wall seconds between published messages.")] = 5.0,
    horizon: Annotated[
        float | None, typer.Option(help="Forecast this far ahead (scenario time unit; default: 8 hours).")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications of each forecast (default: the scenario's).")
    ] = None,
    forecast: Annotated[
        bool,
        typer.Option("--forecast/--no-forecast", help="Publish a forecast (--no-forecast: state, health)."),
    ] = True,
    reorder_window: Annotated[
        float, typer.Option(help="Events are put in time order within this window (scenario time unit).")
    ] = 1.0,
    state_in: Annotated[
        Path | None, typer.Option(help="Start from this plant state (JSON, as twin state writes it) instead of empty.")
    ] = None,
    state_out: Annotated[
        Path | None, typer.Option(help="Write the plant state here (JSON, replaced in one rename) on every update.")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="MQTT client id; the broker keeps this id's session (default: from the topics).")
    ] = None,
) -> None:
    """Follow the floor live: subscribe to the events, keep the plant state current, and
    publish {"time", "state", "forecast", "health"} (retained) every FORECAST_EVERY seconds
    and on a message on PUBLISH/request; the forecast (as twin forecast --json) runs again
    only when events changed the state. Stops on Ctrl-C or SIGTERM."""
    import hashlib

    from twin.scenario import hours_per_time_unit
    from twin.scenario.state import load_state, parse_state
    from twin.sync.forecast import forecast as run_forecast
    from twin.sync.mirror import Mirror, MirrorConfig, default_publish_topic
    from twin.sync.mirror_ingest import Ingest
    from twin.sync.state import StateTracker

    scenario = read_scenario(file, None)
    url = _broker(broker)
    publish = publish or default_publish_topic(topic)
    problems = _topic_problems("--topic", topic, wildcards=True) + _topic_problems("--publish", publish, False)
    hours = hours_per_time_unit(scenario.time_unit)
    ahead = horizon if horizon is not None else 8.0 / hours if hours else float(scenario.horizon or 8.0)
    if not ahead > 0:
        problems.append(f"--horizon: must be > 0 (got {ahead})")
    if not forecast_every > 0:
        problems.append(f"--forecast-every: must be > 0 (got {forecast_every})")
    if not reorder_window >= 0:
        problems.append(f"--reorder-window: must be >= 0 (got {reorder_window})")
    problems += _state_out_problems(state_out)
    if problems:
        fail(problems)
    tracker = StateTracker()
    if state_in is not None:
        try:
            start = load_state(state_in, scenario)
        except ScenarioError as error:
            fail([f"--state-in: {p}" for p in error.problems])
        routes = {name: [step.station for step in product.route] for name, product in scenario.products.items()}
        tracker = StateTracker.from_state(start, routes)
    digest = hashlib.sha256(f"{scenario.name}\0{topic}\0{publish}".encode()).hexdigest()[:12]
    config = MirrorConfig(topic, publish, forecast_every, state_out, client_id or f"twin-mirror-{digest}")
    count = replications or scenario.replications

    def forecaster(state: dict[str, Any]) -> dict[str, Any]:
        return run_forecast(scenario, parse_state(state), ahead, count)

    live = Mirror(url, config, Ingest(tracker, reorder_window), scenario, forecaster if forecast else None, _echo)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    what = f"a forecast of {ahead:g} {scenario.time_unit} ({count} replications)" if forecast else "no forecast"
    _echo(f"mirror: {scenario.name} from {url} on {topic}; every {forecast_every:g} s on {publish}: state, {what}")
    live.run(stop)
    health = live.ingest.health
    _echo(
        f"mirror: stopped; {health.received} received, {health.applied} applied, {health.duplicates} duplicates, "
        f"{health.reordered} reordered, {health.rejected} rejected"
    )
