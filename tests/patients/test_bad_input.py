"""Bad input to POST and PATCH: a 4xx in the API's error shape, and nothing created or changed."""

from datetime import UTC, datetime, timedelta

import pytest

from keneyapp.core.scoping import scopes_disabled
from patients import services
from patients.models import Patient
from tests.factories import PatientFactory

from .helpers import LIST_URL, assert_error, detail_url, snapshot, valid_body

IN_TWO_DAYS = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()

# (body changes, the field the 400 names). Each applies to a create and to an update.
INVALID_VALUES = [
    pytest.param({"frist_name": "Awa"}, "frist_name", id="misspelled-field"),
    pytest.param({"favourite_colour": "blue"}, "favourite_colour", id="unknown-field"),
    pytest.param({"email": "not-an-email"}, "email", id="invalid-email"),
    pytest.param({"email": "awa@"}, "email", id="email-without-domain"),
    pytest.param({"phone_number": "abc"}, "phone_number", id="phone-letters"),
    pytest.param({"phone_number": "12"}, "phone_number", id="phone-too-short"),
    pytest.param({"phone_number": "1" * 16}, "phone_number", id="phone-too-many-digits"),
    pytest.param({"date_of_birth": IN_TWO_DAYS}, "date_of_birth", id="born-in-the-future"),
    pytest.param({"date_of_birth": "1899-12-31"}, "date_of_birth", id="born-before-1900"),
    pytest.param({"date_of_birth": "17/05/1980"}, "date_of_birth", id="date-not-iso"),
    pytest.param({"date_of_birth": "1980-02-30"}, "date_of_birth", id="date-impossible"),
    pytest.param({"date_of_birth": "1980-05-17T10:00:00"}, "date_of_birth", id="date-is-a-datetime"),
    pytest.param({"date_of_birth": 19800517}, "date_of_birth", id="date-is-a-number"),
    pytest.param({"first_name": None}, "first_name", id="null-first-name"),
    pytest.param({"last_name": None}, "last_name", id="null-last-name"),
    pytest.param({"date_of_birth": None}, "date_of_birth", id="null-date-of-birth"),
    pytest.param({"notes": None}, "notes", id="null-notes"),
    pytest.param({"first_name": "  "}, "first_name", id="blank-first-name"),
    pytest.param({"first_name": {"given": "Awa"}}, "first_name", id="object-as-name"),
    pytest.param({"first_name": "A\x00wa"}, "first_name", id="null-character"),
    pytest.param({"sex": "x"}, "sex", id="unknown-sex"),
    pytest.param({"mrn": "A B/1"}, "mrn", id="mrn-bad-characters"),
    pytest.param({"mrn": ""}, "mrn", id="mrn-blank"),
    pytest.param({"first_name": "a" * 101}, "first_name", id="first-name-too-long"),
    pytest.param({"last_name": "a" * 101}, "last_name", id="last-name-too-long"),
    pytest.param({"email": "a" * 250 + "@x.org"}, "email", id="email-too-long"),
    pytest.param({"phone_number": "+221 77 123 45 67" + " -" * 10}, "phone_number", id="phone-too-long"),
    pytest.param({"mrn": "1" * 33}, "mrn", id="mrn-too-long"),
    pytest.param({"emergency_contact": "a" * 256}, "emergency_contact", id="contact-too-long"),
    pytest.param({"address": "a" * 2001}, "address", id="address-too-long"),
    pytest.param({"allergies": "a" * 5001}, "allergies", id="allergies-too-long"),
    pytest.param({"notes": "a" * 20001}, "notes", id="notes-too-long"),
]


def post(client, body):
    return client.post(LIST_URL, body, format="json")


# --- POST -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), INVALID_VALUES)
def test_create_with_an_invalid_value_is_a_400_naming_the_field(api, doctor, changes, field):
    response = post(api(doctor), valid_body(**changes))

    body = assert_error(response, 400, fields=(field,), code="validation_error")
    assert body["detail"]
    with scopes_disabled():
        assert Patient.objects.count() == 0


