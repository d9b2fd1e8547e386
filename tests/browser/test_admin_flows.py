"""The admin's main flows in a real browser (headless Chromium): the front desk books from the
calendar and checks the patient in, the doctor writes the visit's notes and completes it, a
French-speaking receptionist registers a patient with a French date of birth.

Each page visited is saved as a screenshot in English and French (tests/browser/conftest.py).
The clinic's day is Monday 7 January 2030 (a fixed day, so that the screenshots change little from one
run to the next); the clinic is in Dakar (UTC all year).
"""

import struct
from datetime import UTC, date, datetime, time

import pytest

from appointments.models import Appointment, AppointmentStatus, WorkingHours
from keneyapp.accounts.roles import Role
from keneyapp.core.scoping import scopes_disabled
from patients.models import Patient
from tests.browser.conftest import DESKTOP, TABLET
from tests.factories import AppointmentFactory, PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

DAY = "2030-01-07"  # a Monday
MONDAY_10 = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
CALENDAR = "/admin/appointments/appointment/calendar/"
TODAY = "/admin/appointments/appointment/today/"


@pytest.fixture
def doctor(clinic):
    """The root conftest's doctor, with a name of her own (not Faker's): the same in every screenshot."""
    return UserFactory(
        tenant=clinic, role=Role.DOCTOR, username="alice", first_name="Awa", last_name="Ndiaye"
    )


@pytest.fixture
def day_at_the_clinic(clinic, doctor):
    """The doctor works Monday to Friday 08:00-12:00 and already sees Awa Sy on Monday at 09:00;
    Moussa Diop, a patient of the clinic, has no appointment yet."""
    for weekday in range(5):
        WorkingHours.objects.create(
            tenant=clinic, provider=doctor, weekday=weekday, starts_at=time(8), ends_at=time(12)
        )
    awa = PatientFactory(tenant=clinic, first_name="Awa", last_name="Sy", mrn="A0000101")
    AppointmentFactory(
        tenant=clinic, patient=awa, provider=doctor, appointment_date=MONDAY_10.replace(hour=9)
    )
    return PatientFactory(tenant=clinic, first_name="Moussa", last_name="Diop", mrn="A0000102")


def choose_in_autocomplete(page, field: str, typed: str, expected: str) -> None:
    """The admin's select2 autocomplete: open it, type, wait for the clinic's answer, choose it."""
    page.css(f"#id_{field} + .select2 .select2-selection").click()
    page.wait_for(".select2-container--open .select2-search__field").send_keys(typed)
    page.wait_until(
        lambda: any(expected in option.text for option in page.all_css(".select2-results__option")),
        f"the autocomplete offered no {expected!r}",
    )
    next(o for o in page.all_css(".select2-results__option") if expected in o.text).click()
    assert expected in page.css(f"#id_{field} + .select2 .select2-selection__rendered").text


def test_receptionist_books_a_free_slot_from_the_calendar_and_checks_the_patient_in(
    admin_browser, receptionist, doctor, day_at_the_clinic
):
    page, moussa = admin_browser, day_at_the_clinic
    page.login(receptionist, screenshot="login")
    page.shoot("admin-index")

    page.open(f"{CALENDAR}?provider={doctor.pk}&date={DAY}")
    page.wait_for(".kn-grid")
    page.shoot("calendar-day")
    assert "Awa Sy" in page.css(".kn-grid").text  # the booked visit is shown, its slot is not free
    page.css(f'.kn-grid a.kn-free[href*="appointment_date={DAY}T10%3A00"]').click()

    page.wait_for("#appointment_form")
    page.shoot("booking-form")
    assert page.css("#id_appointment_date_0").get_attribute("value") == DAY  # the slot's start, pre-filled
    assert page.css("#id_appointment_date_1").get_attribute("value").startswith("10:00")
    assert page.css("#id_duration_minutes").get_attribute("value") == "30"
    assert doctor.display_name in page.css("#id_provider + .select2").text
    choose_in_autocomplete(page, "patient", "diop", "Moussa Diop")
    page.submit("#appointment_form [name=_save]")
    assert page.all_css(".messagelist .success"), page.css("#content").text
    page.shoot("booking-saved")

    with scopes_disabled():
        booked = Appointment.objects.get(patient=moussa)
    assert (booked.provider_id, booked.appointment_date) == (doctor.pk, MONDAY_10)
    assert booked.status == AppointmentStatus.SCHEDULED

    page.open(f"{TODAY}?date={DAY}&provider={doctor.pk}")
    assert "Scheduled" in page.wait_for(f'tr:has(a[href$="/{booked.pk}/change/"])').text
    page.shoot("today")
    page.submit(f'tr:has(a[href$="/{booked.pk}/change/"]) button[value="check_in"]')

    row = page.wait_for(f'tr:has(a[href$="/{booked.pk}/change/"])')
    assert "Checked in" in row.text
    assert "Moussa Diop: Checked in." in page.css(".messagelist").text
    page.shoot("today-checked-in")
    with scopes_disabled():
        booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CHECKED_IN
    assert booked.arrived_at is not None

    # Every page the flow visited, in both languages, as a 1280x900 PNG (its IHDR's width, height).
    pages = (
        "login",
        "admin-index",
        "calendar-day",
        "booking-form",
        "booking-saved",
        "today",
        "today-checked-in",
    )
    assert {(shot.parent.name, shot.stem) for shot in page.shots} == {
        (language, name) for language in ("en", "fr") for name in pages
    }
    assert {struct.unpack(">II", shot.read_bytes()[16:24]) for shot in page.shots} == {DESKTOP}


