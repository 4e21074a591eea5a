"""The twin half that follows the floor: event logs in and out, the plant state cut from
events (:mod:`~twin.sync.state`), forecasts from it (:mod:`~twin.sync.forecast`), calibration
from a log, and the live mirror (docs/architecture.md, "The twin half")."""
