"""The patients admin as clinic staff see it: only their clinic, soft delete, roles-table rights."""

import pytest
from django.contrib.admin.models import LogEntry

from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.factories import PatientFactory

CHANGELIST = "/admin/patients/patient/"
ADD = "/admin/patients/patient/add/"


def change_url(patient) -> str:
    return f"/admin/patients/patient/{patient.pk}/change/"


def delete_url(patient) -> str:
    return f"/admin/patients/patient/{patient.pk}/delete/"


def patient_form(**overrides) -> dict:
    data = {
        "mrn": "",
        "first_name": "Mariama",
        "last_name": "Sarr",
        "date_of_birth": "1990-03-04",
        "sex": "female",
        "email": "",
        "phone_number": "",
        "address": "",
        "emergency_contact": "",
        "allergies": "",
        "notes": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def filter_paths(response) -> list[str]:
    return [getattr(spec, "field_path", None) for spec in response.context["cl"].filter_specs]


def shown_ids(response) -> set[int]:
    return {patient.pk for patient in response.context["cl"].result_list}


@pytest.fixture
def ours(clinic):
    return [
        PatientFactory(tenant=clinic, first_name="Éloïse", last_name="Lefèvre"),
        PatientFactory(tenant=clinic, first_name="Moussa", last_name="Diop"),
    ]


@pytest.fixture
def theirs(other_clinic):
    return [
        PatientFactory(tenant=other_clinic, first_name="Eloise", last_name="Zanzibar"),
        PatientFactory(tenant=other_clinic, first_name="Quentin", last_name="Outsidera"),
    ]


# --- what rows ---


def test_changelist_shows_only_own_clinic(browser, doctor, ours, theirs):
    response = browser(doctor).get(CHANGELIST)

    assert response.status_code == 200
    assert shown_ids(response) == {p.pk for p in ours}
    assert response.context["cl"].result_count == 2
    html = response.content.decode()
    assert "Lefèvre" in html
    assert "Diop" in html
    assert "Zanzibar" not in html
    assert "Outsidera" not in html


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_lists_only_own_clinic(browser, staff_of, ours, theirs, role):
    response = browser(staff_of(role)).get(CHANGELIST)

    assert response.status_code == 200
    assert shown_ids(response) == {p.pk for p in ours}


def test_change_page_of_other_clinic_patient_is_not_shown(browser, doctor, theirs):
    target = theirs[1]

    response = browser(doctor).get(change_url(target), follow=True)

    assert response.redirect_chain, "expected a redirect to the admin index"
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "Outsidera" not in response.content.decode()
    assert "doesn\u2019t exist" in " ".join(str(m) for m in response.context["messages"])


def test_posting_to_other_clinic_patient_changes_nothing(browser, doctor, theirs):
    target = theirs[1]

    response = browser(doctor).post(change_url(target), patient_form(first_name="Hacked", last_name="Hacked"))

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.first_name, target.last_name) == ("Quentin", "Outsidera")
    assert target.tenant_id != doctor.tenant_id


def test_search_finds_only_own_clinic_and_ignores_accents(browser, doctor, ours, theirs):
    client = browser(doctor)

    unaccented = client.get(CHANGELIST, {"q": "eloise lefevre"})
    accented = client.get(CHANGELIST, {"q": "ÉLOÏSE"})

    # "Eloise Zanzibar" of the other clinic matches the word too, and must not appear.
    assert shown_ids(unaccented) == {ours[0].pk}
    assert shown_ids(accented) == {ours[0].pk}
    assert "Zanzibar" not in accented.content.decode()


def test_search_for_other_clinic_patient_finds_nothing(browser, doctor, ours, theirs):
    response = browser(doctor).get(CHANGELIST, {"q": "Outsidera"})

    assert response.status_code == 200
    assert shown_ids(response) == set()
    assert response.context["cl"].result_count == 0
    assert "Quentin" not in response.content.decode()


