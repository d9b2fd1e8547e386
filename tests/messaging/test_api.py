"""The messaging API: sending, the boxes, catching up, read receipts, the unread count."""

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail import EmailMessage

from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from messaging.models import Message, MessageStatus
from tests.brokers import refusing_broker
from tests.error_shape import assert_error
from tests.factories import MessageFactory, PatientFactory, UserFactory

from .conftest import MESSAGES_URL, send

pytestmark = pytest.mark.django_db


def test_send_stores_the_message_and_answers_it(api, doctor, nurse):
    patient = PatientFactory(tenant=doctor.tenant, first_name="Awa", last_name="Ndiaye")
    response = send(api(doctor), nurse, "Please check her labs", subject="Labs", patient_id=patient.pk)

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/messages/{body['id']}"
    assert body["sender"]["id"] == doctor.pk and body["receiver"]["id"] == nurse.pk
    assert body["patient"] == {"id": patient.pk, "name": "Awa Ndiaye", "mrn": patient.mrn}
    assert body["status"] == "sent" and body["thread_id"] == body["id"] and body["parent_id"] is None
    with scopes_disabled():
        message = Message.objects.get(pk=body["id"])
    assert (message.tenant_id, message.body, message.subject) == (
        doctor.tenant_id,
        "Please check her labs",
        "Labs",
    )


