"""POST /api/v1/patients: what a valid creation stores and answers."""

from datetime import UTC, date, datetime, timedelta

import pytest

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.factories import PatientFactory

from .helpers import LIST_URL, assert_error, valid_body


def post(client, body):
    return client.post(LIST_URL, body, format="json")


def test_create_answers_201_with_the_patient_and_its_location(api, doctor, clinic):
    response = post(api(doctor), valid_body(notes="Penicillin allergy."))

    assert response.status_code == 201
    body = response.json()
    with scopes_disabled():
        created = Patient.objects.get(pk=body["id"])
    assert response["Location"] == f"/api/v1/patients/{created.pk}"
    assert created.tenant_id == clinic.pk
    assert (created.first_name, created.last_name) == ("Awa", "Diop")
    assert created.date_of_birth == date(1990, 4, 12)
    assert created.notes == "Penicillin allergy."
    assert body["first_name"] == "Awa"
    assert body["date_of_birth"] == "1990-04-12"
    assert body["sex"] == "female"


def test_the_location_answers_what_the_create_answered(api, doctor):
    client = api(doctor)

    response = post(client, valid_body())

    assert client.get(response["Location"]).json() == response.json()


def test_creator_is_the_caller(api, doctor):
    response = post(api(doctor), valid_body())

    assert response.json()["created_by"] == doctor.pk
    with scopes_disabled():
        assert Patient.objects.get(pk=response.json()["id"]).created_by_id == doctor.pk


def test_only_the_required_fields_are_needed(api, doctor):
    response = post(api(doctor), {"first_name": "Ali", "last_name": "Kane", "date_of_birth": "2001-01-31"})

    assert response.status_code == 201
    body = response.json()
    assert body["sex"] == "unknown"
    assert body["email"] == ""
    assert body["phone_number"] == ""


def test_record_numbers_are_generated_as_increasing_8_digit_numbers(api, doctor):
    client = api(doctor)

    numbers = [post(client, valid_body(email=f"p{n}@example.org")).json()["mrn"] for n in range(3)]

    assert all(len(mrn) == 8 and mrn.isdigit() for mrn in numbers)
    assert [int(mrn) for mrn in numbers] == list(range(int(numbers[0]), int(numbers[0]) + 3))


def test_a_given_record_number_is_kept(api, doctor):
    response = post(api(doctor), valid_body(mrn="DKR-2024-17"))

    assert response.status_code == 201
    assert response.json()["mrn"] == "DKR-2024-17"
    with scopes_disabled():
        assert Patient.objects.get(pk=response.json()["id"]).mrn == "DKR-2024-17"


def test_generated_record_numbers_skip_one_typed_by_hand(api, doctor):
    client = api(doctor)
    first = post(client, valid_body(email="a@example.org")).json()["mrn"]
    taken = str(int(first) + 1).zfill(8)
    post(client, valid_body(email="b@example.org", mrn=taken))

    following = post(client, valid_body(email="c@example.org"))

    assert following.status_code == 201
    assert following.json()["mrn"] == str(int(first) + 2).zfill(8)


def test_record_numbers_are_counted_per_clinic(api, doctor, outsider):
    ours = post(api(doctor), valid_body()).json()["mrn"]
    theirs = post(api(outsider), valid_body()).json()["mrn"]

    assert ours == theirs  # each clinic has its own sequence; both are its first patient


def test_a_record_number_used_in_another_clinic_is_allowed(api, doctor, other_clinic):
    PatientFactory(tenant=other_clinic, mrn="A-1")

    assert post(api(doctor), valid_body(mrn="A-1")).status_code == 201


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("tenant", 999),
        ("tenant_id", 999),
        ("id", 424242),
        ("created_by", 999),
        ("is_deleted", True),
        ("deleted_at", "2020-01-01T00:00:00Z"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("search_text", "anything"),
    ],
)
def test_server_owned_keys_in_the_body_are_refused_not_used(api, doctor, other_clinic, key, value):
    if key in ("tenant", "tenant_id"):
        value = other_clinic.pk

    response = post(api(doctor), valid_body(**{key: value}))

    body = assert_error(response, 400, fields=(key,))
    assert body["fields"][key][0]["code"] == "unknown_field"
    with scopes_disabled():
        assert Patient.objects.count() == 0


def test_a_baby_born_today_is_accepted(api, doctor):
    today = datetime.now(UTC).date()

    response = post(api(doctor), valid_body(date_of_birth=today.isoformat()))

    assert response.status_code == 201


def test_a_birth_on_the_first_day_of_1900_is_accepted(api, doctor):
    assert post(api(doctor), valid_body(date_of_birth="1900-01-01")).status_code == 201


def test_an_email_is_free_again_once_its_patient_is_deleted(api, doctor, clinic):
    PatientFactory(
        tenant=clinic,
        email="awa.diop@example.org",
        is_deleted=True,
        deleted_at=datetime.now(UTC) - timedelta(days=1),
    )

    response = post(api(doctor), valid_body(email="Awa.Diop@example.org"))

    assert response.status_code == 201


def test_an_email_deleted_through_the_api_is_free_again(api, doctor):
    client = api(doctor)
    first = post(client, valid_body())
    client.delete(first["Location"])

    second = post(client, valid_body())

    assert second.status_code == 201
    with scopes_disabled():
        assert Patient.objects.filter(email="awa.diop@example.org").count() == 2


def test_an_email_used_in_another_clinic_is_allowed(api, doctor, other_clinic):
    PatientFactory(tenant=other_clinic, email="awa.diop@example.org")

    assert post(api(doctor), valid_body()).status_code == 201
