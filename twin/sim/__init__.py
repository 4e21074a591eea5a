"""The SimPy model of a plant: stations, machines, operators, sources and the event log, and
the optional features (maintenance, batching, assembly, rework, transport), and warm starts
from a plant state (:mod:`twin.sim.warmstart`)."""

from twin.sim.log import EventLog, JobEvent, MachineState, VehicleState
from twin.sim.plant import Plant
from twin.sim.station import Dispatcher, Machine, Station

__all__ = ["Dispatcher", "EventLog", "JobEvent", "Machine", "MachineState", "Plant", "Station", "VehicleState"]
