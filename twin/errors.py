"""Exceptions for people: each carries where the problem is, what was given and what is wanted."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "ScenarioError", "SimulationStalled", "show"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: ``path: message (got value)``."""

    path: str
    message: str
    got: str | None = None

    def __str__(self) -> str:
        where = self.path or "scenario"
        suffix = f" (got {self.got})" if self.got is not None else ""
        return f"{where}: {self.message}{suffix}"


class ScenarioError(ValueError):
    """A scenario (or an override of one) is invalid; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SimulationStalled(RuntimeError):
    """A run can no longer make progress: its jobs are deadlocked, or its arrivals or failures
    keep coming without simulated time passing."""


def show(value: object, limit: int = 60) -> str:
    """Short, single-line representation of a bad value for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
