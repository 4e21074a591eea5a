"""The job queue of the service: runs and sweeps in their own processes, with a timeout,
cancellation and a limit on how many wait.

A request starts a job and gets its id at once (202); a small pool of threads takes jobs in
order and runs each in a fresh process forked from a preloaded server process
(``forkserver``), so a timeout or a cancel stops the simulation at once, and a crash of one
job cannot take the service with it. Jobs live in memory; their results are in the run store.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from twin.service.worker import child_main

__all__ = ["Job", "JobConflict", "JobManager", "JobStatus", "QueueFull"]


class JobStatus(StrEnum):
    """Where a job is: waiting, running, or one of the four ends."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


_ENDED = {JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.TIMED_OUT}


class QueueFull(RuntimeError):
    """The queue holds its limit of jobs already; the message says how many."""


class JobConflict(RuntimeError):
    """A job cannot be cancelled: it has ended already."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Job:
    """One run or sweep asked for over HTTP."""

    kind: str
    spec: dict[str, Any] = field(repr=False)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: JobStatus = JobStatus.QUEUED
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    result: dict[str, Any] | None = field(default=None, repr=False)
    error: str | None = None
    cancel_requested: bool = False

    def to_json(self) -> dict[str, Any]:
        """The job as ``GET /v1/jobs/{id}`` answers it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status.value,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "result": self.result,
            "error": self.error,
        }


class JobManager:
    """Runs jobs in order, ``workers`` at a time, each at most ``timeout`` seconds; at most
    ``queue_limit`` jobs wait or run at once."""

    def __init__(self, timeout: float, queue_limit: int, workers: int = 1) -> None:
        self.timeout, self.queue_limit, self.workers = timeout, queue_limit, workers
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["twin.service.worker", "twin.measure.experiment", "twin.studies.sweep"])
        self._jobs: dict[str, Job] = {}
        self._waiting: deque[str] = deque()
        self._condition = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, kind: str, spec: dict[str, Any]) -> Job:
        """Queue a job and return it.

        Raises:
            QueueFull: ``queue_limit`` jobs are waiting or running.
        """
        with self._condition:
            active = sum(job.status in (JobStatus.QUEUED, JobStatus.RUNNING) for job in self._jobs.values())
            if active >= self.queue_limit:
                raise QueueFull(f"job queue: full ({active} of {self.queue_limit} jobs waiting or running)")
            job = Job(kind, spec)
            self._jobs[job.id] = job
            self._waiting.append(job.id)
            if not self._threads:
                self._threads = [
                    threading.Thread(target=self._serve, name=f"twin-job-{i}", daemon=True) for i in range(self.workers)
                ]
                for thread in self._threads:
                    thread.start()
            self._condition.notify()
        return job

    def get(self, job_id: str) -> Job | None:
        """The job of this id, or None."""
        return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        """Every job, oldest first."""
        return list(self._jobs.values())

    def cancel(self, job_id: str) -> Job:
        """Cancel a waiting job, or stop a running one.

        Raises:
            KeyError: no such job.
            JobConflict: the job has ended already.
        """
        with self._condition:
            job = self._jobs[job_id]
            if job.status in _ENDED:
                raise JobConflict(f"job {job_id}: has ended already ({job.status.value})")
            if job.status is JobStatus.QUEUED:
                self._waiting.remove(job_id)
                self._end(job, JobStatus.CANCELLED, error="cancelled before it started")
            else:
                job.cancel_requested = True
        return job

    def wait(self, job_id: str, timeout: float) -> Job:
        """The job once it has ended, or as it is after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            job = self._jobs[job_id]
            while job.status not in _ENDED and time.monotonic() < deadline:
                self._condition.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            return job

    def close(self) -> None:
        """Stop taking jobs and stop the running ones."""
        with self._condition:
            self._closed = True
            for job in self._jobs.values():
                job.cancel_requested = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)

    def _end(self, job: Job, status: JobStatus, result: dict[str, Any] | None = None, error: str | None = None) -> None:
        job.status, job.result, job.error, job.finished = status, result, error, _now()
        self._condition.notify_all()

    def _serve(self) -> None:
        while True:
            with self._condition:
                while not self._waiting and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                job = self._jobs[self._waiting.popleft()]
                job.status, job.started = JobStatus.RUNNING, _now()
            status, result, error = self._execute(job)
            with self._condition:
                self._end(job, status, result, error)

    def _execute(self, job: Job) -> tuple[JobStatus, dict[str, Any] | None, str | None]:
        """Run one job in its own process; stop it on cancel or timeout."""
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(target=child_main, args=(sender, job.spec), daemon=True)
        process.start()
        sender.close()
        deadline = time.monotonic() + self.timeout
        outcome: tuple[JobStatus, dict[str, Any] | None, str | None]
        try:
            while True:
                if receiver.poll(0.05):
                    try:
                        kind, value = receiver.recv()
                    except EOFError:
                        process.join(5)
                        outcome = (JobStatus.FAILED, None, f"the job's process ended (exit code {process.exitcode})")
                    else:
                        outcome = (JobStatus.DONE, value, None) if kind == "done" else (JobStatus.FAILED, None, value)
                    break
                if job.cancel_requested:
                    outcome = (JobStatus.CANCELLED, None, "cancelled while running")
                    break
                if time.monotonic() > deadline:
                    outcome = (JobStatus.TIMED_OUT, None, f"stopped after the job timeout of {self.timeout:g} s")
                    break
        finally:
            if process.is_alive():
                process.terminate()
                process.join(5)
                if process.is_alive():
                    process.kill()
            process.join()
            receiver.close()
        return outcome
