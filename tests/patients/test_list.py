"""GET /api/v1/patients: the page shape, paging, search, ordering and field selection."""

from datetime import UTC, datetime, timedelta

import pytest

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from patients.selectors import PATIENT_FIELDS, PATIENT_ORDERINGS
from tests.factories import PatientFactory

from .helpers import LIST_URL, assert_error


def mrns(response) -> list[str]:
    return [item["mrn"] for item in response.json()["items"]]


# --- the page ---------------------------------------------------------------------------------


def test_list_answers_a_page_with_items_total_skip_and_limit(api, doctor, patient):
    response = api(doctor).get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "skip", "limit"}
    assert body["total"] == 1
    assert body["skip"] == 0
    assert len(body["items"]) == 1
    item = body["items"][0]
    assert list(item) == list(PATIENT_FIELDS)
    assert item["id"] == patient.pk
    assert item["mrn"] == patient.mrn
    assert item["first_name"] == "Fatou"
    assert item["email"] == "fatou.sall@example.org"
    assert item["date_of_birth"] == "1980-05-17"


def test_default_limit_is_50(api, doctor, clinic):
    PatientFactory.create_batch(55, tenant=clinic)

    body = api(doctor).get(LIST_URL).json()

    assert body["limit"] == 50
    assert len(body["items"]) == 50
    assert body["total"] == 55


def test_skip_and_limit_select_the_page(api, doctor, clinic):
    created = PatientFactory.create_batch(7, tenant=clinic)
    ids = sorted(p.pk for p in created)

    body = api(doctor).get(LIST_URL, {"ordering": "id", "skip": 2, "limit": 3}).json()

    assert [item["id"] for item in body["items"]] == ids[2:5]
    assert (body["skip"], body["limit"], body["total"]) == (2, 3, 7)


def test_pages_walk_the_whole_list_without_gaps_or_repeats(api, doctor, clinic):
    PatientFactory.create_batch(11, tenant=clinic, last_name="Ndiaye", first_name="Awa")
    client = api(doctor)

    seen = []
    for skip in range(0, 12, 4):
        seen += [item["id"] for item in client.get(LIST_URL, {"skip": skip, "limit": 4}).json()["items"]]

    with scopes_disabled():
        assert sorted(seen) == sorted(Patient.objects.filter(tenant=clinic).values_list("id", flat=True))


def test_skip_past_the_end_answers_an_empty_page_with_the_total(api, doctor, clinic):
    PatientFactory.create_batch(3, tenant=clinic)

    body = api(doctor).get(LIST_URL, {"skip": 10}).json()

    assert body["items"] == []
    assert body["total"] == 3
    assert body["skip"] == 10


@pytest.mark.parametrize("limit", [1, 100])
def test_limit_bounds_are_accepted(api, doctor, clinic, limit):
    PatientFactory.create_batch(2, tenant=clinic)

    body = api(doctor).get(LIST_URL, {"limit": limit}).json()

    assert body["limit"] == limit
    assert len(body["items"]) == min(limit, 2)


def test_total_counts_only_active_patients_of_the_callers_clinic(api, doctor, clinic, other_clinic):
    PatientFactory.create_batch(3, tenant=clinic)
    PatientFactory.create_batch(2, tenant=clinic, is_deleted=True, deleted_at=datetime.now(UTC))
    PatientFactory.create_batch(4, tenant=other_clinic)

    body = api(doctor).get(LIST_URL).json()

    assert body["total"] == 3
    assert len(body["items"]) == 3
    with scopes_disabled():
        assert {item["id"] for item in body["items"]} == set(
            Patient.objects.filter(tenant=clinic, is_deleted=False).values_list("id", flat=True)
        )


