"""The patient list runs the same number of queries with 5 patients as with 200, and loads only
the columns it answers with."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.factories import PatientFactory

from .helpers import LIST_URL

LIST_VARIANTS = [
    pytest.param({}, id="default"),
    pytest.param({"fields": "id,last_name"}, id="fields"),
    pytest.param({"search": "ndiaye"}, id="search"),
    pytest.param({"search": "ndiaye", "fields": "id,mrn", "ordering": "-created_at", "limit": 100}, id="all"),
]


def add_patients(clinic, count: int) -> None:
    with scopes_disabled():
        Patient.objects.bulk_create(PatientFactory.build_batch(count, tenant=clinic, last_name="Ndiaye"))


@pytest.mark.parametrize("params", LIST_VARIANTS)
def test_list_query_count_does_not_grow_with_rows(
    api, doctor, clinic, params, django_assert_num_queries, settings
):
    settings.CACHE_API_RESPONSES = False  # counts the database path; bulk_create bypasses invalidation
    client = api(doctor)
    client.get("/api/v1/auth/me")  # warm the API user cache: counts are compared in steady state
    add_patients(clinic, 5)
    with CaptureQueriesContext(connection) as with_5:
        small = client.get(LIST_URL, params)
    assert small.json()["total"] == 5

    add_patients(clinic, 195)
    with django_assert_num_queries(len(with_5)):
        large = client.get(LIST_URL, params)

    body = large.json()
    assert body["total"] == 200
    assert len(body["items"]) == body["limit"]


def test_list_loads_only_the_selected_columns(api, doctor, clinic):
    add_patients(clinic, 3)

    with CaptureQueriesContext(connection) as queries:
        response = api(doctor).get(LIST_URL, {"fields": "id,last_name"})

    assert response.status_code == 200
    row_queries = [q["sql"] for q in queries if '"patients_patient"."last_name"' in q["sql"]]
    assert len(row_queries) == 1
    for column in ("notes", "address", "allergies", "search_text", "email"):
        assert f'"patients_patient"."{column}"' not in row_queries[0]
