"""factory-twin: a SimPy digital twin of production lines.

>>> import twin
>>> scenario = twin.load_scenario("scenarios/validation/mm1.yaml")
>>> result = twin.simulate(scenario, replications=2)
>>> sorted(result.summary().columns)
['ci_high', 'ci_low', 'mean']
"""

from twin.compare import compare
from twin.envs import register_envs
from twin.errors import ScenarioError
from twin.experiment import Result, simulate
from twin.scenario import Scenario, load_scenario
from twin.sweep import sweep

__all__ = ["Result", "Scenario", "ScenarioError", "__version__", "compare", "load_scenario", "simulate", "sweep"]

__version__ = "0.1.0"

register_envs()
