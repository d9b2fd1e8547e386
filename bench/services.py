"""PostgreSQL and Redis as the benchmark sees them: reachable or not, the databases it uses, facts.

The benchmark never falls back to SQLite or an in-process cache: an unreachable service stops it
with a message naming the service and the command that starts it.
"""

from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

# How this project's machines start the services (the CI script does the same).
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


class ServiceUnavailable(Exception):
    pass


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def safe_url(url: str) -> str:
    """The URL without its password, for the report."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def require_postgres(url: str) -> str:
    """The server's version; ServiceUnavailable when it does not answer."""
    if not url.startswith(("postgres://", "postgresql://")):
        raise ServiceUnavailable(f"The benchmark runs on PostgreSQL only, not on {safe_url(url)}.")
    parts = urlsplit(url)
    try:
        with psycopg.connect(with_database(url, "postgres"), connect_timeout=3, autocommit=True) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.OperationalError as exc:
        raise ServiceUnavailable(
            f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432} ({_first_line(exc)}).\n"
            f"Start it (on this project's machines) with:\n    {START_POSTGRES}\n"
            "or elsewhere with `sudo systemctl start postgresql`, then run `make bench` again."
        ) from None


def require_redis(url: str) -> str:
    """The server's version; ServiceUnavailable when it does not answer."""
    parts = urlsplit(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        return client.info("server")["redis_version"]
    except redis.RedisError as exc:
        raise ServiceUnavailable(
            f"Redis is not reachable at {parts.hostname}:{parts.port or 6379} ({_first_line(exc)}).\n"
            f"Start it (on this project's machines) with:\n    {START_REDIS}\n"
            "or elsewhere with `sudo systemctl start redis-server`, then run `make bench` again."
        ) from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ensure_database(url: str) -> bool:
    """Create the database if it is missing; True when it was created."""
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), connect_timeout=3, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def dataset_facts(url: str) -> dict:
    """What the load ran against: patients per clinic and the database's size."""
    with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
        clinics = conn.execute(
            """
            SELECT t.slug, count(p.id) FILTER (WHERE NOT p.is_deleted), count(p.id)
            FROM accounts_tenant t LEFT JOIN patients_patient p ON p.tenant_id = t.id
            GROUP BY t.slug ORDER BY t.slug
            """
        ).fetchall()
        users = conn.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
        appointments = None
        if conn.execute("SELECT to_regclass('appointments_appointment')").fetchone()[0]:
            appointments = conn.execute("SELECT count(*) FROM appointments_appointment").fetchone()[0]
        table_size = conn.execute("SELECT pg_total_relation_size('patients_patient')").fetchone()[0]
        db_size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {
        "database": safe_url(url),
        "patients_by_clinic": {slug: active for slug, active, _ in clinics},
        "patients_total_rows": sum(total for *_, total in clinics),
        "appointments": appointments,
        "users": users,
        "patients_table_MiB": round(table_size / 2**20, 1),
        "database_MiB": round(db_size / 2**20, 1),
    }


def retire_load_test_patients(url: str) -> int:
    """Soft-delete the patients load tests created, as the API's DELETE would, so every run measures
    the seeded data set (lists and totals count active patients only). Seeded patients have no
    creator; the API's have one (their notes say so too, but notes are encrypted: no SQL reads them).
    Not a hard delete: every row deleted would make PostgreSQL check the tables that refer to
    patients, row by row."""
    with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
        retired = conn.execute(
            "UPDATE patients_patient SET is_deleted = true, deleted_at = now(), updated_at = now() "
            "WHERE created_by_id IS NOT NULL AND NOT is_deleted"
        ).rowcount
        if retired:
            conn.execute("VACUUM ANALYZE patients_patient")
        return retired


def remove_load_test_appointments(url: str) -> int:
    """Delete the appointments earlier load tests booked (the guide's POST, again and again), so
    every run lists the seeded calendar. Seeded appointments have no creator; API bookings do."""
    with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('appointments_appointment')").fetchone()[0]:
            return 0
        return conn.execute("DELETE FROM appointments_appointment WHERE created_by_id IS NOT NULL").rowcount


def empty_redis_database(url: str) -> None:
    """Empty the bench's own Redis database (never a shared one: the URL names its number). The
    seeding and the clean-up of earlier load tests write with SQL, past the cache's invalidation,
    so every run starts with a cold, correct cache."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.flushdb()
    finally:
        client.close()


class ConnectionCounter:
    """Connections to one database, from pg_stat_activity: open ones, and those in use (not idle)."""

    def __init__(self, url: str):
        self.name = database_name(url)
        self.conn = psycopg.connect(with_database(url, "postgres"), connect_timeout=3, autocommit=True)

    def sample(self) -> tuple[int, int, list[int]]:
        rows = self.conn.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.name],
        ).fetchall()
        return len(rows), sum(1 for _, state in rows if state and state != "idle"), [pid for pid, _ in rows]

    def close(self) -> None:
        self.conn.close()


class RedisWatcher:
    def __init__(self, url: str):
        self.url = url
        self.client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        self.peak_bytes = 0

    def server_pid(self) -> int | None:
        return self.client.info("server").get("process_id")

    def sample(self) -> int:
        used = self.client.info("memory")["used_memory"]
        self.peak_bytes = max(self.peak_bytes, used)
        return used

    def facts(self) -> dict:
        memory = self.client.info("memory")
        self.peak_bytes = max(self.peak_bytes, memory["used_memory"])
        return {
            "url": safe_url(self.url),
            "used_memory_mib": round(memory["used_memory"] / 2**20, 2),
            "used_memory_peak_mib": round(self.peak_bytes / 2**20, 2),
            "keys": self.client.dbsize(),
        }
