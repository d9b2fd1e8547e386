"""A cached answer is the uncached answer, byte for byte, served without reading patient rows, and
only to a caller who may see it: the role check, `fields=` validation and the clinic still apply."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keneyapp.accounts.roles import Role, denied_fields
from keneyapp.core.caching import cache_service
from tests.factories import PatientFactory
from tests.patients.helpers import LIST_URL, assert_error, detail_url

LIST_QUERIES = [
    {},
    {"fields": "id,last_name,date_of_birth,created_at"},
    {"search": "sall", "ordering": "-created_at", "limit": 10},
    {"skip": 1, "limit": 1, "ordering": "id"},
]


def patient_row_queries(queries) -> list[str]:
    return [query["sql"] for query in queries if '"patients_patient"' in query["sql"]]


@pytest.mark.parametrize("params", LIST_QUERIES)
def test_a_cached_list_page_reads_no_patient_rows(api, doctor, patients, params):
    client = api(doctor)
    first = client.get(LIST_URL, params)

    with CaptureQueriesContext(connection) as queries:
        second = client.get(LIST_URL, params)

    assert second.status_code == 200
    assert second.content == first.content
    assert patient_row_queries(queries) == []


@pytest.mark.parametrize("params", [{}, {"fields": "id,mrn,date_of_birth,updated_at"}])
def test_a_cached_detail_reads_no_patient_rows(api, doctor, patient, params):
    client = api(doctor)
    first = client.get(detail_url(patient), params)

    with CaptureQueriesContext(connection) as queries:
        second = client.get(detail_url(patient), params)

    assert second.status_code == 200
    assert second.content == first.content
    assert patient_row_queries(queries) == []


def test_the_cache_holds_entries_after_a_read(api, doctor, patient):
    cache_service.reset_stats()
    client = api(doctor)
    client.get(detail_url(patient))
    client.get(detail_url(patient))

    hits = sum(levels["l1"]["hits"] + levels["l2"]["hits"] for levels in cache_service.stats().values())
    assert hits >= 1


@pytest.mark.parametrize(
    ("url", "params"),
    [(LIST_URL, params) for params in LIST_QUERIES]
    + [("detail", {}), ("detail", {"fields": "id,created_at"})],
)
def test_the_answer_is_the_same_bytes_with_the_cache_on_or_off(api, doctor, patient, settings, url, params):
    url = detail_url(patient) if url == "detail" else url
    client = api(doctor)
    settings.CACHE_API_RESPONSES = False
    uncached = client.get(url, params)
    settings.CACHE_API_RESPONSES = True
    miss = client.get(url, params)
    hit = client.get(url, params)

    assert uncached.status_code == miss.status_code == hit.status_code == 200
    assert uncached.content == miss.content == hit.content
    assert uncached["Content-Type"] == hit["Content-Type"]


def test_with_the_cache_off_nothing_is_cached(api, doctor, patient, settings):
    settings.CACHE_API_RESPONSES = False
    client = api(doctor)
    client.get(detail_url(patient))

    with CaptureQueriesContext(connection) as queries:
        client.get(detail_url(patient))

    assert len(patient_row_queries(queries)) == 1


def test_fields_select_the_keys_of_a_cached_answer(api, doctor, patient):
    client = api(doctor)
    client.get(detail_url(patient))  # the full row is cached

    narrow = client.get(detail_url(patient), {"fields": "id,last_name"})
    page = client.get(LIST_URL, {"fields": "id"})

    assert narrow.json() == {"id": patient.pk, "last_name": "Sall"}
    assert all(set(item) == {"id"} for item in page.json()["items"])


def test_bad_fields_are_still_400_when_the_answer_is_cached(api, doctor, patient):
    client = api(doctor)
    client.get(detail_url(patient))
    client.get(LIST_URL)

    assert_error(client.get(detail_url(patient), {"fields": "id,password"}), 400, fields=["fields"])
    assert_error(client.get(LIST_URL, {"fields": "search_text"}), 400, fields=["fields"])
    assert_error(client.get(LIST_URL, {"ordering": "tenant"}), 400, fields=["ordering"])


def test_anonymous_callers_get_401_when_the_answer_is_cached(api, doctor, patient):
    api(doctor).get(detail_url(patient))
    api(doctor).get(LIST_URL)

    assert api().get(detail_url(patient)).status_code == 401
    assert api().get(LIST_URL).status_code == 401


@pytest.mark.parametrize("role", list(Role))
def test_every_role_gets_the_cached_answer_of_its_fields(api, staff_of, doctor, patient, role):
    # A role refused some fields (roles.FIELD_PERMISSIONS) gets the answer without them: its own
    # cache entry, never the clinician's (tests/test_field_rules.py).
    denied = denied_fields(role, "patients.patient")
    expected = {k: v for k, v in api(doctor).get(detail_url(patient)).json().items() if k not in denied}

    response = api(staff_of(role)).get(detail_url(patient))

    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize("params", LIST_QUERIES)
def test_another_clinic_never_gets_our_cached_page(api, doctor, outsider, patients, params):
    ours = api(doctor).get(LIST_URL, params)
    assert ours.json()["total"] >= 1

    theirs = api(outsider).get(LIST_URL, params)

    assert theirs.status_code == 200
    assert theirs.json()["items"] == [] and theirs.json()["total"] == 0


def test_another_clinic_never_gets_our_cached_detail(api, doctor, outsider, patient):
    assert api(doctor).get(detail_url(patient)).status_code == 200

    assert_error(api(outsider).get(detail_url(patient)), 404)
    assert_error(api(outsider).get(detail_url(patient), {"fields": "id"}), 404)


@pytest.mark.parametrize(
    "crafted",
    [
        {"search": "sall", "fields": "id"},
        {"search": "tenant:1:patients"},
        {"search": "*", "ordering": "id"},
        {"search": 'sall","tenant":1'},
        {"fields": "id,last_name", "search": ":v1"},
    ],
)
def test_crafted_parameters_cannot_reach_another_clinics_entry(api, doctor, outsider, other_clinic, crafted):
    PatientFactory(tenant=other_clinic, first_name="Fatou", last_name="Sall", email="f.sall@example.org")
    theirs = api(outsider).get(LIST_URL, crafted)
    assert theirs.status_code == 200

    ours = api(doctor).get(LIST_URL, crafted)

    assert ours.status_code == 200
    assert ours.json()["total"] == 0 and ours.json()["items"] == []


def test_deep_pages_are_not_cached(api, doctor, patients):
    client = api(doctor)
    client.get(LIST_URL, {"skip": 200, "limit": 1})

    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL, {"skip": 200, "limit": 1})

    assert response.json()["items"] == []
    assert len(queries) >= 1  # the count is read again: nothing came from the cache
