"""Simultaneous creations on PostgreSQL: record numbers stay distinct, an email stays unique.

SQLite serialises writers, so these races only exist (and are only tested) on PostgreSQL.
"""

from functools import partial

import pytest
from django.db import connection

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.concurrency import run_at_once

from .helpers import LIST_URL, valid_body

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real concurrency"
    ),
]


def create_at_once(clients: list, bodies: list[dict]) -> list:
    """POST each body with its own client from its own thread (and database connection), all
    released together."""
    return run_at_once(
        [
            partial(client.post, LIST_URL, body, format="json")
            for client, body in zip(clients, bodies, strict=True)
        ],
        timeout=60,
        barrier_timeout=10,
    )


def test_ten_simultaneous_creations_get_ten_distinct_record_numbers(api, doctor, clinic):
    bodies = [valid_body(email=f"patient{n}@example.org") for n in range(10)]

    responses = create_at_once([api(doctor) for _ in bodies], bodies)

    assert [r.status_code for r in responses] == [201] * 10
    numbers = [r.json()["mrn"] for r in responses]
    assert len(set(numbers)) == 10
    with scopes_disabled():
        assert sorted(Patient.objects.filter(tenant=clinic).values_list("mrn", flat=True)) == sorted(numbers)


def test_two_simultaneous_creations_with_one_email_create_one_patient(api, doctor, clinic):
    bodies = [valid_body(email="mrn.twin@example.org"), valid_body(email="MRN.Twin@example.org")]

    responses = create_at_once([api(doctor) for _ in bodies], bodies)

    assert sorted(r.status_code for r in responses) == [201, 400]
    refused = next(r for r in responses if r.status_code == 400).json()
    assert refused["code"] == "validation_error"
    assert set(refused["fields"]) == {"email"}
    with scopes_disabled():
        assert Patient.objects.filter(tenant=clinic).count() == 1
