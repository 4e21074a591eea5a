"""factory-twin: a SimPy digital twin of production lines.

>>> import twin
>>> scenario = twin.load_scenario("scenarios/validation/mm1.yaml")
>>> result = twin.simulate(scenario, replications=2)
>>> sorted(result.summary().columns)
['ci_high', 'ci_low', 'mean']

The names below are the public API (docs/architecture.md, "Python API"). Those that need the
statistics stack (pandas, scipy) are loaded on first use, so ``import twin`` and the commands
that only read a scenario stay fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from twin.envs import register_envs
from twin.errors import ScenarioError
from twin.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from twin.measure.experiment import Result, simulate
    from twin.studies import store
    from twin.studies.compare import compare
    from twin.studies.sweep import sweep
    from twin.sync.backtest import backtest
    from twin.sync.calibrate import calibrate
    from twin.sync.eventlog import read_log
    from twin.sync.forecast import forecast

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "backtest",
    "calibrate",
    "compare",
    "forecast",
    "load_scenario",
    "read_log",
    "simulate",
    "store",
    "sweep",
]

__version__ = "0.1.0"

_LAZY = {
    "Result": ("twin.measure.experiment", "Result"),
    "simulate": ("twin.measure.experiment", "simulate"),
    "sweep": ("twin.studies.sweep", "sweep"),
    "compare": ("twin.studies.compare", "compare"),
    "store": ("twin.studies.store", None),
    "read_log": ("twin.sync.eventlog", "read_log"),
    "calibrate": ("twin.sync.calibrate", "calibrate"),
    "backtest": ("twin.sync.backtest", "backtest"),
    "forecast": ("twin.sync.forecast", "forecast"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'twin' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = import_module(module) if attribute is None else getattr(import_module(module), attribute)
    globals()[name] = value
    return value


register_envs()
