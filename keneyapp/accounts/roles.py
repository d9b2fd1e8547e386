"""Who may do what: one table, the single source for the API, the admin and the README.

A refused action is 403 only on an object the user can see; an object of another clinic is 404
whatever the role (see keneyapp/accounts/permissions.py).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Clinic administrator")
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    RECEPTIONIST = "receptionist", _("Receptionist")


ALL_STAFF = frozenset(Role)
CLINICAL_STAFF = frozenset({Role.DOCTOR, Role.NURSE})

# action -> roles allowed. Actions are "<resource>.<verb>"; later domains add their rows here.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "patients.view": ALL_STAFF,
    "patients.add": ALL_STAFF,
    "patients.change": ALL_STAFF,
    "patients.delete": frozenset({Role.ADMIN, Role.DOCTOR}),
    "appointments.view": ALL_STAFF,
    "appointments.add": ALL_STAFF,
    "appointments.change": ALL_STAFF,  # reschedule, reassign, confirm, check in, mark no-show
    "appointments.cancel": ALL_STAFF,
    "appointments.complete": CLINICAL_STAFF,  # only who saw the patient marks the visit done
    "schedules.view": ALL_STAFF,  # providers' working hours and time off
    "schedules.add": frozenset({Role.ADMIN}),
    "schedules.change": frozenset({Role.ADMIN}),
    "schedules.delete": frozenset({Role.ADMIN}),
    "dashboard.view": ALL_STAFF,
    "documents.view": ALL_STAFF,
    "documents.add": ALL_STAFF,  # upload, new version, direct upload and its confirmation
    "documents.download": ALL_STAFF,  # every download is recorded (documents.DocumentAccess)
    "documents.delete": frozenset({Role.ADMIN, Role.DOCTOR}),
    "documents.report": ALL_STAFF,  # ask for a patient's summary PDF
    "document_access.view": frozenset({Role.ADMIN}),  # who downloaded what (admin only)
    # The audit trail (who accessed which patient's data) and the patient's access report.
    "audit.view": frozenset({Role.ADMIN}),
    "audit.report": frozenset({Role.ADMIN}),
    # Every member of staff messages colleagues; a message is seen only by its sender and receiver.
    "messages.view": ALL_STAFF,  # read one's own messages, mark them read, the unread count, live events
    "messages.send": ALL_STAFF,
}


# Fields of a record that only some of the roles allowed on the record may read or write:
# "<app_label>.<model>.<field>" -> those roles. A field not listed follows its record's actions.
# Clinical text is for clinicians and the clinic's administrators; receptionists keep the
# demographics, the contact details, scheduling (an appointment's reason, its time, its status)
# and check-in. Allergies are not listed on purpose: they are safety information everyone at the
# desk must see (a latex allergy matters at check-in as much as in the consulting room).
CLINICAL_TEXT = frozenset({Role.ADMIN, Role.DOCTOR, Role.NURSE})
FIELD_PERMISSIONS: dict[str, frozenset[Role]] = {
    "patients.patient.notes": CLINICAL_TEXT,  # the patient's clinical notes
    "appointments.appointment.notes": CLINICAL_TEXT,  # the visit's notes
}


def denied_fields(role: str, model_label: str) -> frozenset[str]:
    """The fields of `model_label` ("patients.patient") that `role` may neither read nor write."""
    prefix = f"{model_label.lower()}."
    return frozenset(
        key.removeprefix(prefix)
        for key, roles in FIELD_PERMISSIONS.items()
        if key.startswith(prefix) and role not in roles
    )


def role_can(role: str, action: str) -> bool:
    try:
        return role in PERMISSIONS[action]
    except KeyError:
        raise LookupError(f"No permission row for action {action!r}; add it to PERMISSIONS") from None


def actions_for_role(role: str) -> list[str]:
    return sorted(action for action, roles in PERMISSIONS.items() if role in roles)
