"""A PATCH writes only what it changes: one naming only the current values (or nothing) writes
nothing, invalidates no cached read and keeps `updated_at`."""

import pytest

from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient

from .helpers import detail_url


@pytest.fixture
def client(api, doctor):
    client = api(doctor)
    client.get("/api/v1/auth/me")  # warm the API user cache: counts are of the steady state
    return client


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty"),
        pytest.param({"first_name": "Fatou", "email": "fatou.sall@example.org"}, id="current-values"),
    ],
)
def test_a_patch_changing_nothing_writes_nothing(client, patient, body, bumped, django_assert_num_queries):
    with scopes_disabled():
        before = Patient.objects.get(pk=patient.pk).updated_at

    # The request's transaction (a savepoint in the test's) around: the patient loaded; the
    # service's savepoint and its release; the audit trail's one INSERT.
    with django_assert_num_queries(6) as queries:
        response = client.patch(detail_url(patient), body, format="json")

    assert response.status_code == 200
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]
    assert bumped == []
    with scopes_disabled():
        assert Patient.objects.get(pk=patient.pk).updated_at == before
    assert response.json()["updated_at"] == client.get(detail_url(patient)).json()["updated_at"]


def test_a_patch_writes_only_the_changed_columns(client, patient, bumped, django_assert_num_queries):
    # The request's savepoint around: the load; the service's savepoint, the save's savepoint
    # around the UPDATE, their releases; the audit trail's one INSERT.
    with django_assert_num_queries(9) as queries:
        response = client.patch(
            detail_url(patient), {"first_name": "Awa", "last_name": "Sall"}, format="json"
        )

    assert response.status_code == 200
    [update] = [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]
    assigned = update.split(" WHERE ")[0]
    for column in ("first_name", "updated_at", "search_text"):
        assert f'"{column}" = ' in assigned
    for column in ("last_name", "email", "mrn", "notes", "tenant_id", "created_at"):
        assert f'"{column}" = ' not in assigned
    assert f"tenant:{patient.tenant_id}:patient:{patient.pk}" in bumped