# --- paging errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"skip": "-1"}, "skip"),
        ({"limit": "abc"}, "limit"),
        ({"skip": "abc"}, "skip"),
        ({"skip": "1.5"}, "skip"),
        ({"limit": "2.0"}, "limit"),
        ({"limit": ""}, "limit"),
        # int() accepts all of these; a query string does not.
        ({"limit": "\u0661\u0662"}, "limit"),  # Arabic-Indic digits
        ({"skip": "\uff11"}, "skip"),  # a full-width digit
        ({"skip": "1_000"}, "skip"),
        ({"skip": " 5"}, "skip"),
        ({"limit": "+5"}, "limit"),
        ({"skip": "99999999999999999999"}, "skip"),  # 20 digits: past a 64-bit OFFSET
        ({"skip": "1000000001"}, "skip"),
    ],
)
def test_bad_paging_is_a_400_naming_the_parameter(api, doctor, params, field):
    response = api(doctor).get(LIST_URL, params)

    assert_error(response, 400, fields=(field,), code="validation_error")


def test_both_bad_paging_parameters_are_reported_together(api, doctor):
    response = api(doctor).get(LIST_URL, {"skip": "-1", "limit": "abc"})

    assert_error(response, 400, fields=("skip", "limit"))


# --- search -----------------------------------------------------------------------------------


@pytest.fixture
def search_patients(clinic, other_clinic):
    PatientFactory(
        tenant=clinic,
        first_name="Éloïse",
        last_name="Ndour",
        email="eloise.ndour@example.org",
        phone_number="+221 77 123 45 67",
        mrn="00004242",
    )
    PatientFactory(
        tenant=clinic,
        first_name="Eloi",
        last_name="Diallo",
        email="e.diallo@mail.sn",
        phone_number="+221 70 999 88 77",
        mrn="00000777",
    )
    PatientFactory(
        tenant=clinic,
        first_name="Awa",
        last_name="Ndour",
        email="awa@example.org",
        phone_number="33 821 00 00",
        mrn="00000555",
    )
    # Namesakes that must never be found: deleted, or of another clinic.
    PatientFactory(
        tenant=clinic,
        first_name="Éloïse",
        last_name="Ndour",
        email="old.eloise@example.org",
        is_deleted=True,
        deleted_at=datetime.now(UTC),
    )
    PatientFactory(
        tenant=other_clinic, first_name="Éloïse", last_name="Ndour", email="eloise.ndour@example.org"
    )


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("eloise", {"Éloïse Ndour"}),  # accent-insensitive
        ("ÉLOÏSE", {"Éloïse Ndour"}),  # case-insensitive
        ("Eloi", {"Éloïse Ndour", "Eloi Diallo"}),  # a word matches inside a longer name
        ("ndour", {"Éloïse Ndour", "Awa Ndour"}),
        ("NDOUR awa", {"Awa Ndour"}),  # every word must match
        ("awa ndour", {"Awa Ndour"}),
        ("eloise diallo", set()),  # words of two different patients: no patient has both
        ("mail.sn", {"Eloi Diallo"}),  # email
        ("e.diallo@mail.sn", {"Eloi Diallo"}),
        ("+221 77 123 45 67", {"Éloïse Ndour"}),  # phone as written
        ("771234", {"Éloïse Ndour"}),  # phone digits across its spaces
        ("221709998877", {"Eloi Diallo"}),
        ("00004242", {"Éloïse Ndour"}),  # record number
        ("777", {"Eloi Diallo"}),
        ("nobody", set()),
    ],
)
def test_search_matches_name_email_phone_and_record_number(api, doctor, search_patients, search, expected):
    body = api(doctor).get(LIST_URL, {"search": search}).json()

    assert {f"{item['first_name']} {item['last_name']}" for item in body["items"]} == expected
    assert body["total"] == len(expected)
    assert len(body["items"]) == len(expected)


def test_blank_search_lists_everyone(api, doctor, search_patients):
    body = api(doctor).get(LIST_URL, {"search": "   "}).json()

    assert body["total"] == 3


def test_search_of_100_characters_is_accepted(api, doctor):
    response = api(doctor).get(LIST_URL, {"search": "a" * 100})

    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_search_longer_than_100_characters_is_a_400(api, doctor):
    response = api(doctor).get(LIST_URL, {"search": "a" * 101})

    assert_error(response, 400, fields=("search",))


def test_search_with_a_null_character_is_a_400_not_a_500(api, doctor, patient):
    # PostgreSQL refuses NUL bytes in text parameters; the API must say so, not crash.
    response = api(doctor).get(LIST_URL, {"search": "Fa\x00tou"})

    assert_error(response, 400, fields=("search",))


