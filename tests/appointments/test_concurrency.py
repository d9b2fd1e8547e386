"""Simultaneous bookings on PostgreSQL: the database, not only the service, refuses a double booking.

SQLite serialises writers (IMMEDIATE transactions), so these races only exist, and are only
tested, on PostgreSQL with real parallel connections.
"""

import itertools
from functools import partial

import pytest
from django.db import IntegrityError, connection, transaction

from appointments.models import Appointment, AppointmentStatus
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from tests.concurrency import run_at_once
from tests.factories import AppointmentFactory

from .helpers import DAKAR, LIST_URL, at

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL's exclusion constraint and real concurrency",
    ),
]

THREADS = 20


def post_at_once(clients: list, bodies: list[dict]) -> list:
    """POST each body with its own client from its own thread (and database connection), all
    released together by a barrier."""
    return run_at_once(
        [
            partial(client.post, LIST_URL, body, format="json")
            for client, body in zip(clients, bodies, strict=True)
        ],
        timeout=120,
        barrier_timeout=30,
    )


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_overlapping_bookings_create_exactly_one(api, doctor, clinic, patient):
    # 10:00, 10:01 ... 10:19, each 30 minutes long: every pair overlaps.
    bodies = [
        {
            "patient_id": patient.pk,
            "provider_id": doctor.pk,
            "appointment_date": f"2030-01-07T10:{minute:02d}:00",
            "duration_minutes": 30,
        }
        for minute in range(THREADS)
    ]

    responses = post_at_once([api(doctor) for _ in bodies], bodies)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (THREADS - 1), [r.content for r in responses]
    created = next(r for r in responses if r.status_code == 201).json()
    for refused in (r.json() for r in responses if r.status_code == 409):
        assert refused["code"] == "double_booking"
        assert refused["conflicting_appointment"]["id"] == created["id"]
    with scopes_disabled():
        assert list(Appointment.objects.filter(tenant=clinic).values_list("pk", flat=True)) == [created["id"]]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_bookings_of_different_providers_all_succeed(api, staff_of, doctor, clinic, patient):
    providers = [doctor] + [staff_of(Role.NURSE) for _ in range(4)]
    bodies = [
        {"patient_id": patient.pk, "provider_id": provider.pk, "appointment_date": "2030-01-07T10:00:00"}
        for provider in providers
    ]

    responses = post_at_once([api(doctor) for _ in bodies], bodies)

    assert [r.status_code for r in responses] == [201] * len(providers)
    with scopes_disabled():
        assert Appointment.objects.filter(tenant=clinic).count() == len(providers)


# --- the database's own rule --------------------------------------------------------------------


@pytest.fixture
def booked(db, clinic, doctor, patient):
    return AppointmentFactory(
        tenant=clinic, patient=patient, provider=doctor, appointment_date=at(DAKAR, 2030, 1, 7, 9)
    )


def insert_bypassing_the_service(clinic, patient, provider, start, **fields):
    """Write a row straight through the ORM: no overlap check in Python at all."""
    return AppointmentFactory(
        tenant=clinic, patient=patient, provider=provider, appointment_date=start, **fields
    )


def test_the_database_refuses_an_overlapping_row_written_past_the_service(clinic, doctor, patient, booked):
    with pytest.raises(IntegrityError, match="appointment_provider_no_overlap"), transaction.atomic():
        insert_bypassing_the_service(clinic, patient, doctor, at(DAKAR, 2030, 1, 7, 9, 15))

    with scopes_disabled():
        assert Appointment.objects.count() == 1


def test_the_database_refuses_an_update_into_an_overlap(clinic, doctor, patient, booked):
    later = insert_bypassing_the_service(clinic, patient, doctor, at(DAKAR, 2030, 1, 7, 10))

    overlap = pytest.raises(IntegrityError, match="appointment_provider_no_overlap")
    with overlap, transaction.atomic(), scopes_disabled():
        Appointment.objects.filter(pk=later.pk).update(
            appointment_date=at(DAKAR, 2030, 1, 7, 9, 20), ends_at=at(DAKAR, 2030, 1, 7, 9, 50)
        )

    later.refresh_from_db()
    assert later.appointment_date == at(DAKAR, 2030, 1, 7, 10)


def test_the_database_accepts_adjacent_released_and_other_providers_rows(
    clinic, doctor, nurse, patient, booked
):
    insert_bypassing_the_service(clinic, patient, doctor, at(DAKAR, 2030, 1, 7, 9, 30))  # adjacent
    insert_bypassing_the_service(clinic, patient, nurse, at(DAKAR, 2030, 1, 7, 9))  # another provider
    insert_bypassing_the_service(clinic, patient, None, at(DAKAR, 2030, 1, 7, 9))  # unassigned
    for status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        insert_bypassing_the_service(clinic, patient, doctor, at(DAKAR, 2030, 1, 7, 9), status=status)

    with scopes_disabled():
        assert Appointment.objects.count() == 6


