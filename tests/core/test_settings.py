"""Settings read every knob from the environment; checked in a fresh interpreter per case."""

import json
import os
import subprocess
import sys

import pytest

PRINT_SETTINGS = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({"engine": db["ENGINE"], "options": db.get("OPTIONS", {}),
                  "conn_max_age": db.get("CONN_MAX_AGE"), "health": db.get("CONN_HEALTH_CHECKS"),
                  "cache": settings.CACHES["default"]["BACKEND"], "debug": settings.DEBUG,
                  "eager": settings.CELERY_TASK_ALWAYS_EAGER}))
"""


def settings_with(**env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        return {"error": result.stderr}
    return json.loads(result.stdout)


def test_no_environment_means_sqlite_memory_cache_eager_tasks_and_no_debug():
    found = settings_with()
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["eager"] is True
    assert found["debug"] is False


def test_pool_knobs_map_onto_psycopgs_pool():
    found = settings_with(
        DATABASE_URL="postgresql://u@db.example:5432/k",
        DB_POOL_SIZE="7",
        DB_MAX_OVERFLOW="3",
        DB_POOL_TIMEOUT="5",
        DB_POOL_RECYCLE="600",
        DB_POOL_PRE_PING="true",
        DB_POOL_RECONNECT_TIMEOUT="4",
    )
    assert found["options"]["pool"] == {
        "min_size": 7,
        "max_size": 10,
        "timeout": 5.0,
        "max_lifetime": 600.0,
        "reconnect_timeout": 4.0,
    }
    assert found["conn_max_age"] == 0
    assert found["health"] is True


def test_pool_size_zero_falls_back_to_persistent_connections():
    found = settings_with(
        DATABASE_URL="postgresql://u@db.example:5432/k", DB_POOL_SIZE="0", DB_POOL_RECYCLE="900"
    )
    assert "pool" not in found["options"]
    assert found["conn_max_age"] == 900
    assert found["health"] is True


def test_redis_url_selects_redis_cache_and_a_real_broker():
    found = settings_with(REDIS_URL="redis://127.0.0.1:6379/5")
    assert found["cache"] == "django_redis.cache.RedisCache"
    assert found["eager"] is False


@pytest.mark.parametrize(("name", "value"), [("DEBUG", "maybe"), ("DB_POOL_SIZE", "ten")])
def test_malformed_values_stop_start_up_with_the_variable_named(name, value):
    found = settings_with(**{name: value})
    assert name in found["error"]
