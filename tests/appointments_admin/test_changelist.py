"""The appointments changelist as clinic staff see it: their clinic only, search, filters, date
hierarchy; no deleting."""

import pytest

from keneyapp.accounts.roles import Role
from tests.factories import AppointmentFactory, UserFactory

from .conftest import CHANGELIST, MONDAY_9, change_url, shown_ids


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_lists_only_own_clinic(browser, staff_of, ours, theirs, role):
    response = browser(staff_of(role)).get(CHANGELIST)

    assert response.status_code == 200
    assert shown_ids(response) == {a.pk for a in ours}
    html = response.content.decode()
    assert "Lefèvre" in html
    assert "Outsidera" not in html


def test_superuser_sees_every_clinic_with_a_clinic_filter(browser, superuser, ours, theirs):
    response = browser(superuser).get(CHANGELIST)

    assert shown_ids(response) == {a.pk for a in ours + theirs}
    assert "tenant" in [getattr(spec, "field_path", None) for spec in response.context["cl"].filter_specs]


def test_other_clinic_appointment_change_page_is_not_reachable(browser, doctor, theirs):
    response = browser(doctor).get(change_url(theirs[1]), follow=True)

    assert response.redirect_chain[-1][0] == "/admin/"
    assert "Outsidera" not in response.content.decode()
    assert "doesn\u2019t exist" in " ".join(str(m) for m in response.context["messages"])


def test_posting_to_other_clinic_appointment_changes_nothing(browser, doctor, theirs):
    target = theirs[1]

    response = browser(doctor).post(change_url(target), {"status": "cancelled", "reason": "Hacked"})

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.status, target.reason) == ("scheduled", "Check-up")


def test_search_by_patient_name_ignores_accents_and_finds_only_own_clinic(browser, doctor, ours, theirs):
    client = browser(doctor)

    plain = client.get(CHANGELIST, {"q": "eloise lefevre"})
    accented = client.get(CHANGELIST, {"q": "ÉLOÏSE"})

    # The other clinic's "Eloise Lefevre" matches the words too and must not appear.
    assert shown_ids(plain) == {ours[0].pk}
    assert shown_ids(accented) == {ours[0].pk}
    assert theirs[0].pk not in shown_ids(plain)


def test_search_by_record_number_finds_only_own_clinic(browser, doctor, ours, theirs):
    client = browser(doctor)

    exact = client.get(CHANGELIST, {"q": "A0000002"})
    # Both clinics have a record number ending in 0000001; only ours is listed.
    digits = client.get(CHANGELIST, {"q": "0000001"})
    theirs_only = client.get(CHANGELIST, {"q": "B0000002"})

    assert shown_ids(exact) == {ours[1].pk}
    assert shown_ids(digits) == {ours[0].pk}
    assert shown_ids(theirs_only) == set()


def test_status_filter_keeps_only_that_status(browser, doctor, clinic, ours):
    cancelled = AppointmentFactory(tenant=clinic, status="cancelled", appointment_date=MONDAY_9)

    response = browser(doctor).get(CHANGELIST, {"status__exact": "cancelled"})

    assert shown_ids(response) == {cancelled.pk}


def _filter_spec(response, path: str):
    specs = {getattr(spec, "field_path", None): spec for spec in response.context["cl"].filter_specs}
    return specs[path]


def test_filters_are_status_provider_and_date(browser, doctor, ours):
    response = browser(doctor).get(CHANGELIST)

    paths = [getattr(spec, "field_path", None) for spec in response.context["cl"].filter_specs]
    assert paths == ["status", "provider", "appointment_date"]


def test_provider_filter_lists_only_own_clinic_doctors_and_nurses(
    browser, staff_of, doctor, nurse, receptionist, clinic_admin, outsider, ours
):
    UserFactory(tenant=outsider.tenant, role=Role.NURSE, username="other-nurse")

    response = browser(receptionist).get(CHANGELIST)

    offered = {pk for pk, _label in _filter_spec(response, "provider").lookup_choices}
    assert offered == {doctor.pk, nurse.pk}


def test_provider_filter_keeps_only_that_providers_appointments(browser, doctor, nurse, clinic, ours):
    theirs_nurse = AppointmentFactory(tenant=clinic, provider=nurse, appointment_date=MONDAY_9)

    response = browser(doctor).get(CHANGELIST, {"provider__id__exact": nurse.pk})

    assert shown_ids(response) == {theirs_nurse.pk}


def test_date_hierarchy_drills_down_by_appointment_date(browser, doctor, clinic, ours):
    later = AppointmentFactory(tenant=clinic, appointment_date=MONDAY_9.replace(year=2031))
    client = browser(doctor)

    top = client.get(CHANGELIST)
    year_2031 = client.get(CHANGELIST, {"appointment_date__year": "2031"})

    assert top.context["cl"].date_hierarchy == "appointment_date"
    html = top.content.decode()
    assert "appointment_date__year=2030" in html
    assert "appointment_date__year=2031" in html
    assert shown_ids(year_2031) == {later.pk}


def test_date_hierarchy_offers_no_year_of_another_clinic(browser, doctor, other_clinic, ours):
    AppointmentFactory(tenant=other_clinic, appointment_date=MONDAY_9.replace(year=2033))

    html = browser(doctor).get(CHANGELIST).content.decode()

    assert "appointment_date__year=2033" not in html


# --- appointments are cancelled, not deleted ---


@pytest.mark.parametrize("role", list(Role))
def test_staff_cannot_delete_an_appointment(browser, staff_of, ours, role):
    client = browser(staff_of(role))
    target = ours[1]

    page = client.get(f"/admin/appointments/appointment/{target.pk}/delete/")
    bulk = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"}
    )
    listing = client.get(CHANGELIST)

    assert page.status_code == 403
    assert bulk.status_code in (200, 302)
    target.refresh_from_db()  # still there
    assert "delete_selected" not in dict(
        listing.context["cl"].model_admin.get_action_choices(listing.wsgi_request)
    )


def test_cancelling_in_the_admin_records_when(browser, doctor, ours):
    target = ours[1]
    client = browser(doctor)
    form = client.get(change_url(target)).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.pop("tenant", None)
    data["appointment_date_0"], data["appointment_date_1"] = "2030-01-07", "11:00:00"
    data.pop("appointment_date", None)
    data.update(status="cancelled", cancellation_reason="Patient called", _save="Save")

    response = client.post(change_url(target), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.status == "cancelled"
    assert target.cancelled_at is not None
    assert target.cancellation_reason == "Patient called"
