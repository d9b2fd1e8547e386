"""The patient and provider autocomplete of the appointment form offers only the clinic's own
patients and its doctors and nurses, to every staff role."""

import pytest
from django.utils.formats import date_format

from keneyapp.accounts.roles import Role
from tests.factories import PatientFactory, UserFactory

AUTOCOMPLETE = "/admin/autocomplete/"


def suggest(client, field_name: str, term: str = "") -> set[int]:
    response = client.get(
        AUTOCOMPLETE,
        {"app_label": "appointments", "model_name": "appointment", "field_name": field_name, "term": term},
    )
    assert response.status_code == 200, response.content
    return {int(item["id"]) for item in response.json()["results"]}


@pytest.fixture
def patients(clinic, other_clinic):
    return {
        "ours": PatientFactory(tenant=clinic, first_name="Fatou", last_name="Ndiaye", mrn="A0000042"),
        "ours_accented": PatientFactory(
            tenant=clinic, first_name="Fatoû", last_name="Ndïaye", mrn="A0000043"
        ),
        "deleted": PatientFactory(tenant=clinic, first_name="Fatou", last_name="Ndiaye", is_deleted=True),
        "theirs": PatientFactory(tenant=other_clinic, first_name="Fatou", last_name="Ndiaye", mrn="B0000042"),
    }


@pytest.fixture
def providers(clinic, other_clinic, doctor, nurse, receptionist, clinic_admin, outsider):
    # Everyone is named Sow, so the term matches all of them: only the scoping can tell them apart.
    people = {
        "doctor": doctor,
        "nurse": nurse,
        "receptionist": receptionist,
        "clinic_admin": clinic_admin,
        "outsider": outsider,
        "other_nurse": UserFactory(tenant=other_clinic, role=Role.NURSE, username="other-nurse"),
    }
    for user in people.values():
        user.last_name = "Sow"
        user.save(update_fields=["last_name"])
    return people


@pytest.mark.parametrize("role", list(Role))
def test_patient_autocomplete_offers_only_own_clinic_active_patients(browser, staff_of, patients, role):
    client = browser(staff_of(role))

    found = suggest(client, "patient", "fatou ndiaye")

    assert found == {patients["ours"].pk, patients["ours_accented"].pk}


def test_patient_autocomplete_finds_by_record_number(browser, receptionist, patients):
    client = browser(receptionist)

    assert suggest(client, "patient", "A0000042") == {patients["ours"].pk}
    assert suggest(client, "patient", "B0000042") == set()


def test_patient_autocomplete_without_a_term_lists_only_own_clinic(browser, receptionist, patients):
    assert suggest(browser(receptionist), "patient") == {patients["ours"].pk, patients["ours_accented"].pk}


@pytest.mark.parametrize("role", list(Role))
def test_provider_autocomplete_offers_only_own_clinic_doctors_and_nurses(browser, providers, role):
    user = {
        Role.DOCTOR: providers["doctor"],
        Role.NURSE: providers["nurse"],
        Role.RECEPTIONIST: providers["receptionist"],
        Role.ADMIN: providers["clinic_admin"],
    }[role]

    found = suggest(browser(user), "provider", "sow")

    assert found == {providers["doctor"].pk, providers["nurse"].pk}


def test_other_clinic_sees_only_its_own_providers(browser, providers):
    found = suggest(browser(providers["outsider"]), "provider", "sow")

    assert found == {providers["outsider"].pk, providers["other_nurse"].pk}


def test_autocomplete_answers_no_one_outside_the_staff(client, patients, db):
    response = client.get(
        AUTOCOMPLETE,
        {"app_label": "appointments", "model_name": "appointment", "field_name": "patient", "term": "fatou"},
    )

    assert response.status_code == 302
    assert "Fatou" not in response.content.decode()


def test_receptionist_may_not_browse_staff_outside_autocomplete(browser, receptionist, providers):
    response = browser(receptionist).get("/admin/accounts/user/")

    assert response.status_code == 403


def test_patient_results_tell_namesakes_apart(browser, receptionist, clinic):
    first = PatientFactory(
        tenant=clinic, first_name="Awa", last_name="Ndiaye", mrn="A0000201", phone_number="+221 77 111 11 11"
    )
    second = PatientFactory(
        tenant=clinic, first_name="Awa", last_name="Ndiaye", mrn="A0000202", phone_number=""
    )
    response = browser(receptionist).get(
        AUTOCOMPLETE,
        {"app_label": "appointments", "model_name": "appointment", "field_name": "patient", "term": "awa"},
    )

    labels = {int(item["id"]): item["text"] for item in response.json()["results"]}
    born = [date_format(p.date_of_birth, "SHORT_DATE_FORMAT") for p in (first, second)]
    assert labels[first.pk] == f"Awa Ndiaye — A0000201 — {born[0]} — +221 77 111 11 11"
    assert labels[second.pk] == f"Awa Ndiaye — A0000202 — {born[1]}"


def test_provider_results_are_named_with_the_doctors_title(browser, receptionist, doctor):
    doctor.first_name, doctor.last_name = "Awa", "Ndiaye"
    doctor.save(update_fields=["first_name", "last_name"])
    response = browser(receptionist).get(
        AUTOCOMPLETE,
        {
            "app_label": "appointments",
            "model_name": "appointment",
            "field_name": "provider",
            "term": "ndiaye",
        },
    )

    assert [item["text"] for item in response.json()["results"]] == ["Dr Awa Ndiaye"]
