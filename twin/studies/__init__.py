"""Studies over many runs: the run store, sweeps, comparisons, warm-up, what-ifs, design search.

- :mod:`~twin.studies.store`: the one owner of every on-disk format (runs, sweeps,
  evaluations, study summaries) and its atomic writer;
- :mod:`~twin.studies.sweep`: the same scenario at many points, with common random numbers;
- :mod:`~twin.studies.compare`: which differences between stored runs are real;
- :mod:`~twin.studies.warmup`: Welch's plot and the suggested warm-up (where it settles);
- :mod:`~twin.studies.whatif`: a scenario with a few changes, stored as a named run;
- :mod:`~twin.studies.design`: design spaces, their costs and cached evaluation.
"""