def test_a_reply_joins_its_parents_thread(api, doctor, nurse):
    first = send(api(doctor), nurse, "Question").json()
    reply = send(api(nurse), doctor, "Answer", parent_id=first["id"]).json()
    again = send(api(doctor), nurse, "Thanks", parent_id=reply["id"]).json()

    assert reply["thread_id"] == again["thread_id"] == first["id"]
    thread = api(doctor).get(MESSAGES_URL, {"thread": first["id"]}).json()
    assert [item["id"] for item in thread["items"]] == [again["id"], reply["id"], first["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "Hi"}, "receiver_id"),
        ({"receiver_id": 999_999, "body": "Hi"}, "receiver_id"),
        ({"receiver_id": "x", "body": "Hi"}, "receiver_id"),
        ({"receiver_id": "self", "body": "Hi"}, "receiver_id"),
        ({"receiver_id": "nurse"}, "body"),
        ({"receiver_id": "nurse", "body": ""}, "body"),
        ({"receiver_id": "nurse", "body": "   \n "}, "body"),
        ({"receiver_id": "nurse", "body": "x" * 10_001}, "body"),
        ({"receiver_id": "nurse", "body": "a\x00b"}, "body"),
        ({"receiver_id": "nurse", "body": ["list"]}, "body"),
        ({"receiver_id": "nurse", "body": "Hi", "subject": "s" * 201}, "subject"),
        ({"receiver_id": "nurse", "body": "Hi", "patient_id": 999_999}, "patient_id"),
        ({"receiver_id": "nurse", "body": "Hi", "parent_id": 999_999}, "parent_id"),
        ({"receiver_id": "nurse", "body": "Hi", "is_urgent": "maybe"}, "is_urgent"),
        ({"receiver_id": "nurse", "body": "Hi", "status": "read"}, "status"),
        ({"receiver_id": "nurse", "body": "Hi", "tenant_id": 1}, "tenant_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(api, doctor, nurse, body, field):
    body = dict(body)
    if body.get("receiver_id") == "nurse":
        body["receiver_id"] = nurse.pk
    elif body.get("receiver_id") == "self":
        body["receiver_id"] = doctor.pk
    response = api(doctor).post(MESSAGES_URL, body, format="json")

    assert_error(response, 400, fields=(field,), code="validation_error")
    with scopes_disabled():
        assert not Message.objects.exists()


def test_the_body_limit_is_10000_characters(api, doctor, nurse):
    assert send(api(doctor), nurse, "x" * 10_000).status_code == 201


def test_receivers_patients_and_parents_of_another_clinic_are_refused(api, doctor, nurse, outsider):
    theirs = MessageFactory(tenant=outsider.tenant, receiver=outsider)
    cases = [
        ({"receiver_id": outsider.pk}, "receiver_id"),
        ({"receiver_id": nurse.pk, "patient_id": PatientFactory(tenant=outsider.tenant).pk}, "patient_id"),
        ({"receiver_id": nurse.pk, "parent_id": theirs.pk}, "parent_id"),
    ]
    for extra, field in cases:
        response = api(doctor).post(MESSAGES_URL, {"body": "Hi", **extra}, format="json")
        assert_error(response, 400, fields=(field,))
    with scopes_disabled():
        assert Message.objects.count() == 1


def test_a_parent_one_is_not_part_of_is_refused(api, doctor, nurse, receptionist):
    private = MessageFactory(tenant=doctor.tenant, sender=nurse, receiver=receptionist)
    response = send(api(doctor), nurse, "Hi", parent_id=private.pk)
    assert_error(response, 400, fields=("parent_id",))


def test_an_inactive_colleague_cannot_receive(api, doctor, staff_of):
    gone = staff_of(Role.NURSE, is_active=False)
    assert_error(send(api(doctor), gone), 400, fields=("receiver_id",))


def test_every_staff_role_can_send_and_read(api, doctor, nurse, receptionist, clinic_admin):
    people = [doctor, nurse, receptionist, clinic_admin]
    for sender, receiver in zip(people, people[1:] + people[:1], strict=True):
        assert send(api(sender), receiver).status_code == 201
    for person in people:
        assert api(person).get(MESSAGES_URL).json()["total"] == 1


def test_only_the_sender_and_the_receiver_see_a_message(api, doctor, nurse, receptionist, outsider):
    message = send(api(doctor), nurse).json()
    url = f"{MESSAGES_URL}/{message['id']}"

    assert api(doctor).get(url).status_code == 200
    assert api(nurse).get(url).status_code == 200
    for stranger in (receptionist, outsider):
        assert_error(api(stranger).get(url), 404, code="not_found")
        assert_error(api(stranger).post(f"{url}/read"), 404, code="not_found")
        assert api(stranger).get(MESSAGES_URL, {"box": "inbox"}).json()["total"] == 0
        assert api(stranger).get(MESSAGES_URL, {"thread": message["id"]}).json()["total"] == 0


def test_inbox_and_sent_boxes(api, doctor, nurse):
    to_nurse = [send(api(doctor), nurse, f"n{i}").json()["id"] for i in range(3)]
    to_doctor = send(api(nurse), doctor, "back").json()["id"]

    inbox = api(nurse).get(MESSAGES_URL).json()
    assert [item["id"] for item in inbox["items"]] == to_nurse[::-1]  # newest first
    assert inbox["total"] == 3 and inbox["skip"] == 0 and inbox["limit"] == 50
    sent = api(nurse).get(MESSAGES_URL, {"box": "sent"}).json()
    assert [item["id"] for item in sent["items"]] == [to_doctor]
    page = api(nurse).get(MESSAGES_URL, {"skip": 1, "limit": 1}).json()
    assert [item["id"] for item in page["items"]] == [to_nurse[1]] and page["total"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"box": "trash"}, "box"),
        ({"unread": "perhaps"}, "unread"),
        ({"thread": "x"}, "thread"),
        ({"thread": "0"}, "thread"),
        ({"after_id": "-1"}, "after_id"),
        ({"after_id": "99999999999999999999999"}, "after_id"),
        ({"limit": "0"}, "limit"),
        ({"skip": "-3"}, "skip"),
    ],
)
def test_bad_list_parameters_are_a_400(api, doctor, params, field):
    assert_error(api(doctor).get(MESSAGES_URL, params), 400, fields=(field,))


