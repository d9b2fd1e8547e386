"""The guide's query monitoring: statements slower than SLOW_QUERY_SECONDS are logged as warnings.

Only the SQL text is logged, never its parameters: they hold patient data.
"""

import logging
import time

from django.conf import settings
from django.db.backends.signals import connection_created

logger = logging.getLogger("keneyapp.slow_query")


def log_slow_queries(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed = time.perf_counter() - started
        if elapsed >= settings.SLOW_QUERY_SECONDS:
            logger.warning(
                "slow query %.3fs on %s: %s",
                elapsed,
                context["connection"].alias,
                sql,
            )


def _attach_to_connection(sender, connection, **kwargs) -> None:
    # execute_wrappers lives on the DatabaseWrapper, which outlives reconnects: add ours once.
    if log_slow_queries not in connection.execute_wrappers:
        connection.execute_wrappers.append(log_slow_queries)


def install_slow_query_logging() -> None:
    connection_created.connect(_attach_to_connection, dispatch_uid="keneyapp.slow_query")