# --- ordering ---------------------------------------------------------------------------------


@pytest.fixture
def ordering_patients(clinic):
    """Five patients whose orders all differ; two share both names so the id breaks the tie."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [  # (last_name, first_name, mrn, created day) in creation (id) order
        ("Sow", "Aminata", "00000004", 3),
        ("Diop", "Moussa", "00000002", 1),
        ("Diop", "Awa", "00000005", 4),
        ("Ba", "Ousmane", "00000001", 5),
        ("Diop", "Awa", "00000003", 2),
    ]
    for last_name, first_name, mrn, day in rows:
        created = PatientFactory(tenant=clinic, last_name=last_name, first_name=first_name, mrn=mrn)
        Patient.objects.filter(pk=created.pk).update(created_at=start + timedelta(days=day))


EXPECTED_ORDERS = {
    "last_name": ["00000001", "00000005", "00000003", "00000002", "00000004"],
    "created_at": ["00000002", "00000003", "00000004", "00000005", "00000001"],
    "id": ["00000004", "00000002", "00000005", "00000001", "00000003"],
    "mrn": ["00000001", "00000002", "00000003", "00000004", "00000005"],
}


def test_every_allowed_ordering_is_tested():
    assert set(PATIENT_ORDERINGS) == {*EXPECTED_ORDERS, *(f"-{name}" for name in EXPECTED_ORDERS)}


@pytest.mark.parametrize("ordering", sorted(EXPECTED_ORDERS))
def test_ordering_sorts_ascending(api, doctor, ordering_patients, ordering):
    response = api(doctor).get(LIST_URL, {"ordering": ordering})

    assert mrns(response) == EXPECTED_ORDERS[ordering]


@pytest.mark.parametrize("ordering", sorted(EXPECTED_ORDERS))
def test_descending_ordering_is_the_exact_reverse(api, doctor, ordering_patients, ordering):
    response = api(doctor).get(LIST_URL, {"ordering": f"-{ordering}"})

    assert mrns(response) == EXPECTED_ORDERS[ordering][::-1]


def test_default_ordering_is_by_name(api, doctor, ordering_patients):
    assert mrns(api(doctor).get(LIST_URL)) == EXPECTED_ORDERS["last_name"]


def test_ordering_holds_across_pages(api, doctor, ordering_patients):
    client = api(doctor)

    first = mrns(client.get(LIST_URL, {"ordering": "-created_at", "limit": 2}))
    second = mrns(client.get(LIST_URL, {"ordering": "-created_at", "limit": 2, "skip": 2}))

    assert first + second == EXPECTED_ORDERS["created_at"][::-1][:4]


@pytest.mark.parametrize("ordering", ["first_name", "email", "-notes", "last_name,id", "search_text", "?"])
def test_unknown_ordering_is_a_400(api, doctor, ordering):
    response = api(doctor).get(LIST_URL, {"ordering": ordering})

    assert_error(response, 400, fields=("ordering",))


# --- field selection --------------------------------------------------------------------------


def test_fields_selects_exactly_those_keys(api, doctor, patient):
    body = api(doctor).get(LIST_URL, {"fields": "id,last_name"}).json()

    assert body["items"] == [{"id": patient.pk, "last_name": "Sall"}]


def test_fields_tolerates_spaces_and_repeats(api, doctor, patient):
    body = api(doctor).get(LIST_URL, {"fields": " last_name , id,id "}).json()

    assert body["items"] == [{"id": patient.pk, "last_name": "Sall"}]


def test_fields_can_select_every_exposed_field(api, doctor, patient):
    body = api(doctor).get(LIST_URL, {"fields": ",".join(PATIENT_FIELDS)}).json()

    assert set(body["items"][0]) == set(PATIENT_FIELDS)


@pytest.mark.parametrize(
    "fields", ["id,bogus", "search_text", "tenant", "is_deleted", "tenant_id", "id,frist_name"]
)
def test_unknown_field_is_a_400(api, doctor, patient, fields):
    response = api(doctor).get(LIST_URL, {"fields": fields})

    assert_error(response, 400, fields=("fields",))