def test_the_database_refuses_reviving_a_cancelled_row_into_an_overlap(clinic, doctor, patient, booked):
    cancelled = insert_bypassing_the_service(
        clinic, patient, doctor, at(DAKAR, 2030, 1, 7, 9), status=AppointmentStatus.CANCELLED
    )

    overlap = pytest.raises(IntegrityError, match="appointment_provider_no_overlap")
    with overlap, transaction.atomic(), scopes_disabled():
        Appointment.objects.filter(pk=cancelled.pk).update(status=AppointmentStatus.SCHEDULED)

    with scopes_disabled():
        assert Appointment.objects.get(pk=cancelled.pk).status == AppointmentStatus.CANCELLED


def _patch_at_once(clients: list, moves: list[tuple[int, str]]) -> list:
    return run_at_once(
        [
            partial(client.patch, f"{LIST_URL}/{pk}", {"appointment_date": when}, format="json")
            for client, (pk, when) in zip(clients, moves, strict=True)
        ],
        timeout=120,
        barrier_timeout=30,
    )


@pytest.mark.django_db(transaction=True)
def test_simultaneous_moves_into_one_slot_and_swaps_are_200_or_409_never_500(api, doctor, clinic):
    """Moves into one slot, and pairs of appointments swapping slots (each update waits on the
    other's old row in the exclusion constraint: a deadlock), many times over: every answer is
    200 or a 409 in the error shape, and the provider's calendar never overlaps."""
    from tests.error_shape import assert_error

    rounds, pairs = 6, 4
    appointments = [
        AppointmentFactory(
            tenant=clinic, provider=doctor, appointment_date=at(DAKAR, 2030, 1, 7, 8 + 2 * n, minute)
        )
        for n in range(pairs)
        for minute in (0, 30)
    ]
    clients = []
    for _ in range(2 * len(appointments)):
        client = api(doctor)
        client.raise_request_exception = False  # a 500 must show up as an answer, not vanish
        clients.append(client)
    statuses = []
    for round_number in range(rounds):
        with scopes_disabled():
            where = {a.pk: a.appointment_date for a in Appointment.objects.filter(tenant=clinic)}
        moves = []
        for first, second in zip(appointments[::2], appointments[1::2], strict=True):  # swap each pair
            moves.append((first.pk, where[second.pk].astimezone(DAKAR).strftime("%Y-%m-%dT%H:%M:%S")))
            moves.append((second.pk, where[first.pk].astimezone(DAKAR).strftime("%Y-%m-%dT%H:%M:%S")))
        one_slot = f"2030-01-08T{9 + round_number:02d}:00:00"  # and all race for one free slot
        moves += [(appointment.pk, one_slot) for appointment in appointments]
        responses = _patch_at_once(clients, moves)
        for response in responses:
            statuses.append(response.status_code)
            if response.status_code != 200:
                assert_error(response, 409)
        with scopes_disabled():
            booked = sorted(
                Appointment.objects.filter(tenant=clinic, provider=doctor).values_list(
                    "appointment_date", "ends_at"
                )
            )
        assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(booked)), booked
    assert set(statuses) <= {200, 409}, statuses
    assert 200 in statuses and 409 in statuses


def _until_a_session_waits_for_a_lock(timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the move never waited on the other transaction's row")


@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_in_a_move_is_retried_not_a_500(api, doctor, clinic, patient):
    """A deadlock made on purpose: another transaction holds an uncommitted appointment in the
    slot the move wants (the exclusion constraint makes the move wait on it), then asks for the
    moved appointment's row lock, which the move holds. PostgreSQL aborts the move (the first
    waiter); the service runs it once more, after the other transaction has rolled back."""
    import threading

    moved = AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=at(DAKAR, 2030, 1, 7, 8))
    holding = threading.Event()
    client = api(doctor)
    client.raise_request_exception = False

    def other_transaction():
        with scopes_disabled(), transaction.atomic():
            AppointmentFactory(tenant=clinic, provider=doctor, appointment_date=at(DAKAR, 2030, 1, 7, 10))
            holding.set()
            _until_a_session_waits_for_a_lock()  # the move, on this row in the exclusion constraint
            list(Appointment.objects.select_for_update().filter(pk=moved.pk))
            transaction.set_rollback(True)

    def move():
        holding.wait(timeout=10)
        return client.patch(
            f"{LIST_URL}/{moved.pk}", {"appointment_date": "2030-01-07T10:00:00"}, format="json"
        )

    _, response = run_at_once([other_transaction, move], timeout=60)

    assert response.status_code == 200, response.content
    with scopes_disabled():
        assert Appointment.objects.get(pk=moved.pk).appointment_date == at(DAKAR, 2030, 1, 7, 10)
