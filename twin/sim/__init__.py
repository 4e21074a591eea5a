"""The SimPy model of a plant: stations, machines, operators, sources and the event log."""

from twin.sim.log import EventLog, JobEvent, MachineState
from twin.sim.plant import Plant
from twin.sim.station import Dispatcher, Machine, Station

__all__ = ["Dispatcher", "EventLog", "JobEvent", "Machine", "MachineState", "Plant", "Station"]
