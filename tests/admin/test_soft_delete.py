"""Deleting a patient or a document in the admin is the services' soft delete, whatever refers to
it: no "cannot delete, related objects" page, and a confirmation that lists nothing but the rows
deleted (never other staff's messages about the patient, appointments or download records)."""

import pytest

from appointments.models import Appointment
from documents.models import Document, DocumentAccess
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from messaging.models import Message
from patients.models import Patient
from tests.documents.helpers import make_document
from tests.factories import AppointmentFactory, MessageFactory, PatientFactory

PATIENTS = "/admin/patients/patient/"
DOCUMENTS = "/admin/documents/document/"
PRIVATE_SUBJECT = "Between the two of us"


@pytest.fixture
def referred_patient(clinic, staff_of):
    """A patient with an appointment, a document (downloaded once) and a message about them that
    two other members of staff exchanged."""
    patient = PatientFactory(tenant=clinic, last_name="Referred")
    AppointmentFactory(tenant=clinic, patient=patient)
    nurse, receptionist = staff_of(Role.NURSE), staff_of(Role.RECEPTIONIST)
    MessageFactory(
        tenant=clinic, sender=nurse, receiver=receptionist, patient=patient, subject=PRIVATE_SUBJECT
    )
    document = make_document(clinic, patient=patient, title="Scan")
    DocumentAccess.objects.create(tenant=clinic, document=document, version=1, user=nurse, through="api")
    return patient


def assert_plain_confirmation(response, *names: str) -> None:
    assert response.status_code == 200
    assert response.context["protected"] == []
    assert not response.context["perms_lacking"]
    context = response.context
    # The delete view's list, or the "delete selected" action's (one list per model).
    listed = context["deleted_objects"] if "deleted_objects" in context else context["deletable_objects"][0]
    assert sorted(listed) == sorted(names)
    assert PRIVATE_SUBJECT not in response.content.decode()


def assert_kept_but_hidden(patient) -> None:
    patient.refresh_from_db()
    assert patient.is_deleted and patient.deleted_at is not None
    # Nothing else moved: the rows referring to the patient are all still there.
    with scopes_disabled():
        assert Appointment.objects.filter(patient=patient).count() == 1
        assert Message.objects.filter(patient=patient).count() == 1
        assert Document.objects.filter(patient=patient, is_deleted=False).count() == 1


def test_the_delete_view_soft_deletes_a_patient_others_refer_to(browser, doctor, referred_patient):
    client = browser(doctor)
    url = f"{PATIENTS}{referred_patient.pk}/delete/"

    confirmation = client.get(url)
    response = client.post(url, {"post": "yes"})

    assert_plain_confirmation(confirmation, str(referred_patient))
    assert response.status_code == 302
    assert_kept_but_hidden(referred_patient)


def test_delete_selected_soft_deletes_patients_others_refer_to(browser, doctor, clinic, referred_patient):
    plain = PatientFactory(tenant=clinic, last_name="Plain")
    client = browser(doctor)
    selected = {"action": "delete_selected", "_selected_action": [referred_patient.pk, plain.pk]}

    confirmation = client.post(PATIENTS, selected)
    response = client.post(PATIENTS, {**selected, "post": "yes"})

    with scopes_disabled():
        assert_plain_confirmation(
            confirmation, *(str(p) for p in Patient.objects.filter(pk__in=[plain.pk, referred_patient.pk]))
        )
    assert response.status_code == 302
    assert_kept_but_hidden(referred_patient)
    plain.refresh_from_db()
    assert plain.is_deleted


def test_a_downloaded_document_is_soft_deleted_from_the_admin(browser, doctor, referred_patient):
    with scopes_disabled():
        document = Document.objects.get(patient=referred_patient)
    client = browser(doctor)
    url = f"{DOCUMENTS}{document.pk}/delete/"

    confirmation = client.get(url)
    response = client.post(url, {"post": "yes"})

    assert_plain_confirmation(confirmation, str(document))
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.is_deleted
    with scopes_disabled():
        assert DocumentAccess.objects.filter(document=document).count() == 1


def test_delete_selected_soft_deletes_downloaded_documents(browser, doctor, referred_patient):
    with scopes_disabled():
        document = Document.objects.get(patient=referred_patient)
    selected = {"action": "delete_selected", "_selected_action": [document.pk]}
    client = browser(doctor)

    confirmation = client.post(DOCUMENTS, selected)
    response = client.post(DOCUMENTS, {**selected, "post": "yes"})

    assert_plain_confirmation(confirmation, str(document))
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.is_deleted
