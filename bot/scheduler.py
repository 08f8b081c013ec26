"""Background jobs on the `schedule` package, made safe.

The package alone runs jobs serially, dies on the first exception and re-runs a failed job on every
tick. Here the loop thread only decides *when*; each run goes to a worker pool, is wrapped so an
exception is recorded and the job keeps its normal interval, never overlaps itself (per-job lock), and
leaves a row in `job_runs`. A job can also be asked to run at a given moment (`run_at`).
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import schedule

from bot.logs import bind
from bot.store import Store

log = logging.getLogger(__name__)

KEEP_RUNS_PER_JOB = 200


@dataclass
class Job:
    name: str
    func: Callable[[], Any]
    interval: float | None  # seconds; None = only when asked (run_at / run_now)
    lock: threading.Lock = field(default_factory=threading.Lock)
    scheduled: schedule.Job | None = None
    started_at: float = 0.0  # when the latest run began (in memory; job_runs has the history)


@dataclass(frozen=True)
class JobStatus:
    name: str
    interval: float | None
    running: bool
    last_started_at: float | None
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    next_run_at: float | None
    runs: int
    failures: int


class Scheduler:
    def __init__(self, store: Store, *, max_workers: int = 8, clock: Callable[[], float] = time.time):
        self.store = store
        self._clock = clock
        self._schedule = schedule.Scheduler()
        self._jobs: dict[str, Job] = {}
        self._one_offs: list[tuple[float, str]] = []  # heap of (when, job name)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="job")
        self._thread: threading.Thread | None = None
        self._futures: set[Future[None]] = set()

    # --- registering -----------------------------------------------------------------------------
    def every(self, name: str, seconds: float, func: Callable[[], Any]) -> Job:
        """Run `func` every `seconds`; also once at start, since `schedule` never catches up missed runs."""
        job = self.add(name, func)
        job.interval = seconds
        job.scheduled = self._schedule.every(seconds).seconds.do(self.run_now, name)
        self.run_at(name, self._clock())
        return job

    def add(self, name: str, func: Callable[[], Any]) -> Job:
        """A job that runs only when asked (run_now / run_at)."""
        if name in self._jobs:
            raise ValueError(f"job {name!r} is already registered")
        job = Job(name, func, None)
        self._jobs[name] = job
        return job

    @property
    def job_names(self) -> list[str]:
        return list(self._jobs)

    def run_at(self, name: str, when: float) -> None:
        """Run a job at an exact moment (epoch seconds), besides its interval. Used to act at a shift change."""
        if name not in self._jobs:
            raise KeyError(name)
        with self._lock:
            if (when, name) not in self._one_offs:
                heapq.heappush(self._one_offs, (when, name))
        self._wake.set()

    def run_now(self, name: str) -> bool:
        """Start a run in the background unless one is going; False when skipped because it is running."""
        job = self._jobs[name]
        if not job.lock.acquire(blocking=False):
            log.debug("job %s is still running; this run is skipped", name)
            return False
        with self._lock:  # stop() snapshots the runs under this lock: a run starts before it, or not at all
            try:
                future = None if self._stop.is_set() else self._executor.submit(self._run, job)
            except RuntimeError:  # executor shut down: we are stopping
                future = None
            if future is not None:
                self._futures.add(future)
        if future is None:
            job.lock.release()
            return False
        future.add_done_callback(self._forget)
        return True

    def run_and_wait(self, name: str, timeout: float = 60.0) -> None:
        """Run a job now in the calling thread's stead and wait for it (CLI commands, `/oncall sync`)."""
        job = self._jobs[name]
        if not job.lock.acquire(timeout=timeout):
            raise TimeoutError(f"job {name} is busy")
        self._run(job, raise_errors=True)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    # --- running ---------------------------------------------------------------------------------
    def _run(self, job: Job, raise_errors: bool = False) -> None:
        started = self._clock()
        job.started_at = started
        try:
            run_id = self._record_start(job.name, started)
            error: str | None = None
            try:
                with bind(job=job.name, capability=job.name.split(".", 1)[0]):
                    job.func()
            except Exception as exc:  # one job's failure must never stop the others or the loop
                error = f"{type(exc).__name__}: {exc}"
                log.exception("job %s failed", job.name)
                if raise_errors:
                    raise
            finally:
                self._record_finish(run_id, error)
        finally:
            job.lock.release()

    def _record_start(self, name: str, started: float) -> int:
        with self.store.write() as db:
            cursor = db.conn.execute("INSERT INTO job_runs (job, started_at) VALUES (?, ?)", [name, started])
            run_id = int(cursor.lastrowid or 0)
            db.conn.execute("DELETE FROM job_runs WHERE job = ? AND id <= ?", [name, run_id - KEEP_RUNS_PER_JOB])
        return run_id

    def _record_finish(self, run_id: int, error: str | None) -> None:
        self.store.execute(
            "UPDATE job_runs SET finished_at = ?, ok = ?, error = ? WHERE id = ?",
            [self._clock(), 0 if error else 1, error, run_id],
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._schedule.run_pending()
                self._run_due_one_offs()
            except Exception:  # defensive: the loop itself must never die
                log.exception("scheduler loop error")
            self._wake.wait(self._seconds_to_next())
            self._wake.clear()

    def _run_due_one_offs(self) -> None:
        now = self._clock()
        due = []
        with self._lock:
            while self._one_offs and self._one_offs[0][0] <= now:
                due.append(heapq.heappop(self._one_offs))
        latest: dict[str, float] = {}
        for when, name in due:
            latest[name] = max(when, latest.get(name, when))
        for name, when in latest.items():
            if self.run_now(name):
                continue
            # Busy. A run that began at or after the requested moment already sees what it was asked for;
            # one that began before it may not (a hand-off): try again shortly rather than lose it.
            if self._jobs[name].started_at < when:
                with self._lock:
                    heapq.heappush(self._one_offs, (now + 0.5, name))

    def _seconds_to_next(self) -> float:
        waits = [1.0]
        idle = self._schedule.idle_seconds
        if idle is not None:
            waits.append(max(idle, 0.01))
        with self._lock:
            if self._one_offs:
                waits.append(max(self._one_offs[0][0] - self._clock(), 0.01))
        return min(waits)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop scheduling, let running jobs finish (up to `timeout`), then release the workers."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            pending = list(self._futures)
        deadline = time.monotonic() + timeout
        for future in pending:
            remaining = max(deadline - time.monotonic(), 0)
            with contextlib.suppress(Exception):  # logged by _run; a timeout leaves it to die with the process
                future.result(timeout=remaining)
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- health ----------------------------------------------------------------------------------
    def status(self) -> list[JobStatus]:
        rows = {
            r["job"]: r
            for r in self.store.query(
                "SELECT job, MAX(started_at) AS last_started_at, "
                "MAX(CASE WHEN ok = 1 THEN finished_at END) AS last_success_at, "
                "COUNT(*) AS runs, SUM(CASE WHEN ok = 0 THEN 1 ELSE 0 END) AS failures "
                "FROM job_runs GROUP BY job"
            )
        }
        errors = {
            r["job"]: r
            for r in self.store.query(
                "SELECT job, error, finished_at FROM job_runs WHERE id IN "
                "(SELECT MAX(id) FROM job_runs WHERE ok = 0 GROUP BY job)"
            )
        }
        result = []
        for name, job in list(self._jobs.items()):  # a snapshot: jobs may be added from another thread
            row = rows.get(name, {})
            error = errors.get(name, {})
            result.append(
                JobStatus(
                    name=name,
                    interval=job.interval,
                    running=job.lock.locked(),
                    last_started_at=row.get("last_started_at"),
                    last_success_at=row.get("last_success_at"),
                    last_error=error.get("error"),
                    last_error_at=error.get("finished_at"),
                    next_run_at=self._next_run_at(job),
                    runs=int(row.get("runs") or 0),
                    failures=int(row.get("failures") or 0),
                )
            )
        return result

    def _next_run_at(self, job: Job) -> float | None:
        candidates = []
        if job.scheduled is not None and job.scheduled.next_run is not None:
            candidates.append(job.scheduled.next_run.timestamp())
        with self._lock:
            candidates += [when for when, name in self._one_offs if name == job.name]
        return min(candidates) if candidates else None
