"""Job shops: standard instances and their bounds, schedules, scheduling methods, Gantt charts.

- :mod:`~twin.jobshop.instances`: the standard text format, random instances, perturbations,
  and the scenario a job shop becomes;
- :mod:`~twin.jobshop.bounds`: best known makespans (``bounds.json``);
- :mod:`~twin.jobshop.schedules`: schedules read from the event log, feasibility checks,
  rule runs;
- :mod:`~twin.jobshop.evaluation`: methods scored on instances, the leaderboard;
- :mod:`~twin.jobshop.gantt`: Gantt charts as PNG files.
"""
