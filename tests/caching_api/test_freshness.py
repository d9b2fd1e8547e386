"""Read after write: every write, through the API or the admin, shows on the very next read of the
detail and of the list (totals included), although both were cached just before."""

import pytest

from keneyapp.accounts.roles import Role
from tests.patients.helpers import LIST_URL, detail_url, valid_body


@pytest.fixture
def warm(api, doctor, patients):
    """Cache the detail of the first patient and a few list pages; returns the doctor's client."""
    client = api(doctor)

    def warm_up():
        client.get(detail_url(patients[0]))
        client.get(detail_url(patients[0]), {"fields": "id,first_name"})
        for params in ({}, {"search": "fatou"}, {"search": "fatima"}, {"fields": "id,first_name"}):
            client.get(LIST_URL, params)

    warm_up()
    return client, warm_up


def names(page) -> list[str]:
    return [item["first_name"] for item in page.json()["items"]]


def test_a_patch_shows_on_the_next_detail_and_list(warm, patient):
    client, _ = warm
    assert client.patch(detail_url(patient), {"first_name": "Fatima"}, format="json").status_code == 200

    assert client.get(detail_url(patient)).json()["first_name"] == "Fatima"
    assert client.get(detail_url(patient), {"fields": "id,first_name"}).json()["first_name"] == "Fatima"
    assert "Fatima" in names(client.get(LIST_URL))
    assert "Fatima" in names(client.get(LIST_URL, {"fields": "id,first_name"}))
    assert client.get(LIST_URL, {"search": "fatima"}).json()["total"] == 1


def test_a_post_shows_on_the_next_list_with_its_total(warm):
    client, _ = warm
    before = client.get(LIST_URL).json()["total"]

    created = client.post(
        LIST_URL, valid_body(first_name="Fatoumata", email="new@example.org"), format="json"
    )

    assert created.status_code == 201
    page = client.get(LIST_URL).json()
    assert page["total"] == before + 1
    assert "Fatoumata" in [item["first_name"] for item in page["items"]]
    assert client.get(LIST_URL, {"search": "fatou"}).json()["total"] == 2
    assert client.get(detail_url(created.json()["id"])).status_code == 200


def test_a_delete_shows_on_the_next_detail_and_list(warm, patient):
    client, _ = warm
    before = client.get(LIST_URL).json()["total"]

    assert client.delete(detail_url(patient)).status_code == 204

    assert client.get(detail_url(patient)).status_code == 404
    page = client.get(LIST_URL).json()
    assert page["total"] == before - 1
    assert patient.pk not in [item["id"] for item in page["items"]]


def test_a_write_of_another_patient_leaves_this_detail_cached_but_fresh(warm, patients):
    client, _ = warm
    client.patch(detail_url(patients[1]), {"first_name": "Aïssatou"}, format="json")

    assert client.get(detail_url(patients[0])).json()["first_name"] == "Fatou"
    assert client.get(detail_url(patients[1])).json()["first_name"] == "Aïssatou"


def admin_form(patient, **overrides) -> dict:
    data = {
        "mrn": patient.mrn,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else "",
        "sex": patient.sex,
        "email": patient.email,
        "phone_number": patient.phone_number,
        "address": patient.address,
        "emergency_contact": patient.emergency_contact,
        "allergies": patient.allergies,
        "notes": patient.notes,
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_an_admin_change_shows_on_the_next_read(warm, browser, staff_of, patient):
    client, _ = warm
    response = browser(staff_of(Role.ADMIN)).post(
        f"/admin/patients/patient/{patient.pk}/change/", admin_form(patient, first_name="Fanta")
    )
    assert response.status_code == 302

    assert client.get(detail_url(patient)).json()["first_name"] == "Fanta"
    assert "Fanta" in names(client.get(LIST_URL))


def test_an_admin_add_shows_on_the_next_list(warm, browser, staff_of, patient):
    client, _ = warm
    before = client.get(LIST_URL).json()["total"]
    form = admin_form(patient, mrn="", first_name="Khady", email="khady@example.org")

    response = browser(staff_of(Role.ADMIN)).post("/admin/patients/patient/add/", form)

    assert response.status_code == 302
    page = client.get(LIST_URL).json()
    assert page["total"] == before + 1
    assert "Khady" in [item["first_name"] for item in page["items"]]


def test_an_admin_delete_shows_on_the_next_read(warm, browser, staff_of, patient):
    client, _ = warm
    before = client.get(LIST_URL).json()["total"]

    response = browser(staff_of(Role.ADMIN)).post(
        f"/admin/patients/patient/{patient.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert client.get(detail_url(patient)).status_code == 404
    assert client.get(LIST_URL).json()["total"] == before - 1


def test_an_admin_bulk_delete_shows_on_the_next_read(warm, browser, staff_of, patients):
    client, _ = warm

    response = browser(staff_of(Role.ADMIN)).post(
        "/admin/patients/patient/",
        {"action": "delete_selected", "_selected_action": [p.pk for p in patients], "post": "yes"},
    )

    assert response.status_code == 302
    assert client.get(LIST_URL).json()["total"] == 0
    assert client.get(detail_url(patients[0])).status_code == 404
