"""Measurement: KPIs from the event log, replications and their intervals, timelines, plots.

- :mod:`~twin.measure.kpi`: KPIs as pure functions of one replication's event log;
- :mod:`~twin.measure.stats`: confidence intervals and differences between runs;
- :mod:`~twin.measure.experiment`: replications of a scenario (:func:`simulate`, :class:`Result`);
- :mod:`~twin.measure.executors`: where independent replications run (serial, processes, Dask);
- :mod:`~twin.measure.timeline`: state intervals, Gantt operations and levels over time;
- :mod:`~twin.measure.labels`: KPI names, numbers and intervals in words for people;
- :mod:`~twin.measure.plots`: PNG figures of a run and of a comparison.
"""
