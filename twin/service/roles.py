"""Roles of the service's tokens: cumulative, each can do what the ones before it can."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Role"]


class Role(IntEnum):
    """A token's role; a higher role includes every lower one (docs/architecture.md,
    "Decision service").

    - ``VIEWER`` reads: runs, jobs, models, the mirrored state; validates scenarios.
    - ``PLANNER`` runs scenarios and sweeps (as jobs), cancels jobs, forecasts.
    - ``OPERATOR`` asks trained dispatchers for decisions.
    - ``ADMIN`` manages models (upload, promote, roll back), tokens and the audit log.
    """

    VIEWER = 1
    PLANNER = 2
    OPERATOR = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        """The role's name as written on the command line and in files (``viewer``...)."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named ``text``.

        Raises:
            ValueError: no such role (the message lists the roles).
        """
        try:
            return cls[text.upper()]
        except KeyError:
            names = ", ".join(role.label for role in cls)
            raise ValueError(f"unknown role (expected one of: {names}) (got {text!r})") from None
