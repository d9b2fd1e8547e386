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
