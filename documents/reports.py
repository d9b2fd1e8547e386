"""The patient summary report: a PDF of demographics, allergies, appointments and documents (fpdf2).

Appointments are read through appointments' selectors (documents may refer to patients and read
other domains through their selectors; appointments never import documents).
"""

from datetime import datetime

from django.utils import timezone
from fpdf import FPDF

from appointments.selectors import appointment_filter, appointment_queryset
from documents.selectors import patient_documents_for_report
from keneyapp.core.clinic_time import clinic_zone
from patients.models import Patient

APPOINTMENTS_PER_SECTION = 20


def pdf_text(value) -> str:
    """fpdf2's core fonts are Latin-1: other characters print as '?' rather than failing."""
    return str(value if value not in (None, "") else "-").encode("latin-1", "replace").decode("latin-1")


def _appointments(patient: Patient, *, upcoming: bool, now: datetime) -> list[dict]:
    queryset = appointment_filter(appointment_queryset(tenant=patient.tenant_id), patient_id=patient.pk)
    if upcoming:
        queryset = appointment_filter(queryset, starts_from=now).order_by("appointment_date", "id")
    else:
        queryset = appointment_filter(queryset, starts_before=now).order_by("-appointment_date", "-id")
    return list(
        queryset.values(
            "appointment_date", "status", "reason", "provider__first_name", "provider__last_name"
        )[:APPOINTMENTS_PER_SECTION]
    )


def render_patient_summary(patient: Patient, path: str) -> None:
    """Write the patient's summary PDF to `path`."""
    zone = clinic_zone(patient.tenant)
    now = timezone.now()
    pdf = FPDF(format="A4")
    pdf.set_title(pdf_text(f"Patient summary - {patient.mrn}"))
    pdf.set_creator("KeneyApp")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, pdf_text(f"{patient.tenant.name}: patient summary"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0, 6, pdf_text(f"Generated {now.astimezone(zone):%Y-%m-%d %H:%M %Z}"), new_x="LMARGIN", new_y="NEXT"
    )

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5, pdf_text(text), new_x="LMARGIN", new_y="NEXT")

    heading("Demographics")
    for label, value in (
        ("Name", patient.full_name),
        ("Record number", patient.mrn),
        ("Date of birth", f"{patient.date_of_birth:%Y-%m-%d}"),
        ("Sex", patient.get_sex_display()),
        ("Phone", patient.phone_number),
        ("Email", patient.email),
        ("Address", patient.address),
        ("Emergency contact", patient.emergency_contact),
    ):
        line(f"{label}: {pdf_text(value)}")

    heading("Allergies")
    line(patient.allergies or "None recorded")

    for title, upcoming in (("Upcoming appointments", True), ("Recent appointments", False)):
        heading(title)
        rows = _appointments(patient, upcoming=upcoming, now=now)
        if not rows:
            line("None")
        for row in rows:
            provider = f"{row['provider__first_name'] or ''} {row['provider__last_name'] or ''}".strip()
            line(
                f"{row['appointment_date'].astimezone(zone):%Y-%m-%d %H:%M}  {row['status']}"
                f"  {provider or 'unassigned'}  {row['reason']}"
            )

    heading("Documents")
    documents = patient_documents_for_report(tenant=patient.tenant_id, patient_id=patient.pk)
    if not documents:
        line("None")
    for row in documents:
        line(
            f"{row['created_at'].astimezone(zone):%Y-%m-%d}  {row['category']}  {row['title']}"
            f"  (v{row['version']}, {row['content_type']}, {row['size']} bytes)"
        )
    pdf.output(path)
