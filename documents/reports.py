"""The patient summary report: a PDF of demographics, allergies, appointments and documents (fpdf2).

Appointments are read through appointments' selectors (documents may refer to patients and read
other domains through their selectors; appointments never import documents).
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from fpdf import FPDF

from appointments.models import AppointmentStatus
from appointments.selectors import appointment_filter, appointment_queryset
from documents.models import DocumentCategory
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
    """Write the patient's summary PDF to `path`, in the active language (the task activates the
    requester's, documents/tasks.py)."""
    zone = clinic_zone(patient.tenant)
    now = timezone.now()
    pdf = FPDF(format="A4")
    pdf.set_title(pdf_text(_("Patient summary - %(mrn)s") % {"mrn": patient.mrn}))
    pdf.set_creator("KeneyApp")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    title = _("%(clinic)s: patient summary") % {"clinic": patient.tenant.name}
    pdf.cell(0, 10, pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    generated = _("Generated %(when)s") % {"when": f"{now.astimezone(zone):%Y-%m-%d %H:%M %Z}"}
    pdf.cell(0, 6, pdf_text(generated), new_x="LMARGIN", new_y="NEXT")

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5, pdf_text(text), new_x="LMARGIN", new_y="NEXT")

    heading(_("Demographics"))
    for label, value in (
        (_("Name"), patient.full_name),
        (_("Record number"), patient.mrn),
        (_("Date of birth"), f"{patient.date_of_birth:%Y-%m-%d}"),
        (_("Sex"), patient.get_sex_display()),
        (_("Phone"), patient.phone_number),
        (_("Email"), patient.email),
        (_("Address"), patient.address),
        (_("Emergency contact"), patient.emergency_contact),
    ):
        line(_("%(label)s: %(value)s") % {"label": label, "value": pdf_text(value)})

    heading(_("Allergies"))
    line(patient.allergies or _("None recorded"))

    for title, upcoming in ((_("Upcoming appointments"), True), (_("Recent appointments"), False)):
        heading(title)
        rows = _appointments(patient, upcoming=upcoming, now=now)
        if not rows:
            line(pgettext("no appointment", "None"))
        for row in rows:
            provider = f"{row['provider__first_name'] or ''} {row['provider__last_name'] or ''}".strip()
            line(
                f"{row['appointment_date'].astimezone(zone):%Y-%m-%d %H:%M}"
                f"  {AppointmentStatus(row['status']).label}"
                f"  {provider or _('unassigned')}  {row['reason']}"
            )

    heading(_("Documents"))
    documents = patient_documents_for_report(tenant=patient.tenant_id, patient_id=patient.pk)
    if not documents:
        line(pgettext("no document", "None"))
    for row in documents:
        line(
            f"{row['created_at'].astimezone(zone):%Y-%m-%d}  {DocumentCategory(row['category']).label}"
            f"  {row['title']}  "
            + _("(v%(version)s, %(type)s, %(size)s bytes)")
            % {"version": row["version"], "type": row["content_type"], "size": row["size"]}
        )
    pdf.output(path)
