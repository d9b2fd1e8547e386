"""The production topology under test: deploy/start.sh, started in a process group of its own.

Stopping kills the whole group (SIGTERM, then SIGKILL), so no gunicorn, uvicorn or Celery
process outlives the benchmark, whether it ends, fails or is interrupted.
"""

import os
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


class TopologyFailed(Exception):
    pass


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def deferred_signals():
    """Hold Ctrl-C and SIGTERM while processes are being stopped, so a second one cannot cut the
    cleanup short and leave processes behind; they take effect when the block ends."""
    received = []

    def hold(signum, frame):
        received.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            signal.raise_signal(received[0])


@dataclass(frozen=True)
class Member:
    role: str
    process: psutil.Process
    uses_db: bool  # opens its own connection pool when it touches the database


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own loopback URL)
            return response.status == 200
    except OSError:
        return False


def _role(process: psutil.Process, parent_role: str | None) -> tuple[str, bool]:
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        return "gone", False
    if parent_role is None:
        if "gunicorn" in command:
            return "web master (gunicorn)", False
        if "uvicorn" in command:
            return "asgi server (uvicorn)", True
        if "celery" in command and " beat" in command:
            return "celery beat", True
        if "celery" in command and " worker" in command:
            return "celery worker (main)", False
        return "release step", True
    if parent_role.startswith("web master"):
        return "web worker (gunicorn)", True
    if parent_role.startswith("asgi"):
        return "asgi worker (uvicorn)", True
    if parent_role.startswith("celery worker"):
        return "celery worker (pool)", True
    return parent_role + " (child)", False


class Topology:
    def __init__(self, *, env: dict[str, str], web_url: str, asgi_url: str, log_path: Path):
        self.env = env
        self.web_url = web_url
        self.asgi_url = asgi_url
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (our own script, fixed arguments)
            [str(ROOT / "deploy" / "start.sh")],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches every process it starts
        )
        log.close()

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until the web and ASGI servers answer and the Celery processes are up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise TopologyFailed(f"deploy/start.sh exited early:\n{self.log_tail()}")
            roles = {member.role for member in self.members()}
            if (
                {"celery beat", "celery worker (pool)", "web worker (gunicorn)"} <= roles
                and http_ok(self.web_url + "/readyz")
                and http_ok(self.asgi_url + "/healthz")
            ):
                return
            time.sleep(0.25)
        raise TopologyFailed(f"the topology was not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def members(self) -> list[Member]:
        """The topology's processes with their roles (deploy/start.sh's own shell excluded)."""
        if not self.alive():
            return []
        try:
            root = psutil.Process(self.process.pid)
            children = root.children()
        except psutil.Error:
            return []
        members = []
        for child in children:
            role, uses_db = _role(child, None)
            try:
                grandchildren = child.children(recursive=True)
            except psutil.Error:
                grandchildren = []
            if role.startswith("asgi") and grandchildren:  # ASGI_WORKERS > 1: its children serve
                role, uses_db = "asgi supervisor (uvicorn)", False
            members.append(Member(role, child, uses_db))
            for grandchild in grandchildren:
                sub_role, sub_db = _role(grandchild, role)
                members.append(Member(sub_role, grandchild, sub_db))
        return [m for m in members if m.role != "gone"]

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None:
            return
        group = self.process.pid  # start_new_session made it the group leader
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(group):
                self.process.poll()
                time.sleep(0.2)
            if not _group_alive(group):
                break
        self.process.poll()
        self.process = None


def _group_alive(group: int) -> bool:
    """Whether any process of the group is still running (zombies awaiting their parent do not count)."""
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(proc.info["pid"]) == group and proc.info["status"] != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return False
