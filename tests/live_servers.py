"""Real server processes for tests that need more than one process: gunicorn (the production WSGI
server: API and admin) and uvicorn (the production ASGI server: websockets) on the test database,
a private redis-server that a test may stop and start again, a Celery worker or beat
(`CeleryProcess`) that a test may kill, a TCP proxy that a test may cut (between the servers and
PostgreSQL, to restart "the database" under load) and a moto S3 server it may kill or freeze.

The servers read the same settings module as production, from the environment given here; the
test's own data (created with factories under `transactional_db`) is committed, so they see it.
Stop them before the test database is flushed: a fixture that uses these must depend on
`transactional_db` so that pytest tears it down first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


_PORTS_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, never one handed out before in this run: the kernel may give
    back a port just released, and two servers started one after the other were given the same
    one (the second then exited with "address already in use")."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _PORTS_HANDED_OUT:
            _PORTS_HANDED_OUT.add(port)
            return port


def database_address() -> tuple[str, int]:
    """Where the test database listens (what a CuttableProxy forwards to)."""
    db = connection.settings_dict
    return db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)


def current_database_url(*, port: int | None = None) -> str:
    """The URL of the database this test runs on (pytest-django's test_<name>), for a subprocess;
    `port`: through a proxy on 127.0.0.1 at that port instead (CuttableProxy)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("server processes need PostgreSQL: the SQLite test database is in memory")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = (
        (db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432) if port is None else ("127.0.0.1", port)
    )
    return f"postgresql://{user}{password}@{host}:{port}/{db['NAME']}"


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self):
        return orjson.loads(self.body)


class LiveServer:
    """One server process on a free port: `kind` "wsgi" is gunicorn (1 worker, a few threads)
    serving keneyapp.wsgi, "asgi" is uvicorn serving keneyapp.asgi (HTTP and websockets)."""

    def __init__(
        self, name: str, log_dir: Path, env: dict[str, str], *, kind: str = "wsgi", threads: int = 8
    ):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        if kind == "wsgi":
            command = [str(BIN / "gunicorn"), "keneyapp.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
            command += ["--workers", "1", "--threads", str(threads), "--log-level", "warning"]
        elif kind == "asgi":
            command = [str(BIN / "uvicorn"), "keneyapp.asgi:application", "--host", "127.0.0.1"]
            command += [
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--no-access-log",
                "--no-proxy-headers",  # as make run and deploy/start.sh
                "--log-level",
                "warning",
            ]
        else:
            raise ValueError(f"kind is wsgi or asgi, not {kind!r}")
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()}")
            try:
                if self.request("GET", "/healthz", timeout=1).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log()}")

    def request(
        self, method: str, path: str, *, token: str | None = None, body=None, timeout=10, headers=None
    ):
        data = None if body is None else orjson.dumps(body)
        request = urllib.request.Request(  # noqa: S310 (loopback)
            self.url + path, data=data, method=method, headers=headers or {}
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (loopback)
                return Response(answer.status, answer.read(), dict(answer.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read(), dict(error.headers))

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def server_env(**overrides: str) -> dict[str, str]:
    """The environment of a server process: production settings on the test database and the
    test's Redis, tasks run eagerly, statistics flushed at every count."""
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "REDIS_URL": settings.REDIS_URL or "",
        "CHANNELS_REDIS_URL": settings.CHANNELS_REDIS_URL or "",
        "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "SECRET_KEY": settings.SECRET_KEY,  # tokens minted by the test are valid there
        # The test's keys, so the servers read what the test wrote and the other way round.
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DB_POOL_SIZE": "2",
        "DB_MAX_OVERFLOW": "8",
        "CACHE_STATS_FLUSH_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.update(overrides)
    return env


def start_servers(
    names: list[str], log_dir: Path, env: dict[str, str], *, kind: str = "wsgi"
) -> list[LiveServer]:
    servers = [LiveServer(name, log_dir, env, kind=kind) for name in names]
    try:
        for server in servers:
            server.wait_ready()
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers


class PrivateRedis:
    """A redis-server of the test's own on a free port, which the test may stop and start again."""

    def __init__(self, log_dir: Path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise FileNotFoundError("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        command += ["--dir", str(self.log_dir)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections are still accepted by the kernel but nothing
        answers, as with a network partition; `resume()` thaws it with its data intact."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server cannot die of SIGKILL late
            self.process.kill()
            self.process.wait()
        self.process = None

    def key_count(self) -> int:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
            conn.sendall(b"DBSIZE\r\n")
            return int(conn.recv(64).strip().lstrip(b":"))


class CeleryProcess:
    """`celery -A keneyapp worker` (prefork, one child, every queue) or `celery -A keneyapp beat`
    (the database scheduler), in a process group of its own so a test can kill the whole of it.
    Its environment is `server_env()`'s with the broker and anything else the test gives."""

    def __init__(self, name: str, log_dir: Path, env: dict[str, str], *, kind: str = "worker"):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        if kind == "worker":
            command = [str(BIN / "celery"), "-A", "keneyapp", "worker", "--pool", "prefork"]
            command += ["--concurrency", "1", "--queues", "high,default,low", "--hostname", f"{name}@%h"]
            # No gossip, mingle or heartbeats: nothing to learn from other workers, and a faster start.
            command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]
            self.ready_line = "ready."
        elif kind == "beat":
            command = [str(BIN / "celery"), "-A", "keneyapp", "beat", "--loglevel", "INFO"]
            command += ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
            command += ["--max-interval", "1", "--pidfile", str(log_dir / f"{name}.pid")]
            self.ready_line = "beat: Starting..."
        else:
            raise ValueError(f"kind is worker or beat, not {kind!r}")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 60) -> CeleryProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()}")
            if self.ready_line in self.log():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:  # still readable once stopped
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group (the main process and its pool children): nothing of
        it runs another instruction, acknowledges or requeues anything."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class CuttableProxy:
    """A TCP proxy in the test process, on a free port of its own, to `target` (host, port).

    `cut()` is what clients see of a database restart: every open connection is closed under them
    (mid-query included) and new ones are refused (the port is closed, as a stopped server's is)
    until `resume()` listens again on the same port. One thread accepts; each connection has two
    pumping threads, which end when either side closes.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None

    def resume(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.05)  # so the accepting thread sees cut() promptly
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    start = resume

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._accepting is not None:
            self._accepting.join(timeout=5)
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            self._close(sock)

    stop = cut

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._listener is not listener:  # accepted in the very moment of a cut
                self._close(client)
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets -= {source, sink}
            self._close(source)
            self._close(sink)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv() on it
        sock.close()


class PrivateMoto:
    """moto's S3 server of the test's own on a free port, which the test may kill and start again
    on the same port (empty: moto keeps its data in memory), or freeze (SIGSTOP: it accepts
    connections into the kernel's backlog and answers none, as a hung endpoint) and thaw."""

    def __init__(self, log_dir: Path):
        executable = BIN / "moto_server"
        self.binary = str(executable) if executable.exists() else shutil.which("moto_server")
        if self.binary is None:
            raise FileNotFoundError("moto_server")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"moto-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(self.url + "/moto-api/", timeout=1):  # noqa: S310 (loopback)
                    return
            except urllib.error.HTTPError:
                return  # answering
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto_server did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    stop = kill

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)
