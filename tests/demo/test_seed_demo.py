"""`manage.py seed_demo`: the demo clinics, their staff and patients, as the guide's load test needs."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone
from rest_framework.test import APIClient

from demo.seeding import DEMO_CLINICS
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient

FIRST, SECOND = (spec.slug for spec in DEMO_CLINICS)
FIRST_STAFF = {
    "testuser": Role.DOCTOR,
    "demo.admin": Role.ADMIN,
    "demo.nurse": Role.NURSE,
    "demo.reception": Role.RECEPTIONIST,
}
SECOND_STAFF = {"otheruser": Role.DOCTOR, "other.admin": Role.ADMIN}


def seed(*args: str) -> None:
    call_command("seed_demo", "--force", "--patients", "30", "--other-patients", "5", *args)


def snapshot() -> dict:
    with scopes_disabled():
        return {
            "tenants": sorted(Tenant.objects.values_list("slug", flat=True)),
            "users": sorted(User.objects.values_list("username", "tenant__slug", "role")),
            "patients": dict(Patient.objects.values_list("tenant__slug").annotate(n=Count("id"))),
        }


@pytest.mark.django_db
def test_refuses_without_debug_or_force(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", "--patients", "30")

    assert not Tenant.objects.exists()
    assert not User.objects.exists()
    with scopes_disabled():
        assert not Patient.objects.exists()


@pytest.mark.django_db
def test_runs_with_debug_on_without_force(settings):
    settings.DEBUG = True

    call_command("seed_demo", "--patients", "30", "--other-patients", "5")

    assert Tenant.objects.filter(slug__in=[FIRST, SECOND]).count() == 2
    with scopes_disabled():
        assert Patient.objects.filter(tenant__slug=FIRST, is_deleted=False).count() == 30


@pytest.mark.django_db
def test_creates_two_clinics_with_staff_of_every_role(settings):
    settings.DEBUG = False

    seed()

    assert sorted(Tenant.objects.values_list("slug", flat=True)) == sorted([FIRST, SECOND])
    for slug, staff, password in ((FIRST, FIRST_STAFF, "testpass"), (SECOND, SECOND_STAFF, "otherpass")):
        users = {u.username: u for u in User.objects.filter(tenant__slug=slug)}
        assert set(users) == set(staff)
        for username, role in staff.items():
            user = users[username]
            assert user.role == role
            assert user.is_active
            assert user.is_staff
            assert not user.is_superuser
            assert user.check_password(password), username


@pytest.mark.django_db
def test_patients_option_sets_first_clinic_active_patients():
    seed()

    first = Tenant.objects.get(slug=FIRST)
    second = Tenant.objects.get(slug=SECOND)
    with scopes_disabled():
        assert Patient.objects.filter(tenant=first, is_deleted=False).count() == 30
        assert Patient.objects.filter(tenant=second, is_deleted=False).count() == 5
    # Bulk-inserted rows still get the search column the list and the admin search read.
    with scopes_disabled():
        assert not Patient.objects.filter(search_text="").exists()


@pytest.mark.django_db(reset_sequences=True)
def test_first_clinic_owns_patient_id_1_on_a_fresh_database():
    seed()

    with scopes_disabled():
        assert Patient.objects.get(pk=1).tenant.slug == FIRST


@pytest.mark.django_db
def test_lowest_patient_id_belongs_to_first_clinic():
    seed()

    with scopes_disabled():
        assert Patient.objects.order_by("pk").first().tenant.slug == FIRST


@pytest.mark.django_db
def test_running_twice_is_idempotent():
    seed()
    before = snapshot()
    with scopes_disabled():
        mrns_before = set(Patient.objects.values_list("tenant_id", "mrn"))

    seed()

    assert snapshot() == before
    with scopes_disabled():
        assert set(Patient.objects.values_list("tenant_id", "mrn")) == mrns_before
    assert User.objects.get(username="testuser").check_password("testpass")


@pytest.mark.django_db
def test_rerun_tops_up_to_the_target_after_deletions():
    seed()
    first = Tenant.objects.get(slug=FIRST)
    with scopes_disabled():
        for patient in Patient.objects.filter(tenant=first).order_by("pk")[:4]:
            patient.is_deleted = True
            patient.save(update_fields=["is_deleted"])

    seed()

    with scopes_disabled():
        assert Patient.objects.filter(tenant=first, is_deleted=False).count() == 30
        assert Patient.objects.filter(tenant=first).count() == 34  # deleted rows are kept


@pytest.mark.django_db
def test_record_numbers_are_unique_per_clinic():
    seed()
    # A top-up must not hand out numbers already used.
    call_command("seed_demo", "--force", "--patients", "45", "--other-patients", "5")

    for slug in (FIRST, SECOND):
        with scopes_disabled():
            mrns = list(Patient.objects.filter(tenant__slug=slug).values_list("mrn", flat=True))
        assert len(mrns) == len(set(mrns))
        assert all(mrns)
    with scopes_disabled():
        assert Patient.objects.filter(tenant__slug=FIRST).count() == 45


@pytest.mark.django_db
def test_negative_counts_are_refused():
    with pytest.raises(CommandError):
        call_command("seed_demo", "--force", "--patients", "-1")

    assert not Tenant.objects.exists()


@pytest.mark.django_db
def test_guide_login_works_after_seeding():
    seed()

    client = APIClient()
    response = client.post(
        "/api/v1/auth/login", {"username": "testuser", "password": "testpass"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"]
    listing = client.get(
        "/api/v1/patients?skip=0&limit=50", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}"
    )
    assert listing.status_code == 200
    assert listing.json()["total"] == 30


@pytest.mark.django_db
def test_other_clinic_login_uses_its_own_password():
    seed()

    client = APIClient()
    wrong = client.post(
        "/api/v1/auth/login", {"username": "otheruser", "password": "testpass"}, format="json"
    )
    right = client.post(
        "/api/v1/auth/login", {"username": "otheruser", "password": "otherpass"}, format="json"
    )

    assert wrong.status_code == 401
    assert right.status_code == 200


@pytest.mark.django_db
def test_seeded_patients_were_registered_over_the_last_three_years():
    seed("--patients", "200")

    now = timezone.now()
    with scopes_disabled():
        created = list(Patient.objects.filter(tenant__slug=FIRST).values_list("created_at", flat=True))
    assert all(now - timedelta(days=3 * 365 + 1) <= moment <= now for moment in created)
    # Spread out, as a real register: only a small share is "new this month" on the dashboard.
    assert sum(moment >= now - timedelta(days=31) for moment in created) < len(created) / 4