def test_catching_up_after_an_id_gives_the_rest_oldest_first(api, doctor, nurse):
    ids = [send(api(doctor), nurse, f"m{i}").json()["id"] for i in range(5)]
    body = api(nurse).get(MESSAGES_URL, {"after_id": ids[1], "limit": 2}).json()
    assert [item["id"] for item in body["items"]] == ids[2:4] and body["total"] == 3
    rest = api(nurse).get(MESSAGES_URL, {"after_id": ids[3]}).json()
    assert [item["id"] for item in rest["items"]] == ids[4:]


def test_unread_filter_and_count(api, doctor, nurse):
    ids = [send(api(doctor), nurse, f"m{i}").json()["id"] for i in range(3)]
    assert api(nurse).post(f"{MESSAGES_URL}/{ids[0]}/read").status_code == 200

    unread = api(nurse).get(MESSAGES_URL, {"unread": "true"}).json()
    assert [item["id"] for item in unread["items"]] == ids[:0:-1]
    assert api(nurse).get(f"{MESSAGES_URL}/unread-count").json() == {"unread": 2}
    assert api(doctor).get(f"{MESSAGES_URL}/unread-count").json() == {"unread": 0}


def test_fetching_as_the_receiver_marks_delivered_not_read(api, doctor, nurse):
    message_id = send(api(doctor), nurse).json()["id"]
    assert api(doctor).get(f"{MESSAGES_URL}/{message_id}").json()["status"] == "sent"  # the sender's read

    item = api(nurse).get(MESSAGES_URL).json()["items"][0]
    assert item["status"] == "delivered" and item["delivered_at"]
    with scopes_disabled():
        assert Message.objects.get(pk=message_id).status == MessageStatus.DELIVERED
    assert api(nurse).get(f"{MESSAGES_URL}/unread-count").json() == {"unread": 1}


def test_mark_read_is_idempotent_and_only_for_the_receiver(api, doctor, nurse):
    message_id = send(api(doctor), nurse).json()["id"]
    url = f"{MESSAGES_URL}/{message_id}/read"

    assert_error(api(doctor).post(url), 403, code="permission_denied")  # the sender cannot
    with scopes_disabled():
        assert Message.objects.get(pk=message_id).status == MessageStatus.SENT
    first = api(nurse).post(url).json()
    assert first["status"] == "read" and first["read_at"] and first["delivered_at"]
    second = api(nurse).post(url).json()
    assert second["read_at"] == first["read_at"]


def test_read_all_marks_only_the_callers_messages(api, doctor, nurse, receptionist, outsider):
    for _ in range(3):
        send(api(doctor), nurse)
    send(api(doctor), receptionist)
    MessageFactory(tenant=outsider.tenant, receiver=outsider)

    assert api(nurse).post(f"{MESSAGES_URL}/read-all").json() == {"marked_read": 3, "unread": 0}
    assert api(nurse).post(f"{MESSAGES_URL}/read-all").json() == {"marked_read": 0, "unread": 0}
    assert api(receptionist).get(f"{MESSAGES_URL}/unread-count").json() == {"unread": 1}
    with scopes_disabled():
        assert Message.objects.filter(tenant=outsider.tenant, status="sent").count() == 1


def test_the_dashboard_shows_the_callers_unread_count(api, doctor, nurse):
    send(api(doctor), nurse)
    send(api(doctor), nurse)
    assert api(nurse).get("/api/v1/dashboard/stats").json()["messages"] == {"unread": 2}
    assert api(doctor).get("/api/v1/dashboard/stats").json()["messages"] == {"unread": 0}


def test_the_inbox_query_count_does_not_grow_with_rows(api, doctor, nurse, django_assert_max_num_queries):
    patient = PatientFactory(tenant=doctor.tenant)
    MessageFactory.create_batch(30, tenant=doctor.tenant, sender=doctor, receiver=nurse, patient=patient)
    client = api(nurse)
    client.get(MESSAGES_URL)  # the user is cached now, and every message delivered
    with django_assert_max_num_queries(3):  # count + page; the audit trail's one INSERT
        assert len(client.get(MESSAGES_URL).json()["items"]) == 30


