from django.db import models
from django.utils.translation import gettext_lazy as _

from keneyapp.core.scoping import ClinicScopedManager


class TenantRowCount(models.Model):
    """How many rows a clinic has in a counted table (e.g. active patients), kept exact by
    database triggers (keneyapp.core.row_counts), so a list's `total` is one indexed read
    instead of a COUNT(*) over the whole clinic (tens of milliseconds at 100,000 rows)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    counter = models.CharField(max_length=64)
    total = models.BigIntegerField(default=0)

    objects = ClinicScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "counter"], name="tenant_row_count_unique")]

    def __str__(self) -> str:
        return f"{self.counter} of clinic {self.tenant_id}: {self.total}"


class AuditEvent(models.Model):
    """One access to patient-linked data, through any door (keneyapp.core.audit): append-only.

    Who, when, what, through which door, from where, and the outcome. Never a value: a change names
    the fields changed, a list the query's parameter names, never what was typed or stored. Users
    and patients are plain ids, not foreign keys: the trail outlives them and inserting it checks
    nothing (one statement per request, see keneyapp.core.audit.AuditTrail.flush). The database
    refuses every UPDATE and every DELETE but the retention command's
    (keneyapp.core.audit.AppendOnly, migration core/0002).
    """

    class Door(models.TextChoices):
        API = "api", _("API")
        ADMIN = "admin", _("Admin")
        WEBSOCKET = "websocket", _("Websocket")
        TASK = "task", _("Task")
        COMMAND = "command", _("Command")

    class Action(models.TextChoices):
        VIEW = "view", _("View")
        LIST = "list", _("List or search")
        CREATE = "create", _("Create")
        CHANGE = "change", _("Change")
        DELETE = "delete", _("Delete")
        DOWNLOAD = "download", _("Download")
        REPORT = "report", _("Report")
        EXPORT = "export", _("Export")
        RESTORE = "restore", _("Restore")
        PURGE = "purge", _("Retention purge")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        DENIED = "denied", _("Refused by role")
        # An id of another clinic, or no such row: the caller got a 404, and tried.
        ATTEMPTED = "attempted", _("Attempted (unknown or another clinic's id)")

    at = models.DateTimeField(_("at"))
    # The caller's clinic (a superuser's: the object's, when known).
    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        null=True,
        verbose_name=_("clinic"),
    )
    user_id = models.BigIntegerField(_("user id"), null=True)
    role = models.CharField(_("role"), max_length=20, blank=True)
    door = models.CharField(_("door"), max_length=10, choices=Door.choices)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    model = models.CharField(_("model"), max_length=64)  # app_label.model_name
    object_id = models.BigIntegerField(_("object id"), null=True)
    patient_id = models.BigIntegerField(_("patient id"), null=True)
    # Names only: the fields a change changed; the query parameters a list was given.
    fields = models.JSONField(_("fields"), default=list, blank=True)
    params = models.JSONField(_("parameters"), default=list, blank=True)
    # URL name, admin view, task or command name
    route = models.CharField(_("route"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=45, blank=True)  # client IP (keneyapp.core.network)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "patient_id", "-at"], name="audit_tenant_patient_at"),
            models.Index(fields=["tenant", "user_id", "-at"], name="audit_tenant_user_at"),
            models.Index(fields=["tenant", "-at"], name="audit_tenant_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.model} {self.object_id or ''} by user {self.user_id} ({self.outcome})"


class AuditFlag(models.Model):
    """A user whose accesses look unusual in one hour (keneyapp.core.audit_flags, a beat task):
    more distinct patients than AUDIT_UNUSUAL_PATIENTS_PER_HOUR, or another clinic's ids tried."""

    class Reason(models.TextChoices):
        MANY_PATIENTS = "many_patients", _("Many distinct patients in an hour")
        CROSS_CLINIC = "cross_clinic", _("Tried unknown or another clinic's ids")

    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("clinic"),
    )
    user_id = models.BigIntegerField(_("user id"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    hour = models.DateTimeField(_("hour"))  # the hour (UTC) the accesses fall in
    count = models.PositiveIntegerField(_("count"))  # distinct patients, or attempted accesses
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ClinicScopedManager()

    class Meta:
        verbose_name = _("unusual access flag")
        verbose_name_plural = _("unusual access flags")
        ordering = ["-hour", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user_id", "reason", "hour"], name="audit_flag_unique")
        ]

    def __str__(self) -> str:
        return (
            f"user {self.user_id}: {self.get_reason_display()} ({self.count}) at {self.hour:%Y-%m-%d %H}:00"
        )
