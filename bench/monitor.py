"""What the machine does while Locust runs: CPU and memory per process, the machine's CPU, database
connections and Redis memory, sampled twice a second on a thread of the benchmark's own.

Samples are kept, and each measured window (Locust's, after its warm-up) is summarized afterwards
from the samples inside it: CPU as a share of one core (CPU time over the window's length), the
machine's CPU average and peak, and the peak of database connections. Memory is the peak resident
set over the whole run.
"""

import threading
import time
from dataclasses import dataclass

import psutil

from bench.services import ConnectionCounter, RedisWatcher
from bench.topology import Topology

POSTGRES_ROLE = "postgres backends (bench DB)"
LOCUST_ROLE = "locust (load generator)"
ORDER = ("web", "asgi", "celery", "locust", "postgres", "redis")


@dataclass
class Tracked:
    role: str
    process: psutil.Process
    topology: bool  # one of the processes deploy/start.sh runs
    uses_db: bool
    created: float  # wall clock
    peak_rss: int = 0


@dataclass(frozen=True)
class Sample:
    at: float  # wall clock
    cpu: dict[int, float]  # CPU seconds (user + system) so far, per pid
    system_cpu: float  # % of the whole machine since the previous sample
    db_open: int
    db_in_use: int


class Monitor:
    def __init__(self, topology: Topology, db: ConnectionCounter, redis: RedisWatcher, interval: float = 0.5):
        self.topology = topology
        self.db = db
        self.redis = redis
        self.interval = interval
        self.tracked: dict[int, Tracked] = {}
        self.samples: list[Sample] = []
        self.phases: dict[str, dict] = {}
        self.cpu_by_phase: dict[str, dict[int, float]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="bench-monitor", daemon=True)
        self.redis_pid = None

    def start(self) -> None:
        self.redis_pid = self.redis.server_pid()
        psutil.cpu_percent(None)  # the first call only sets the reference point
        self.sample()
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def watch(self, pid: int, role: str) -> None:
        with self.lock:
            self._track(pid, role, topology=False)

    def _track(self, pid: int, role: str, *, topology: bool, uses_db: bool = False) -> None:
        if pid in self.tracked:
            return
        try:
            process = psutil.Process(pid)
            self.tracked[pid] = Tracked(role, process, topology, uses_db, process.create_time())
        except psutil.Error:
            pass

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.sample()
            except Exception as exc:  # a lost sample is no reason to stop measuring
                print(f"bench: monitor sample failed: {exc!r}")

    def sample(self) -> None:
        members = self.topology.members()
        db_open, db_in_use, backend_pids = self.db.sample()
        self.redis.sample()
        with self.lock:
            for member in members:
                self._track(member.process.pid, member.role, topology=True, uses_db=member.uses_db)
            for pid in backend_pids:
                self._track(pid, POSTGRES_ROLE, topology=False)
            if self.redis_pid:
                self._track(self.redis_pid, "redis-server", topology=False)
            cpu = {}
            for pid, tracked in self.tracked.items():
                try:
                    with tracked.process.oneshot():
                        times = tracked.process.cpu_times()
                        cpu[pid] = times.user + times.system
                        tracked.peak_rss = max(tracked.peak_rss, tracked.process.memory_info().rss)
                except psutil.Error:
                    continue  # gone: its earlier samples stand
            self.samples.append(Sample(time.time(), cpu, psutil.cpu_percent(None), db_open, db_in_use))

    def summarize(self, name: str, start: float, end: float) -> None:
        """Figures of the window [start, end] (wall clock), from the samples inside it."""
        with self.lock:
            inside = [s for s in self.samples if start <= s.at <= end]
            before = [s for s in self.samples if s.at < start]
            if len(inside) < 2:
                return
            first, last = (before[-1] if before else inside[0]), inside[-1]
            seconds = last.at - first.at
            by_pid = {}
            for pid, tracked in self.tracked.items():
                if pid not in last.cpu:
                    continue
                # A process born inside the window spent all its CPU time in it.
                at_start = first.cpu.get(pid, 0.0 if tracked.created >= first.at else None)
                if at_start is not None:
                    by_pid[pid] = (last.cpu[pid] - at_start) / seconds * 100
            self.cpu_by_phase[name] = by_pid
            system = [s.system_cpu for s in inside]
            self.phases[name] = {
                "seconds": round(seconds, 1),
                "system_cpu_avg": round(sum(system) / len(system), 1),
                "system_cpu_peak": max(system),
                "db_open_peak": max(s.db_open for s in inside),
                "db_in_use_peak": max(s.db_in_use for s in inside),
            }

    def db_processes(self) -> int:
        """Topology processes with a connection pool of their own (web and ASGI workers, Celery)."""
        with self.lock:
            return sum(1 for t in self.tracked.values() if t.topology and t.uses_db)

    def processes(self) -> list[dict]:
        """One row per topology process; the PostgreSQL backends of the bench database, and the
        Locust processes (one per measurement), summed into one row each."""
        with self.lock:
            rows, summed = [], {}
            for pid, tracked in self.tracked.items():
                row = {
                    "role": tracked.role,
                    "pid": pid,
                    "topology": tracked.topology,
                    "cpu_percent": {
                        name: round(by_pid[pid], 1)
                        for name, by_pid in self.cpu_by_phase.items()
                        if pid in by_pid
                    },
                    "peak_rss_mib": round(tracked.peak_rss / 2**20, 1),
                }
                if tracked.role in (POSTGRES_ROLE, LOCUST_ROLE):
                    summed.setdefault(tracked.role, []).append(row)
                else:
                    rows.append(row)
            phases = list(self.cpu_by_phase)
        for role, group in summed.items():
            what = "processes, CPU summed, peak RSS of one"
            if role == LOCUST_ROLE:
                what = "processes (one per measurement)"
            rows.append(
                {
                    "role": f"{role}: {len(group)} {what}",
                    "pid": "-",
                    "topology": False,
                    "cpu_percent": {
                        name: round(sum(r["cpu_percent"].get(name, 0.0) for r in group), 1) for name in phases
                    },
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in group),
                }
            )

        def rank(row: dict) -> int:
            return next((i for i, prefix in enumerate(ORDER) if row["role"].startswith(prefix)), len(ORDER))

        return sorted(rows, key=rank)