def urgent(sender, message_id: int) -> dict:
    """The urgent notification task's arguments, as message_send queues them."""
    return {"clinic_id": sender.tenant_id, "message_id": message_id}


def test_urgent_messages_email_the_receiver_once(
    api, doctor, nurse, django_capture_on_commit_callbacks, monkeypatch
):
    from keneyapp.celery import app as celery_app
    from messaging.tasks import send_urgent_notification

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # run it here, even with a broker

    with django_capture_on_commit_callbacks(execute=True):  # tasks are queued after commit
        message_id = send(api(doctor), nurse, "Come now", subject="Room 3", is_urgent=True).json()["id"]

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [nurse.email] and "Urgent" in mail.outbox[0].subject
    assert "Come now" not in mail.outbox[0].body  # the body stays in the app
    # A second delivery: no second email.
    assert send_urgent_notification.apply(kwargs=urgent(doctor, message_id)).get() == "skipped"
    assert len(mail.outbox) == 1


def test_an_urgent_message_sent_while_the_broker_refuses_connections_is_stored_and_answered(
    api, doctor, nurse, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    with refusing_broker(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        response = send(api(doctor), nurse, "Come now", is_urgent=True)

    assert response.status_code == 201
    with scopes_disabled():
        assert Message.objects.filter(pk=response.json()["id"], is_urgent=True).exists()
    assert "could not queue task messaging.send_urgent_notification" in caplog.text


def test_an_urgent_message_whose_email_fails_without_a_broker_is_stored_and_answered(
    api, doctor, nurse, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from keneyapp.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # the embedded defaults
    monkeypatch.setattr(
        EmailMessage, "send", lambda *args, **kwargs: (_ for _ in ()).throw(OSError("SMTP down"))
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = send(api(doctor), nurse, "Come now", is_urgent=True)

    assert response.status_code == 201
    assert "task messaging.send_urgent_notification" in caplog.text and "failed" in caplog.text


def test_an_urgent_message_read_first_is_not_emailed(api, doctor, nurse, settings):
    from messaging.tasks import send_urgent_notification

    message = MessageFactory(tenant=doctor.tenant, sender=doctor, receiver=nurse, is_urgent=True)
    api(nurse).post(f"{MESSAGES_URL}/{message.pk}/read")
    assert send_urgent_notification.apply(kwargs=urgent(doctor, message.pk)).get() == "skipped"
    assert mail.outbox == []


def test_a_failed_email_releases_its_claim_so_the_retry_sends_once(doctor, nurse, monkeypatch):
    from messaging import tasks

    message = MessageFactory(tenant=doctor.tenant, sender=doctor, receiver=nurse, is_urgent=True)
    calls = []

    def flaky_send_mail(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OSError("SMTP down")
        return 1

    monkeypatch.setattr(EmailMessage, "send", flaky_send_mail)
    with pytest.raises(Retry):  # eagerly the retry surfaces; a worker would run it again later
        tasks.send_urgent_notification.apply(kwargs=urgent(doctor, message.pk), throw=True)
    message.refresh_from_db()
    assert message.urgent_notified_at is None
    assert tasks.send_urgent_notification.apply(kwargs=urgent(doctor, message.pk)).get() == "sent"
    assert tasks.send_urgent_notification.apply(kwargs=urgent(doctor, message.pk)).get() == "skipped"
    assert len(calls) == 2


def test_urgent_notifications_run_on_the_high_queue(settings):
    assert settings.CELERY_TASK_ROUTES["messaging.send_urgent_notification"] == {"queue": "high"}


def test_an_unknown_other_user_id_is_not_an_oracle(api, doctor):
    # A user of no clinic (a superuser) cannot be messaged either.
    root = UserFactory(username="root2", tenant=None, role="", is_superuser=True)
    assert_error(send(api(doctor), root), 400, fields=("receiver_id",))
