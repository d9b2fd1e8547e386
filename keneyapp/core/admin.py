"""Tenant scoping for the Django admin.

Clinic staff see and edit only their own clinic's rows: changelists, change pages, search,
foreign-key choices and autocomplete all start from their clinic; the clinic is set for them on
save. Superusers see every clinic, with a clinic filter. What a role may do comes from the roles
table, asked through the user (`request.user.role_allows`, keneyapp.accounts), not from Django's
per-model permissions: `core` imports no account module.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from keneyapp.core import audit
from keneyapp.core.date_fields import FORMFIELD_OVERRIDES
from keneyapp.core.models import AuditEvent, AuditFlag


def is_platform_admin(request) -> bool:
    return request.user.is_active and request.user.is_superuser


class ConstraintValidatingFormMixin:
    """For a ModelForm: validate the named model constraints even when they read a field the form
    leaves out (Django skips those), so a violation is a form error instead of an IntegrityError.

    `validated_constraints` maps a constraint's name to the field that shows its error (None: the
    whole form).
    """

    validated_constraints: dict[str, str | None] = {}

    def validate_unique(self):
        super().validate_unique()
        model = self._meta.model
        for constraint in model._meta.constraints:
            if constraint.name not in self.validated_constraints:
                continue
            try:
                constraint.validate(model, self.instance, exclude=set(self.errors))
            except ValidationError as error:
                self.add_error(self.validated_constraints[constraint.name], error)


class RefusesDeniedFieldsFormMixin:
    """For an admin form of a role that may not write some fields (they are left out of it): a
    POST that changes one anyway (a crafted request) is refused whole, not silently dropped. A
    posted value equal to the stored one (an empty value on a new record) changes nothing and
    passes: a form rendered with the field before the role changed still saves."""

    denied_fields: frozenset[str] = frozenset()

    def clean(self):
        cleaned = super().clean()
        data, instance = self.data, self.instance
        posted = sorted(
            name
            for name in self.denied_fields
            if name in data and data[name] != str(getattr(instance, name, "") or "")
        )
        if posted:
            raise ValidationError(
                ngettext(
                    "Your role may not change the field %(fields)s.",
                    "Your role may not change the fields %(fields)s.",
                    len(posted),
                )
                % {"fields": ", ".join(posted)},
                code="field_not_permitted",
            )
        return cleaned


def _without_fields(fieldsets, denied: frozenset[str]):
    """`fieldsets` less the denied fields (a row of fields shown side by side keeps the others)."""
    kept = []
    for name, options in fieldsets:
        fields = []
        for entry in options.get("fields", ()):
            if isinstance(entry, (list, tuple)):
                row = tuple(field for field in entry if field not in denied)
                if row:
                    fields.append(row)
            elif entry not in denied:
                fields.append(entry)
        if fields:
            kept.append((name, {**options, "fields": fields}))
    return kept


class ClinicRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A foreign-key filter in a changelist offering only the staff member's clinic's rows
    (Django's default lists every row of the related table, other clinics' included)."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        limit = field.get_limit_choices_to() or {}
        limit = limit if isinstance(limit, Q) else Q(**limit)
        if not is_platform_admin(request):
            limit &= Q(tenant=request.user.tenant_id)
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to=limit)


class TenantScopedAdmin(admin.ModelAdmin):
    # Date and time widgets that say the format they read, in the active language.
    formfield_overrides = FORMFIELD_OVERRIDES
    # Roles-table actions for this model, e.g. "patients" -> patients.view / add / change / delete.
    role_resource: str = ""
    tenant_field = "tenant"
    # The admin's audit door (keneyapp.core.audit; the trail is opened and flushed by
    # keneyapp.core.middleware.AdminAuditMiddleware): for a model of patient-linked rows, "pk" (the
    # row is a patient) or the row's patient column ("patient_id"); None records nothing.
    audit_patient: str | None = None

    # --- the audit ---
    def _audit_patient_of(self, obj):
        return obj.pk if self.audit_patient == "pk" else getattr(obj, self.audit_patient or "", None)

    def _audit(self, action: str, obj=None, **kwargs) -> None:
        if self.audit_patient is None:
            return
        if obj is not None:
            kwargs |= {"object_id": obj.pk, "patient_id": self._audit_patient_of(obj)}
            kwargs.setdefault("tenant_id", getattr(obj, f"{self.tenant_field}_id", None))
        audit.record(action, self.model, **kwargs)

    def _audit_write(self, action: str, obj, **kwargs) -> None:
        """Record a write and store it now, inside the admin view's transaction: a change never
        commits unrecorded (a failure raises AuditUnavailable and rolls the write back)."""
        self._audit(action, obj, **kwargs)
        trail = audit.current()
        if trail is not None and self.audit_patient is not None:
            trail.flush()

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if self.audit_patient is not None and audit.current() is not None:
            # Evaluates the page's queryset once, here; the template iterates the same, cached rows.
            rows = list(changelist.result_list)
            params = [name for name in request.GET if name not in ("p", "o")]
            # One event per patient shown, in the trail of the patient's clinic: a superuser's page
            # may show several clinics' (clinic staff's rows are all their own clinic's).
            by_clinic: dict[int | None, list] = {}
            for row in rows:
                clinic = getattr(row, f"{self.tenant_field}_id", None)
                by_clinic.setdefault(clinic, []).append(self._audit_patient_of(row))
            for clinic, patients in (by_clinic or {None: []}).items():
                self._audit(audit.Action.LIST, patient_ids=patients, params=params, tenant_id=clinic)
        return changelist

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Unknown or another clinic's id: the admin's "no such object", recorded as an attempt.
            action = audit.Action.VIEW if request.method == "GET" else audit.Action.CHANGE
            self._audit(action, object_id=object_id, outcome=audit.Outcome.ATTEMPTED)
        elif request.method == "GET":
            self._audit(audit.Action.VIEW, obj)
        return obj

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit_write(audit.Action.CREATE, obj)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        trail = audit.current()
        fields = trail.changed_fields(audit.label_of(obj), obj.pk) if trail is not None else ()
        self._audit_write(audit.Action.CHANGE, obj, fields=fields)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(audit.Action.DELETE, obj)
        trail = audit.current()
        if trail is not None and self.audit_patient is not None:
            trail.flush()  # before the (soft) deletes, in the same request: see _audit_write
        return entries

    def _denied(self, request, action: str, object_id=None) -> None:
        self._audit(action, object_id=object_id, outcome=audit.Outcome.DENIED)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except PermissionDenied:
            self._denied(request, audit.Action.LIST)
            raise

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PermissionDenied:
            if object_id is None:
                self._denied(request, audit.Action.CREATE)
            else:
                action = audit.Action.VIEW if request.method == "GET" else audit.Action.CHANGE
                self._denied(request, action, object_id)
            raise

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except PermissionDenied:
            self._denied(request, audit.Action.DELETE, object_id)
            raise

    # --- what rows ---
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset.filter(**{self.tenant_field: request.user.tenant_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model._meta.label == "accounts.Tenant":
            kwargs.setdefault("label", _("Clinic"))  # the model's "tenant" is no word of the desk
        if not is_platform_admin(request):
            related = db_field.related_model
            if related._meta.label == "accounts.Tenant":
                # Shown but locked to their clinic: it stays in the form, so the unique
                # constraints that include the clinic are validated before saving.
                kwargs["queryset"] = related.objects.filter(pk=request.user.tenant_id)
                kwargs["initial"] = request.user.tenant_id
                kwargs["disabled"] = True
            elif any(f.name == "tenant" for f in related._meta.get_fields()):
                kwargs["queryset"] = related._default_manager.filter(tenant=request.user.tenant_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if is_platform_admin(request):
            filters.insert(0, self.tenant_field)
        return filters

    def get_list_display(self, request):
        denied = self.denied_fields(request)
        display = [name for name in super().get_list_display(request) if name not in denied]
        if is_platform_admin(request) and self.tenant_field not in display:
            display.append(self.tenant_field)
        return display

    def save_model(self, request, obj, form, change):
        if not is_platform_admin(request):
            setattr(obj, f"{self.tenant_field}_id", request.user.tenant_id)
        super().save_model(request, obj, form, change)

    # --- which fields: roles.FIELD_PERMISSIONS, asked through the user as role_allows ---
    def denied_fields(self, request) -> frozenset[str]:
        """Fields of this model the user's role may neither read nor write (clinical text for a
        receptionist): left out of the form, the changelist and the search."""
        if is_platform_admin(request):
            return frozenset()
        return request.user.denied_fields(self.model._meta.label_lower)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        denied = self.denied_fields(request)
        if (
            obj is not None
            and not is_platform_admin(request)
            and self.tenant_field in self.get_readonly_fields(request, obj)
        ):
            # Clinic staff see only their clinic's rows (the header names it): the read-only clinic
            # of a change page says nothing to them.
            denied = denied | {self.tenant_field}
        return _without_fields(fieldsets, denied) if denied else fieldsets

    def get_readonly_fields(self, request, obj=None):
        denied = self.denied_fields(request)
        return tuple(name for name in super().get_readonly_fields(request, obj) if name not in denied)

    def get_exclude(self, request, obj=None):
        denied = self.denied_fields(request)
        excluded = tuple(super().get_exclude(request, obj) or ())
        return (*excluded, *sorted(denied)) if denied else super().get_exclude(request, obj)

    def get_search_fields(self, request):
        denied = self.denied_fields(request)
        return tuple(name for name in super().get_search_fields(request) if name not in denied)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        denied = self.denied_fields(request)
        if denied:
            form = type(form.__name__, (RefusesDeniedFieldsFormMixin, form), {"denied_fields": denied})
        return form

    # --- who may do what ---
    def _role_allows(self, request, verb: str) -> bool:
        if is_platform_admin(request):
            return True
        user = request.user
        return user.is_active and user.is_staff and user.role_allows(f"{self.role_resource}.{verb}")

    def has_module_permission(self, request):
        return self._role_allows(request, "view")

    def has_view_permission(self, request, obj=None):
        return self._role_allows(request, "view")

    def has_add_permission(self, request):
        return self._role_allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._role_allows(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self._role_allows(request, "delete")


class StaffFilter(admin.SimpleListFilter):
    """By member of staff: the clinic's users (one query), whose ids the trail holds."""

    title = _("user")
    parameter_name = "user_id"

    def lookups(self, request, model_admin):
        users = get_user_model()._default_manager.order_by("username")
        if not is_platform_admin(request):
            users = users.filter(tenant_id=request.user.tenant_id)
        return [(str(pk), username) for pk, username in users.values_list("pk", "username")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(user_id=int(value)) if value.isascii() and value.isdigit() else queryset.none()


class ReadOnlyTrailAdmin(TenantScopedAdmin):
    """The trail is append-only: nobody adds, changes or deletes through the admin (the database
    refuses it anyway); clinic administrators read their clinic's (roles table: audit.view)."""

    role_resource = "audit"
    actions = None
    list_per_page = 100
    show_full_result_count = False  # one COUNT per page, not two

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyTrailAdmin):
    """The clinic's audit trail. Filter by patient with `?patient_id=<id>` or the search box
    (`=` match on the patient, user or object id)."""

    list_display = (
        "at", "user_id", "role", "action", "model", "object_id", "patient_id", "door", "outcome", "address",
    )  # fmt: skip
    list_filter = (StaffFilter, "action", "door", "outcome", ("at", admin.DateFieldListFilter))
    search_fields = ("=patient_id", "=user_id", "=object_id")
    search_help_text = _("A patient, user or object id (exact).")
    ordering = ("-at", "-id")
    date_hierarchy = None


@admin.register(AuditFlag)
class AuditFlagAdmin(ReadOnlyTrailAdmin):
    """Users whose accesses looked unusual in an hour (the core.flag_unusual_access beat task)."""

    list_display = ("hour", "user_id", "reason", "count", "created_at")
    list_filter = (StaffFilter, "reason", ("hour", admin.DateFieldListFilter))
    ordering = ("-hour", "user_id")
