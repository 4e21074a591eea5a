"""The twin half that follows the floor: event logs in and out, the plant state, calibration
from a log, and the live mirror (docs/architecture.md, "The twin half")."""
