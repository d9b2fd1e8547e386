"""Every number a client sends, in a query string or a body, is ASCII digits within range.

Python's int() (and so DRF's IntegerField) takes other scripts' digits, full-width digits,
underscores, a leading space or plus sign, and any length; each spelling below is the spelling of a
value that works, so without the strict parsing the request would succeed instead of answering 400.
"""

import pytest

from appointments.models import Appointment
from documents.models import Document
from keneyapp.core.pagination import ascii_integer
from keneyapp.core.scoping import scopes_disabled
from messaging.models import Message
from tests.appointments.helpers import AVAILABILITY_URL, LIST_URL, detail_url, guide_body
from tests.documents.helpers import PDF, make_document, upload
from tests.error_shape import assert_error
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory

ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + digit) for digit in range(10)))
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + digit) for digit in range(10)))
SPELLINGS = ["arabic-indic", "full-width", "underscore", "leading space", "plus", "20 digits", "negative"]


def spelled(value: int, spelling: str) -> str:
    """`value` written the way int() accepts and a client may not."""
    digits = str(value)
    return {
        "arabic-indic": digits.translate(ARABIC_INDIC),
        "full-width": digits.translate(FULL_WIDTH),
        "underscore": f"{digits[0]}_{digits[1:]}" if len(digits) > 1 else f"0_{digits}",
        "leading space": f" {digits}",
        "plus": f"+{digits}",
        "20 digits": "9" * 20,
        "negative": f"-{digits}",
    }[spelling]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), ("-3", -3), ("0", 0), ("9" * 18, int("9" * 18))]
    + [(bad, None) for bad in ("", "-", "\u0661\u0662", "\uff11\uff12", "1_0", " 5", "5 ", "+5")]
    + [(bad, None) for bad in ("\u00b2", "9" * 19, "1.0", "0x1")],  # "²" passes str.isdigit()
)
def test_ascii_integer_takes_only_ascii_digits(raw, expected):
    assert ascii_integer(raw) == expected


@pytest.fixture
def patient(clinic):
    return PatientFactory(tenant=clinic)


# --- query strings --------------------------------------------------------------------------------


@pytest.fixture
def query_cases(clinic, doctor, nurse, patient):
    """name -> (url, the other parameters, a value of the parameter that works)."""
    message = MessageFactory(tenant=clinic, sender=nurse, receiver=doctor)
    document = make_document(clinic, patient=patient)
    availability = {"provider_id": doctor.pk, "date_from": "2030-01-07", "date_to": "2030-01-08"}
    return {
        "appointments patient_id": (LIST_URL, {}, patient.pk),
        "appointments provider_id": (LIST_URL, {}, doctor.pk),
        "availability provider_id": (AVAILABILITY_URL, availability, doctor.pk),
        "availability duration": (AVAILABILITY_URL, availability, 30),
        "messages thread": ("/api/v1/messages", {}, message.pk),
        "messages after_id": ("/api/v1/messages", {}, message.pk),
        "documents patient_id": ("/api/v1/documents", {}, patient.pk),
        "download version": (f"/api/v1/documents/{document.pk}/download", {}, 1),
    }


QUERY_PARAMETERS = [
    "appointments patient_id",
    "appointments provider_id",
    "availability provider_id",
    "availability duration",
    "messages thread",
    "messages after_id",
    "documents patient_id",
    "download version",
]


@pytest.mark.parametrize("case", QUERY_PARAMETERS)
def test_the_plain_spelling_of_each_query_parameter_works(api, doctor, query_cases, case):
    url, others, value = query_cases[case]
    name = case.split()[-1]

    # A download from S3 answers 302 to a presigned URL; from the local folder, 200 with the bytes.
    answered = (200, 302) if case.startswith("download") else (200,)
    assert api(doctor).get(url, {**others, name: str(value)}).status_code in answered


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("case", QUERY_PARAMETERS)
def test_any_other_spelling_of_a_query_number_is_a_400_naming_it(api, doctor, query_cases, case, spelling):
    url, others, value = query_cases[case]
    name = case.split()[-1]

    response = api(doctor).get(url, {**others, name: spelled(value, spelling)})

    assert_error(response, 400, fields=(name,), code="validation_error")


# --- bodies ---------------------------------------------------------------------------------------


BAD_JSON_NUMBERS = [10**20, -(10**20), True, 5.0]


