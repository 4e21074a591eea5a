"""Policies that learn or search: CP-SAT for job shops, SB3 agents for the Gymnasium envs.

Each module imports its heavy dependency (OR-Tools, torch) itself, so importing ``agents``
costs nothing; the ``twin`` command reaches in lazily, inside the commands that need it.
"""
