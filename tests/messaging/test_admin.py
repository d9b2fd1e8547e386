"""Messages in the admin: read-only, and private to their two people even there."""

import pytest

from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/messaging/message/"


def test_staff_see_only_their_own_messages(browser, doctor, nurse, receptionist, outsider):
    mine = MessageFactory(tenant=doctor.tenant, sender=nurse, receiver=doctor, subject="For the doctor")
    MessageFactory(tenant=doctor.tenant, sender=nurse, receiver=receptionist, subject="Not for the doctor")
    MessageFactory(tenant=outsider.tenant, receiver=outsider, subject="Another clinic")

    page = browser(doctor).get(CHANGELIST)
    assert page.status_code == 200
    assert b"For the doctor" in page.content
    assert b"Not for the doctor" not in page.content and b"Another clinic" not in page.content
    assert browser(doctor).get(f"{CHANGELIST}{mine.pk}/change/").status_code == 200
    theirs = MessageFactory(tenant=doctor.tenant, sender=nurse, receiver=receptionist)
    assert browser(doctor).get(f"{CHANGELIST}{theirs.pk}/change/").status_code == 302  # "doesn't exist"


def test_messages_cannot_be_added_edited_or_deleted_in_the_admin(browser, doctor, nurse):
    message = MessageFactory(tenant=doctor.tenant, sender=nurse, receiver=doctor, body="original")
    client = browser(doctor)
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    client.post(f"{CHANGELIST}{message.pk}/change/", {"body": "edited"})
    assert client.get(f"{CHANGELIST}{message.pk}/delete/").status_code == 403
    message.refresh_from_db()
    assert message.body == "original"


def test_the_changelist_query_count_does_not_grow(browser, doctor, nurse, django_assert_max_num_queries):
    MessageFactory.create_batch(30, tenant=doctor.tenant, sender=nurse, receiver=doctor)
    client = browser(doctor)
    client.get(CHANGELIST)
    with django_assert_max_num_queries(8):
        assert client.get(CHANGELIST).status_code == 200