@pytest.fixture
def body_cases(clinic, doctor, nurse, patient):
    """name -> (method, url, a body that works, the value of the field that works)."""
    appointment = AppointmentFactory(tenant=clinic, patient=patient)
    parent = MessageFactory(tenant=clinic, sender=nurse, receiver=doctor)
    message = {"receiver_id": nurse.pk, "body": "Hello", "patient_id": patient.pk, "parent_id": parent.pk}
    return {
        "book patient_id": ("post", LIST_URL, guide_body(patient), patient.pk),
        "book provider_id": ("post", LIST_URL, guide_body(patient), doctor.pk),
        "book duration_minutes": ("post", LIST_URL, guide_body(patient), 30),
        "change provider_id": ("patch", detail_url(appointment), {}, doctor.pk),
        "change duration_minutes": ("patch", detail_url(appointment), {}, 45),
        "send receiver_id": ("post", "/api/v1/messages", message, nurse.pk),
        "send patient_id": ("post", "/api/v1/messages", message, patient.pk),
        "send parent_id": ("post", "/api/v1/messages", message, parent.pk),
    }


BODY_FIELDS = [
    "book patient_id",
    "book provider_id",
    "book duration_minutes",
    "change provider_id",
    "change duration_minutes",
    "send receiver_id",
    "send patient_id",
    "send parent_id",
]


def rows() -> tuple[int, int, int]:
    with scopes_disabled():
        return Appointment.objects.count(), Message.objects.count(), Document.objects.count()


@pytest.mark.parametrize("as_string", [False, True], ids=["number", "string"])
@pytest.mark.parametrize("case", BODY_FIELDS)
def test_the_plain_value_of_each_body_number_works(api, doctor, body_cases, case, as_string):
    method, url, body, value = body_cases[case]
    name = case.split()[-1]

    plain = str(value) if as_string else value
    response = getattr(api(doctor), method)(url, {**body, name: plain}, format="json")

    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("bad", [*SPELLINGS, *BAD_JSON_NUMBERS])
@pytest.mark.parametrize("case", BODY_FIELDS)
def test_any_other_body_number_is_a_400_naming_it_and_changes_nothing(api, doctor, body_cases, case, bad):
    method, url, body, value = body_cases[case]
    name = case.split()[-1]
    before = rows()

    raw = spelled(value, bad) if isinstance(bad, str) else bad
    response = getattr(api(doctor), method)(url, {**body, name: raw}, format="json")

    assert_error(response, 400, fields=(name,), code="validation_error")
    assert rows() == before


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_form_field_number_is_ascii_digits_too(api, doctor, patient, spelling):
    assert upload(api(doctor), str(patient.pk), PDF).status_code == 201
    before = rows()

    response = upload(api(doctor), spelled(patient.pk, spelling), PDF)

    assert_error(response, 400, fields=("patient_id",), code="validation_error")
    assert rows() == before


# --- dates ----------------------------------------------------------------------------------------
# Django's date parsers match `\d`, which takes any script's digits, and int() reads them: without
# the ASCII check some of these spellings were accepted (a 200 for the same date in another script)
# and others refused, depending on the parser behind the parameter.

DATE_SPELLINGS = ["arabic-indic", "full-width"]


def date_spelled(value: str, spelling: str) -> str:
    return value.translate({"arabic-indic": ARABIC_INDIC, "full-width": FULL_WIDTH}[spelling])


@pytest.fixture
def date_cases(clinic, doctor, patient):
    """name -> (method, url, the other parameters or body, a value of the field that works)."""
    availability = {"provider_id": doctor.pk, "date_from": "2030-01-07", "date_to": "2030-01-08"}
    from tests.patients.helpers import valid_body

    return {
        "appointments date_from": ("get", LIST_URL, {}, "2030-01-07"),
        "appointments date_to": ("get", LIST_URL, {}, "2030-01-08T10:00:00"),
        "availability date_from": ("get", AVAILABILITY_URL, availability, "2030-01-07"),
        "availability date_to": ("get", AVAILABILITY_URL, availability, "2030-01-08"),
        "book appointment_date": ("post", LIST_URL, guide_body(patient), "2030-01-07T10:00:00"),
        "patient date_of_birth": ("post", "/api/v1/patients", valid_body(email=""), "1990-04-12"),
    }


DATE_FIELDS = [
    "appointments date_from",
    "appointments date_to",
    "availability date_from",
    "availability date_to",
    "book appointment_date",
    "patient date_of_birth",
]


def _send(client, method, url, others, name, value):
    if method == "get":
        return client.get(url, {**others, name: value})
    return client.post(url, {**others, name: value}, format="json")


@pytest.mark.parametrize("case", DATE_FIELDS)
def test_the_ascii_spelling_of_each_date_works(api, doctor, date_cases, case):
    method, url, others, value = date_cases[case]

    response = _send(api(doctor), method, url, others, case.split()[-1], value)

    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("spelling", DATE_SPELLINGS)
@pytest.mark.parametrize("case", DATE_FIELDS)
def test_a_date_in_other_digits_is_a_400_and_changes_nothing(api, doctor, date_cases, case, spelling):
    method, url, others, value = date_cases[case]
    name = case.split()[-1]
    before = rows()

    response = _send(api(doctor), method, url, others, name, date_spelled(value, spelling))

    assert_error(response, 400, fields=(name,), code="validation_error")
    assert rows() == before
