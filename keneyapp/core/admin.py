"""Tenant scoping for the Django admin.

Clinic staff see and edit only their own clinic's rows: changelists, change pages, search,
foreign-key choices and autocomplete all start from their clinic; the clinic is set for them on
save. Superusers see every clinic, with a clinic filter. What a role may do comes from the roles
table, asked through the user (`request.user.role_allows`, keneyapp.accounts), not from Django's
per-model permissions: `core` imports no account module.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q


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
    # Roles-table actions for this model, e.g. "patients" -> patients.view / add / change / delete.
    role_resource: str = ""
    tenant_field = "tenant"

    # --- what rows ---
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset.filter(**{self.tenant_field: request.user.tenant_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
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
        display = list(super().get_list_display(request))
        if is_platform_admin(request) and self.tenant_field not in display:
            display.append(self.tenant_field)
        return display

    def save_model(self, request, obj, form, change):
        if not is_platform_admin(request):
            setattr(obj, f"{self.tenant_field}_id", request.user.tenant_id)
        super().save_model(request, obj, form, change)

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
