"""Every blocking Redis read of the project outlives its own block time.

redis-py 8 gives every connection a 5 s socket timeout unless one is passed. A client that blocks
server-side (BZPOPMIN, BRPOP) on such a connection for as long or longer fails with TimeoutError
instead of waiting: the channel layer did exactly that to every idle websocket. These checks fail
if a client's effective timeout is ever not longer than its blocking read again.
"""

import pytest
from channels_redis.core import RedisChannelLayer


def test_the_channel_layer_waits_longer_than_its_blocking_read(settings):
    if not settings.CHANNELS_REDIS_URL:
        pytest.skip("the in-memory channel layer makes no Redis reads")
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    pool = layer.create_pool(0)
    timeout = pool.connection_kwargs["socket_timeout"]
    assert timeout is not None and timeout > layer.brpop_timeout


def test_the_configured_timeout_outlives_the_blocking_read():
    from django.conf import settings

    assert RedisChannelLayer.brpop_timeout < settings.CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS


def test_the_celery_broker_connection_has_no_5_second_read_timeout(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("no Redis broker: tasks run eagerly")
    from keneyapp.celery import app

    # kombu passes socket_timeout=None explicitly, so redis-py's 5 s default does not cut its
    # BRPOP; it finds half-open sockets itself (brpop_timeout + health_check_interval).
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        timeout = channel.client.connection_pool.connection_kwargs["socket_timeout"]
        assert timeout is None or timeout > channel.brpop_timeout


def test_a_publish_waits_a_bounded_time_on_a_broker_that_stopped_answering(settings):
    # Without a read timeout kombu waits forever on a frozen or partitioned Redis, and so does
    # the request that queues a task (tests/faults/test_redis_outage.py pauses a real one).
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("no Redis broker: tasks run eagerly")
    from keneyapp.celery import app

    with app.connection_for_write() as connection:
        kwargs = connection.default_channel.client.connection_pool.connection_kwargs
        assert kwargs["socket_connect_timeout"] is not None
        assert kwargs["socket_timeout"] is not None and kwargs["socket_timeout"] <= 2
    assert app.conf.task_publish_retry_policy["max_retries"] == 0


def test_the_channel_layer_sends_a_command_again_on_a_connection_a_restart_killed(settings):
    # Else the first handshake after Redis comes back is refused, and the first event is lost.
    if not settings.CHANNELS_REDIS_URL:
        pytest.skip("the in-memory channel layer makes no Redis reads")
    import redis.exceptions
    from channels.layers import get_channel_layer

    pool = get_channel_layer().create_pool(0)
    connection = pool.connection_class(**pool.connection_kwargs)
    assert connection.retry.get_retries() == 1
    assert redis.exceptions.ConnectionError in connection.retry_on_error
    assert redis.exceptions.TimeoutError not in connection.retry_on_error  # a hang is not doubled