@pytest.mark.parametrize("missing", ["first_name", "last_name", "date_of_birth"])
def test_create_without_a_required_field_is_a_400(api, doctor, missing):
    body = valid_body()
    del body[missing]

    response = post(api(doctor), body)

    problems = assert_error(response, 400, fields=(missing,))["fields"][missing]
    assert problems[0]["code"] == "required"
    with scopes_disabled():
        assert Patient.objects.count() == 0


@pytest.mark.parametrize("raw", [b"", b"{}"])
def test_create_with_an_empty_body_names_every_required_field(api, doctor, raw):
    response = api(doctor).generic("POST", LIST_URL, raw, content_type="application/json")

    assert_error(response, 400, fields=("first_name", "last_name", "date_of_birth"))
    with scopes_disabled():
        assert Patient.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"first_name": "Awa", ', id="truncated"),
        pytest.param(b"{'first_name': 'Awa'}", id="single-quotes"),
        pytest.param(b'{"first_name": "\\ud800"}', id="lone-surrogate"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b"[]", id="array"),
        pytest.param(
            b'[{"first_name": "Awa", "last_name": "Diop", "date_of_birth": "1990-04-12"}]', id="array"
        ),
        pytest.param(b'"Awa"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
    ],
)
def test_create_with_a_body_that_is_not_a_json_object_is_a_400(api, doctor, raw):
    response = api(doctor).generic("POST", LIST_URL, raw, content_type="application/json")

    assert_error(response, 400, code="malformed_request")
    with scopes_disabled():
        assert Patient.objects.count() == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "application/xml",
    ],
)
def test_create_with_another_content_type_is_a_415(api, doctor, content_type):
    response = api(doctor).generic(
        "POST", LIST_URL, "first_name=Awa&last_name=Diop&date_of_birth=1990-04-12", content_type=content_type
    )

    assert_error(response, 415, code="unsupported_media_type")
    with scopes_disabled():
        assert Patient.objects.count() == 0


def test_create_with_a_form_post_is_a_415(api, doctor):
    response = api(doctor).post(LIST_URL, valid_body())  # the test client's default: multipart

    assert_error(response, 415)
    with scopes_disabled():
        assert Patient.objects.count() == 0


def test_create_with_an_active_email_of_the_clinic_is_a_400(api, doctor, clinic):
    PatientFactory(tenant=clinic, email="awa.diop@example.org")

    response = post(api(doctor), valid_body(email="AWA.Diop@Example.ORG"))

    assert_error(response, 400, fields=("email",))
    with scopes_disabled():
        assert Patient.objects.count() == 1


def test_create_with_a_record_number_of_the_clinic_is_a_400(api, doctor, clinic):
    PatientFactory(tenant=clinic, mrn="DKR-7")

    response = post(api(doctor), valid_body(mrn="DKR-7"))

    assert_error(response, 400, fields=("mrn",))
    with scopes_disabled():
        assert Patient.objects.count() == 1


def test_record_numbers_of_deleted_patients_are_never_reused(api, doctor, clinic):
    PatientFactory(tenant=clinic, mrn="DKR-7", is_deleted=True, deleted_at=datetime.now(UTC))

    response = post(api(doctor), valid_body(mrn="DKR-7"))

    assert_error(response, 400, fields=("mrn",))
    with scopes_disabled():
        assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("existing", "body", "field"),
    [
        # The emails and record numbers quote each other's field name, to prove the database's
        # message is attributed to the right constraint.
        ({"email": "mrn.diop@example.org"}, {"email": "MRN.diop@example.org"}, "email"),
        ({"mrn": "email-1"}, {"mrn": "email-1"}, "mrn"),
    ],
)
def test_a_unique_constraint_lost_to_a_concurrent_request_is_the_same_400(
    api, doctor, clinic, monkeypatch, existing, body, field
):
    # Two requests can both pass the service's checks; the loser hits the database's constraint.
    PatientFactory(tenant=clinic, **existing)
    monkeypatch.setattr(services, "_check_unique", lambda **kwargs: None)

    response = post(api(doctor), valid_body(**body))

    assert_error(response, 400, fields=(field,))
    with scopes_disabled():
        assert Patient.objects.count() == 1


