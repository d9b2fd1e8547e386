from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from keneyapp.core.encrypted_fields import EncryptedCharField, EncryptedTextField
from keneyapp.core.scoping import ClinicScopedManager

ACTIVE = Q(is_deleted=False)


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class Patient(models.Model):
    # No single-column index on tenant: every index below leads with it (mrn's covers all rows).
    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("clinic"),
    )
    mrn = models.CharField(
        _("medical record number"),
        max_length=32,
        blank=True,  # for forms only: left empty, the clinic's next number is given on save
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone_number = models.CharField(_("phone number"), max_length=32, blank=True)
    address = models.TextField(_("address"), blank=True)
    # Clinical free text, stored encrypted (keneyapp/core/encrypted_fields.py): never filtered,
    # ordered or searched in SQL, and never part of search_text. max_length is the text's limit.
    emergency_contact = EncryptedCharField(_("emergency contact"), max_length=255, blank=True)
    allergies = EncryptedTextField(_("allergies"), blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    is_deleted = models.BooleanField(_("deleted"), default=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    # Lower-cased, accent-free "names email phone digits mrn", written by patients.services, so
    # search is case- and accent-insensitive on every database (trigram-indexed on PostgreSQL).
    search_text = models.TextField(_("search text"), blank=True, editable=False)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            # Record numbers are never reused, even after a (soft) delete.
            models.UniqueConstraint(fields=["tenant", "mrn"], name="patient_unique_mrn_per_clinic"),
            # The guide's email index, made unique per clinic among active patients.
            models.UniqueConstraint(
                "tenant",
                Lower("email"),
                name="patient_unique_active_email",
                condition=ACTIVE & ~Q(email=""),
                violation_error_message=_("An active patient of this clinic already has this email."),
            ),
        ]
        indexes = [
            # The guide's (tenant_id, is_deleted) WHERE is_deleted = false, in the form that also
            # serves the list: the active rows of a clinic, in id order (count and `ordering=id`).
            models.Index(fields=["tenant", "id"], name="idx_patient_tenant_active", condition=ACTIVE),
            # The list's default order (last name, first name) and `ordering=created_at`.
            models.Index(
                fields=["tenant", "last_name", "first_name", "id"],
                name="idx_patient_tenant_name",
                condition=ACTIVE,
            ),
            models.Index(
                fields=["tenant", "created_at", "id"], name="idx_patient_tenant_created", condition=ACTIVE
            ),
            # The few deleted patients of a clinic: the lists of appointments and documents subtract
            # their rows from the trigger-kept totals (keneyapp/core/row_counts.py::row_count).
            models.Index(
                fields=["tenant", "id"], name="idx_patient_tenant_deleted", condition=Q(is_deleted=True)
            ),
            # The guide's phone index (caller lookup), tenant first.
            models.Index(fields=["tenant", "phone_number"], name="idx_patient_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def picker_label(self) -> str:
        """The admin's patient picker (keneyapp/core/admin_autocomplete.py): name, record number,
        date of birth and phone, so that namesakes can be told apart."""
        parts = [self.full_name, self.mrn, date_format(self.date_of_birth, "SHORT_DATE_FORMAT")]
        return " — ".join([*parts, self.phone_number] if self.phone_number else parts)


class PatientNumberSequence(models.Model):
    """The last record number handed out in a clinic; its row lock serialises allocation."""

    tenant = models.OneToOneField(
        "accounts.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_value = models.PositiveBigIntegerField(_("last number given"), default=0)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("record number sequence")
        verbose_name_plural = _("record number sequences")

    def __str__(self) -> str:
        return _("record numbers of clinic %(clinic)s: last %(last)s") % {
            "clinic": self.tenant_id,
            "last": self.last_value,
        }
