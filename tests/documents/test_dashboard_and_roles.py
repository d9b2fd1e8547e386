import pytest

from dashboard.selectors import dashboard_stats
from keneyapp.accounts.roles import PERMISSIONS, Role, role_can
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF, make_document, upload
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_the_dashboard_counts_documents_and_a_write_refreshes_it(api, doctor, other_clinic, local_storage):
    patient = PatientFactory(tenant=doctor.tenant)
    make_document(other_clinic)
    client = api(doctor)
    assert client.get("/api/v1/dashboard/stats").json()["documents"] == {"total": 0}  # cached now
    document_id = upload(client, patient, PDF).json()["id"]
    assert client.get("/api/v1/dashboard/stats").json()["documents"] == {"total": 1}
    client.delete(f"/api/v1/documents/{document_id}")
    assert client.get("/api/v1/dashboard/stats").json()["documents"] == {"total": 0}


def test_the_dashboard_reads_both_counters_in_one_statement(doctor, local_storage, django_assert_num_queries):
    make_document(doctor.tenant)
    make_document(doctor.tenant)
    with django_assert_num_queries(3), scopes_disabled():
        stats = dashboard_stats(doctor.tenant)
    assert stats["documents"]["total"] == 2


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, {"view", "add", "download", "delete", "report"}),
        (Role.DOCTOR, {"view", "add", "download", "delete", "report"}),
        (Role.NURSE, {"view", "add", "download", "report"}),
        (Role.RECEPTIONIST, {"view", "add", "download", "report"}),
    ],
)
def test_document_roles(role, allowed):
    verbs = {action.split(".")[1] for action in PERMISSIONS if action.startswith("documents.")}
    assert {verb for verb in verbs if role_can(role, f"documents.{verb}")} == allowed
    assert role_can(role, "document_access.view") == (role == Role.ADMIN)


def test_a_receptionist_cannot_delete_but_can_upload(api, receptionist, local_storage):
    patient = PatientFactory(tenant=receptionist.tenant)
    response = upload(api(receptionist), patient, PDF)
    assert response.status_code == 201
    denied = api(receptionist).delete(f"/api/v1/documents/{response.json()['id']}")
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