def test_doctor_writes_the_visit_notes_and_completes_it(admin_browser, clinic, doctor):
    page = admin_browser
    with scopes_disabled():
        visit = AppointmentFactory(
            tenant=clinic,
            patient=PatientFactory(tenant=clinic, first_name="Fatou", last_name="Sarr", mrn="A0000103"),
            provider=doctor,
            appointment_date=MONDAY_10,
            status=AppointmentStatus.CHECKED_IN,
        )
    page.login(doctor)

    page.open(f"{TODAY}?date={DAY}&provider={doctor.pk}")
    page.wait_for(f'a[href$="/{visit.pk}/change/"]').click()
    page.wait_for("#appointment_form")
    page.shoot("visit-form")
    notes = "Blood pressure 12/8. Review in three months."
    page.css("#id_notes").send_keys(notes)
    page.submit("#appointment_form [name=_continue]")
    assert page.all_css(".messagelist .success"), page.css("#content").text
    assert page.css("#id_notes").get_attribute("value") == notes
    page.shoot("visit-notes-saved")

    page.open(f"{TODAY}?date={DAY}&provider={doctor.pk}")
    page.wait_for(f'tr:has(a[href$="/{visit.pk}/change/"])')
    page.submit(f'tr:has(a[href$="/{visit.pk}/change/"]) button[value="complete"]')
    row = page.wait_for(f'tr:has(a[href$="/{visit.pk}/change/"])')
    assert "Completed" in row.text
    assert not row.find_elements("css selector", "button")  # a completed visit offers no action
    page.shoot("today-completed")

    with scopes_disabled():
        visit.refresh_from_db()
    assert visit.status == AppointmentStatus.COMPLETED
    assert visit.notes == notes


def test_french_speaking_receptionist_registers_a_patient_with_a_french_date_of_birth(
    admin_browser, clinic, receptionist
):
    page = admin_browser
    page.speak("fr")
    page.login(receptionist)

    page.open("/admin/patients/patient/add/")
    page.wait_for("#patient_form")
    page.shoot("patient-form")
    page.css("#id_first_name").send_keys("Mariama")
    page.css("#id_last_name").send_keys("Bâ")
    page.css("#id_date_of_birth").send_keys("02/12/1990")
    page.css("#id_sex").send_keys("F")
    page.submit("#patient_form [name=_continue]")
    page.shoot("patient-saved")

    with scopes_disabled():
        patient = Patient.objects.get(tenant=clinic, last_name="Bâ")
    assert patient.date_of_birth == date(1990, 12, 2)  # 2 December, as a French reader means it
    assert page.css("html").get_attribute("lang") == "fr"


@pytest.mark.parametrize("page_path", [CALENDAR, TODAY], ids=["calendar", "today"])
def test_front_desk_pages_fit_a_tablet(admin_browser, receptionist, doctor, day_at_the_clinic, page_path):
    """At 1024 px (a tablet held landscape at the front desk) the page needs no sideways scrolling."""
    page = admin_browser
    page.viewport(*TABLET)
    page.login(receptionist)
    page.open(f"{page_path}?provider={doctor.pk}&date={DAY}")
    page.wait_for("#content-main")
    page.shoot(f"tablet-{page_path.strip('/').rsplit('/', 1)[-1]}")
    overflow = page.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page_path} is {overflow} px wider than a 1024 px screen"
