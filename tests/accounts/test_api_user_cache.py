"""The user behind a token is cached between requests, and admin changes apply at once."""

import pytest

from keneyapp.accounts.api_users import _key
from keneyapp.accounts.roles import Role
from keneyapp.core.caching import cache_service

pytestmark = pytest.mark.django_db
ME = "/api/v1/auth/me"


def test_a_second_request_reads_the_user_from_the_cache(api, doctor, django_assert_num_queries):
    client = api(doctor)
    assert client.get(ME).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(ME).json()["clinic"]["slug"] == doctor.tenant.slug


def test_the_cached_entry_holds_no_password_hash(api, doctor):
    api(doctor).get(ME)
    entry = cache_service.get(_key(doctor.pk))
    assert entry["user"]["username"] == "alice"
    assert "password" not in entry["user"]


def test_deactivating_a_user_in_the_admin_locks_them_out_at_once(api, client, doctor, staff_of):
    clinic_admin = staff_of(Role.ADMIN, username="boss")
    victim = api(doctor)
    assert victim.get(ME).status_code == 200  # cached now
    client.force_login(clinic_admin)
    change_page = client.get(f"/admin/accounts/user/{doctor.pk}/change/")
    form = change_page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(is_active="", tenant=doctor.tenant_id, role=Role.DOCTOR, username="alice")
    response = client.post(f"/admin/accounts/user/{doctor.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    assert victim.get(ME).status_code == 401


def test_closing_a_clinic_in_the_admin_locks_its_staff_out_at_once(api, client, doctor, clinic, superuser):
    victim = api(doctor)
    assert victim.get(ME).status_code == 200  # cached now
    client.force_login(superuser)
    response = client.post(
        f"/admin/accounts/tenant/{clinic.pk}/change/",
        {"name": clinic.name, "slug": clinic.slug, "timezone": clinic.timezone, "is_active": ""},
    )
    assert response.status_code == 302

    assert victim.get(ME).status_code == 401


def test_a_change_made_outside_the_admin_applies_once_the_entry_expires(api, doctor, settings):
    client = api(doctor)
    client.get(ME)
    type(doctor).objects.filter(pk=doctor.pk).update(is_active=False)
    assert client.get(ME).status_code == 200  # still cached: the documented bound
    cache_service.delete(_key(doctor.pk))  # what AUTH_USER_CACHE_SECONDS does
    assert client.get(ME).status_code == 401


def test_with_redis_unreachable_every_request_reads_the_database_and_succeeds(api, doctor, monkeypatch):
    client = api(doctor)
    client.get(ME)
    monkeypatch.setattr(cache_service, "versions", lambda namespaces: None)  # what an outage looks like
    type(doctor).objects.filter(pk=doctor.pk).update(first_name="Fresh")
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["first_name"] == "Fresh"  # read from the database, not the stale entry