# --- PATCH ------------------------------------------------------------------------------------


def patch(client, patient, body):
    return client.patch(detail_url(patient), body, format="json")


@pytest.mark.parametrize(("changes", "field"), INVALID_VALUES)
def test_update_with_an_invalid_value_is_a_400_and_changes_nothing(api, doctor, patient, changes, field):
    before = snapshot(patient)

    response = patch(api(doctor), patient, changes)

    assert_error(response, 400, fields=(field,), code="validation_error")
    assert snapshot(patient) == before


def test_update_reports_every_invalid_field_at_once(api, doctor, patient):
    before = snapshot(patient)

    response = patch(api(doctor), patient, {"email": "nope", "phone_number": "12", "first_name": ""})

    assert_error(response, 400, fields=("email", "phone_number", "first_name"))
    assert snapshot(patient) == before


def test_update_rejects_a_valid_change_alongside_an_invalid_one(api, doctor, patient):
    before = snapshot(patient)

    response = patch(api(doctor), patient, {"last_name": "Ba", "frist_name": "Awa"})

    assert_error(response, 400, fields=("frist_name",))
    assert snapshot(patient) == before


@pytest.mark.parametrize("key", ["tenant", "id", "created_by", "is_deleted", "deleted_at", "search_text"])
def test_update_refuses_server_owned_keys(api, doctor, patient, key):
    before = snapshot(patient)

    response = patch(api(doctor), patient, {key: 1})

    assert_error(response, 400, fields=(key,))
    assert snapshot(patient) == before


@pytest.mark.parametrize(
    "raw",
    [b'{"first_name": ', b"[]", b'[{"first_name": "X"}]', b'"X"'],
    ids=["malformed", "[]", "array", "str"],
)
def test_update_with_a_body_that_is_not_a_json_object_is_a_400(api, doctor, patient, raw):
    before = snapshot(patient)

    response = api(doctor).generic("PATCH", detail_url(patient), raw, content_type="application/json")

    assert_error(response, 400, code="malformed_request")
    assert snapshot(patient) == before


def test_update_with_a_form_body_is_a_415(api, doctor, patient):
    before = snapshot(patient)

    response = api(doctor).generic(
        "PATCH", detail_url(patient), "first_name=X", content_type="application/x-www-form-urlencoded"
    )

    assert_error(response, 415, code="unsupported_media_type")
    assert snapshot(patient) == before


def test_update_to_another_active_patients_email_is_a_400(api, doctor, clinic, patient):
    PatientFactory(tenant=clinic, email="taken@example.org")
    before = snapshot(patient)

    response = patch(api(doctor), patient, {"email": "Taken@Example.org"})

    assert_error(response, 400, fields=("email",))
    assert snapshot(patient) == before


def test_update_to_a_deleted_patients_email_is_allowed(api, doctor, clinic, patient):
    PatientFactory(tenant=clinic, email="gone@example.org", is_deleted=True, deleted_at=datetime.now(UTC))

    response = patch(api(doctor), patient, {"email": "gone@example.org"})

    assert response.status_code == 200
    assert snapshot(patient)["email"] == "gone@example.org"


def test_update_to_another_clinics_email_is_allowed(api, doctor, other_clinic, patient):
    PatientFactory(tenant=other_clinic, email="elsewhere@example.org")

    assert patch(api(doctor), patient, {"email": "elsewhere@example.org"}).status_code == 200


def test_update_to_another_patients_record_number_is_a_400(api, doctor, clinic, patient):
    PatientFactory(tenant=clinic, mrn="DKR-9")
    before = snapshot(patient)

    response = patch(api(doctor), patient, {"mrn": "DKR-9"})

    assert_error(response, 400, fields=("mrn",))
    assert snapshot(patient) == before
