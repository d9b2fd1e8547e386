import pytest

from messaging import connection_slots

MESSAGES_URL = "/api/v1/messages"


@pytest.fixture(autouse=True)
def _no_leftover_socket_slots():
    # The in-process slot count outlives a test whose socket was never closed.
    connection_slots._local_slots.clear()
    yield
    connection_slots._local_slots.clear()


def send(client, receiver, body="Hello", **extra):
    """POST a message; returns the response."""
    return client.post(MESSAGES_URL, {"receiver_id": receiver.pk, "body": body, **extra}, format="json")