def test_soft_deleted_patients_are_not_listed(browser, doctor, clinic, ours):
    gone = PatientFactory(tenant=clinic, last_name="Vanished", is_deleted=True)

    response = browser(doctor).get(CHANGELIST)

    assert gone.pk not in shown_ids(response)
    assert "Vanished" not in response.content.decode()
    assert browser(doctor).get(change_url(gone)).status_code == 302


# --- adding ---


def test_add_sets_own_clinic_even_when_post_names_another(browser, doctor, other_clinic):
    response = browser(doctor).post(ADD, patient_form(tenant=str(other_clinic.pk)))

    assert response.status_code == 302, response.context["adminform"].form.errors
    with scopes_disabled():
        patient = Patient.objects.get(last_name="Sarr")
    assert patient.tenant_id == doctor.tenant_id
    with scopes_disabled():
        assert not Patient.objects.filter(tenant=other_clinic).exists()


def test_add_generates_record_number_and_records_creator(browser, staff_of):
    receptionist = staff_of(Role.RECEPTIONIST)

    response = browser(receptionist).post(ADD, patient_form(mrn="", first_name="Éloïse"))

    assert response.status_code == 302
    with scopes_disabled():
        patient = Patient.objects.get(last_name="Sarr")
    assert patient.mrn != ""
    assert patient.mrn.isdigit()
    assert patient.created_by == receptionist
    # The search column is written too, so the new patient is found without accents.
    assert "eloise" in patient.search_text


def test_add_keeps_a_typed_record_number(browser, doctor):
    response = browser(doctor).post(ADD, patient_form(mrn="X-42"))

    assert response.status_code == 302
    with scopes_disabled():
        assert Patient.objects.get(last_name="Sarr").mrn == "X-42"


def test_add_with_duplicate_active_email_is_a_form_error(browser, doctor, clinic):
    PatientFactory(tenant=clinic, email="same@example.org")

    response = browser(doctor).post(ADD, patient_form(email="SAME@example.org"))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors
    assert "already has this email" in str(form.errors)
    with scopes_disabled():
        assert Patient.objects.filter(tenant=clinic).count() == 1


def test_add_with_duplicate_record_number_is_a_form_error(browser, doctor, clinic):
    PatientFactory(tenant=clinic, mrn="00000777")

    response = browser(doctor).post(ADD, patient_form(mrn="00000777"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    with scopes_disabled():
        assert Patient.objects.filter(tenant=clinic).count() == 1


def test_email_of_another_clinic_or_of_a_deleted_patient_may_be_reused(browser, doctor, clinic, other_clinic):
    PatientFactory(tenant=other_clinic, email="shared@example.org")
    PatientFactory(tenant=clinic, email="left@example.org", is_deleted=True)
    client = browser(doctor)

    first = client.post(ADD, patient_form(email="shared@example.org", last_name="One"))
    second = client.post(ADD, patient_form(email="left@example.org", last_name="Two"))

    assert first.status_code == 302
    assert second.status_code == 302
    with scopes_disabled():
        assert Patient.objects.filter(tenant=clinic, is_deleted=False).count() == 2


def test_edit_to_a_duplicate_active_email_is_a_form_error(browser, doctor, clinic):
    PatientFactory(tenant=clinic, email="taken@example.org")
    target = PatientFactory(tenant=clinic, email="mine@example.org", last_name="Sarr", mrn="00000001")

    response = browser(doctor).post(
        change_url(target), patient_form(mrn="00000001", email="taken@example.org")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.email == "mine@example.org"


def test_edit_keeps_the_clinic_and_creator(browser, doctor, staff_of, clinic, other_clinic):
    nurse = staff_of(Role.NURSE)
    target = PatientFactory(tenant=clinic, created_by=doctor, mrn="00000005")

    response = browser(nurse).post(
        change_url(target),
        patient_form(mrn="00000005", first_name="Renamed", tenant=str(other_clinic.pk)),
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.first_name == "Renamed"
    assert target.tenant_id == clinic.pk
    assert target.created_by == doctor
    assert "renamed" in target.search_text


# --- foreign-key choices ---


def test_tenant_choice_offered_to_staff_is_only_their_clinic(browser, doctor, clinic, other_clinic):
    response = browser(doctor).get(ADD)

    assert response.status_code == 200
    field = response.context["adminform"].form.fields["tenant"]
    assert list(field.queryset) == [clinic]
    assert field.disabled
    html = response.content.decode()
    assert "Clinique Alpha" in html
    assert "Clinique Beta" not in html


# --- deleting ---


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DOCTOR])
def test_delete_view_soft_deletes(browser, staff_of, clinic, role):
    target = PatientFactory(tenant=clinic)
    client = browser(staff_of(role))

    confirm = client.get(delete_url(target))
    response = client.post(delete_url(target), {"post": "yes"})

    assert confirm.status_code == 200
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_deleted
    assert target.deleted_at is not None
    assert client.get(change_url(target)).status_code == 302  # gone from the admin


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DOCTOR])
def test_bulk_delete_action_soft_deletes_only_own_clinic(browser, staff_of, clinic, theirs, role):
    targets = PatientFactory.create_batch(3, tenant=clinic)
    kept = PatientFactory(tenant=clinic)
    client = browser(staff_of(role))
    selected = [str(p.pk) for p in [*targets, theirs[0]]]

    confirm = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": selected})
    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )

    assert confirm.status_code == 200
    assert response.status_code == 302
    with scopes_disabled():
        assert Patient.objects.filter(pk__in=[p.pk for p in targets], is_deleted=True).count() == 3
        assert Patient.objects.filter(pk__in=[p.pk for p in targets]).count() == 3  # rows are kept
    kept.refresh_from_db()
    theirs[0].refresh_from_db()
    assert not kept.is_deleted
    assert not theirs[0].is_deleted


