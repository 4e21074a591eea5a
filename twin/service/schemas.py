"""The JSON bodies of the HTTP API: what requests may hold, what errors look like.

Requests are pydantic models with ``extra="forbid"``, as scenario files are: an unknown key
is an error (422), not silently ignored. Every error answer has the shape of
:class:`ErrorBody`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DecideRequest",
    "ErrorBody",
    "ForecastRequest",
    "PromoteRequest",
    "RunRequest",
    "ScenarioRequest",
    "SweepRequest",
    "TokenRequest",
]

MAX_REPLICATIONS = 10_000
MAX_SEED = 2**63 - 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every error answer: ``detail`` in one line, ``problems`` one line per problem, in the
    CLI's format ``path.to.field: what is wrong (got X)``."""

    detail: str
    problems: list[str]


ScenarioData = dict[str, Any] | str
"""A scenario as plain data (a JSON object with the keys of a scenario file) or YAML text."""


class ScenarioRequest(_Strict):
    """A scenario to check, with ``--set`` style overrides."""

    scenario: ScenarioData = Field(description="The scenario: an object as the YAML file holds, or YAML text.")
    overrides: list[str] = Field(default_factory=list, description="`path=value` overrides, as `twin run --set`.")


class RunRequest(ScenarioRequest):
    """A run of a scenario, as ``twin run``."""

    replications: int | None = Field(None, ge=1, le=MAX_REPLICATIONS, description="Default: the scenario's.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Base seed; default: the scenario's.")


class SweepRequest(RunRequest):
    """A sweep of a scenario, as ``twin sweep``: every combination of the values of ``vary``
    (or, with ``zip``, the i-th value of every path together)."""

    vary: dict[str, list[Any]] = Field(min_length=1, description="Scenario path -> values to try.")
    zip: bool = False


class ForecastRequest(_Strict):
    """A forecast from a plant state, as ``twin forecast``."""

    scenario: ScenarioData | None = Field(None, description="The scenario; default: the one the service follows.")
    overrides: list[str] = Field(default_factory=list, description="`path=value` overrides, as `twin run --set`.")
    state: dict[str, Any] | None = Field(None, description="The plant state; default: the mirror's current one.")
    horizon: float = Field(gt=0, description="Time to forecast past the state's time, in the scenario's unit.")
    replications: int | None = Field(None, ge=1, le=MAX_REPLICATIONS, description="Default: the scenario's.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED)


class DecideRequest(_Strict):
    """A decision asked of a model: give an env observation and its mask, or a scenario and a
    plant state (each defaults to what the service follows: its scenario, the mirror's state)."""

    model: str = Field(description="Model id in the registry.")
    version: int | None = Field(None, ge=1, description="Default: the serving version.")
    observation: list[float] | None = Field(None, description="A twin/Dispatch-v0 observation.")
    mask: list[bool] | None = Field(None, description="The observation's action mask (true: allowed).")
    scenario: ScenarioData | None = Field(None, description="The plant's scenario; default: the service's.")
    state: dict[str, Any] | None = Field(None, description="A plant state; default: the mirror's current one.")


class PromoteRequest(_Strict):
    """Which version of a model serves from now on."""

    version: int = Field(ge=1)


class TokenRequest(_Strict):
    """A new token."""

    role: Literal["viewer", "planner", "operator", "admin"]
    name: str | None = None
