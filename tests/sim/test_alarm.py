"""An alarm rings like the timeouts it stands for: same times, same order among events of
one instant, again after each setting, and not at all once cancelled."""

from __future__ import annotations

from simpy import Environment, Event, Timeout

from twin.sim.alarm import Alarm


def test_rings_in_timeout_order_and_can_be_set_again() -> None:
    env = Environment()
    rang: list[tuple[float, str]] = []

    def ring(_: Event) -> None:
        rang.append((env.now, "alarm"))
        if env.now < 3:
            alarm.set(1.5)

    alarm = Alarm(env, ring)
    Timeout(env, 1.5).callbacks.append(lambda _: rang.append((env.now, "before")))
    alarm.set(1.5)
    Timeout(env, 1.5).callbacks.append(lambda _: rang.append((env.now, "after")))
    assert alarm.pending
    env.run()
    assert rang == [(1.5, "before"), (1.5, "alarm"), (1.5, "after"), (3.0, "alarm")]
    assert not alarm.pending


def test_cancelled_alarm_calls_nobody() -> None:
    env = Environment()
    rang: list[float] = []
    alarm = Alarm(env, lambda _: rang.append(env.now))
    alarm.set(2.0)
    alarm.cancel()
    env.run()
    assert rang == []
    assert env.now == 2.0