@pytest.mark.parametrize("role", [Role.NURSE, Role.RECEPTIONIST])
def test_nurse_and_receptionist_cannot_delete(browser, staff_of, clinic, role):
    target = PatientFactory(tenant=clinic)
    client = browser(staff_of(role))

    assert client.get(delete_url(target)).status_code == 403
    assert client.post(delete_url(target), {"post": "yes"}).status_code == 403
    bulk = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [str(target.pk)], "post": "yes"}
    )
    listing = client.get(CHANGELIST)

    assert bulk.status_code in (200, 302)
    target.refresh_from_db()
    assert not target.is_deleted
    assert "delete_selected" not in listing.context["cl"].model_admin.get_actions(listing.wsgi_request)


def test_deleting_other_clinic_patient_changes_nothing(browser, doctor, theirs):
    target = theirs[0]

    response = browser(doctor).post(delete_url(target), {"post": "yes"})

    assert response.status_code == 302
    assert response.url == "/admin/"
    target.refresh_from_db()
    assert not target.is_deleted


def test_admin_actions_are_logged_against_the_user(browser, doctor):
    browser(doctor).post(ADD, patient_form())

    assert LogEntry.objects.filter(user=doctor).count() == 1


# --- superusers ---


def test_superuser_sees_every_clinic_with_a_tenant_filter(browser, superuser, ours, theirs):
    response = browser(superuser).get(CHANGELIST)

    assert response.status_code == 200
    assert shown_ids(response) == {p.pk for p in [*ours, theirs[0], theirs[1]]}
    assert "tenant" in filter_paths(response)
    html = response.content.decode()
    assert "Zanzibar" in html
    assert "Diop" in html


def test_superuser_tenant_filter_narrows_to_one_clinic(browser, superuser, other_clinic, ours, theirs):
    response = browser(superuser).get(CHANGELIST, {"tenant__id__exact": other_clinic.pk})

    assert shown_ids(response) == {p.pk for p in theirs}


def test_staff_have_no_tenant_filter(browser, doctor, ours):
    response = browser(doctor).get(CHANGELIST)

    assert "tenant" not in filter_paths(response)
