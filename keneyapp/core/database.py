"""Database helpers that know no domain."""

from psycopg import Connection


def check_pooled_connection(connection: Connection) -> None:
    """The guide's DB_POOL_PRE_PING: psycopg's pool calls this before lending a connection.

    A connection the server dropped (restart, idle timeout, failover) fails here and the pool
    replaces it, instead of the request failing on its first query.
    """
    from psycopg_pool import ConnectionPool

    ConnectionPool.check_connection(connection)


def is_postgresql(connection) -> bool:
    return connection.vendor == "postgresql"
