"""Adding staff through the admin (keneyapp/accounts/admin_staff.py): names on the add form, admin
access from the role, nothing of the password hash shown, and a new member of staff who logs in at
once, to the admin and to the API."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from keneyapp.accounts import services
from keneyapp.accounts.models import User
from keneyapp.accounts.roles import Role

pytestmark = pytest.mark.django_db
USER_ADD = "/admin/accounts/user/add/"
PASSWORD = "Baobab-sous-la-pluie-42"


def add_form(**overrides) -> dict:
    return {
        "username": "fatou.sall",
        "first_name": "Fatou",
        "last_name": "Sall",
        "email": "fatou.sall@example.org",
        "role": Role.NURSE,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "_save": "Save",
        **overrides,
    }


def test_the_add_form_asks_for_the_person_and_no_staff_status(browser, clinic_admin):
    form = browser(clinic_admin).get(USER_ADD).context["adminform"].form
    assert {"first_name", "last_name", "email", "role"} <= set(form.fields)
    assert "is_staff" not in form.fields


def test_a_user_added_in_the_admin_logs_in_at_once_to_the_admin_and_the_api(browser, clinic_admin, clinic):
    response = browser(clinic_admin).post(USER_ADD, add_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.get(username="fatou.sall")
    assert (created.first_name, created.last_name, created.tenant_id) == ("Fatou", "Sall", clinic.pk)
    assert created.is_staff and not created.is_superuser  # from the role, by the service

    admin = Client()
    login = admin.post("/admin/login/?next=/admin/", {"username": "fatou.sall", "password": PASSWORD})
    assert login.status_code == 302 and login["Location"] == "/admin/"
    assert admin.get("/admin/").status_code == 200

    api = APIClient().post(
        "/api/v1/auth/login", {"username": "fatou.sall", "password": PASSWORD}, format="json"
    )
    assert api.status_code == 200 and api.json()["access_token"]


def test_the_change_form_shows_no_password_hash_and_no_staff_status_box(browser, clinic_admin, doctor):
    page = browser(clinic_admin).get(f"/admin/accounts/user/{doctor.pk}/change/")
    text = page.content.decode()
    assert "A password is set." in text
    for detail in ("algorithm", "iterations", "salt", "hash:", "argon2", "pbkdf2"):
        assert detail not in text.lower()
    assert "is_staff" not in page.context["adminform"].form.fields
    assert "Staff status" not in text


def test_a_weak_password_is_refused_by_the_admin_and_the_service_alike(browser, clinic_admin, clinic):
    response = browser(clinic_admin).post(USER_ADD, add_form(password1="12345678", password2="12345678"))
    assert response.status_code == 200
    admin_errors = response.context["adminform"].form.errors["password2"]
    with pytest.raises(services.ValidationError) as refused:
        services.staff_create(tenant=clinic, username="fatou.sall", role=Role.NURSE, password="12345678")
    assert set(refused.value.message_dict["password"]) <= set(admin_errors)
    assert not User.objects.filter(username="fatou.sall").exists()


def test_the_staff_forms_say_clinic_not_tenant(browser, clinic_admin, doctor):
    client = browser(clinic_admin)
    for url in (USER_ADD, f"/admin/accounts/user/{doctor.pk}/change/"):
        text = client.get(url).content.decode()
        assert 'for="id_tenant">Clinic' in text and "Tenant" not in text
