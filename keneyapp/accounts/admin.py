from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from keneyapp.accounts import mfa
from keneyapp.accounts.admin_staff import (
    ADD_FIELDS,
    StaffChangeForm,
    StaffConstraintFormMixin,
    StaffCreationForm,
)
from keneyapp.accounts.models import Tenant, User
from keneyapp.accounts.roles import Role
from keneyapp.core.admin import is_platform_admin
from keneyapp.core.date_fields import FORMFIELD_OVERRIDES

# Devices are enrolled and reset through keneyapp/accounts/mfa.py only, which ends the user's sessions
# and tokens: django-otp's own device admin (registered by otp_totp, before this app) would not,
# and would show every device's secret key to superusers.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


class TenantForm(forms.ModelForm):
    mfa_required_roles = forms.MultipleChoiceField(
        label=capfirst(Tenant._meta.get_field("mfa_required_roles").verbose_name),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Staff of these roles log in with a code from an authenticator app after their "
            "password; those not yet enrolled set it up at their next login. Platform superusers always do."
        ),
    )

    class Meta:
        model = Tenant
        fields = ("name", "slug", "timezone", "default_language", "is_active", "mfa_required_roles")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "default_language" in self.fields:
            # A form posted without it (a script written before the field existed) keeps the
            # stored language rather than failing; the page's select always posts one.
            self.fields["default_language"].required = False

    def clean_default_language(self) -> str:
        return self.cleaned_data.get("default_language") or self.instance.default_language or "en"

    def clean_mfa_required_roles(self) -> list[str]:
        chosen = set(self.cleaned_data["mfa_required_roles"])
        return [role for role in Role.values if role in chosen]  # the table's order, whatever was posted


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Superusers manage every clinic; a clinic's admin sees and edits their own (not its status)."""

    form = TenantForm
    formfield_overrides = FORMFIELD_OVERRIDES  # date widgets that say their format
    list_display = ("name", "slug", "timezone", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if is_platform_admin(request) else queryset.filter(pk=request.user.tenant_id)

    def get_readonly_fields(self, request, obj=None):
        return () if is_platform_admin(request) else ("slug", "is_active", "created_at")

    # Closing a clinic locks its staff out at once: keneyapp/accounts/revocation.py hears the save.

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if is_platform_admin(request) else {}

    def has_module_permission(self, request):
        return is_platform_admin(request) or _is_clinic_staff(request)

    def has_view_permission(self, request, obj=None):
        return is_platform_admin(request) or _is_clinic_staff(request)

    def has_change_permission(self, request, obj=None):
        return is_platform_admin(request) or _is_clinic_admin(request)

    def has_add_permission(self, request):
        return is_platform_admin(request)

    def has_delete_permission(self, request, obj=None):
        return is_platform_admin(request)


class ClinicUserChangeForm(StaffConstraintFormMixin, StaffChangeForm):
    class Meta(StaffChangeForm.Meta):
        model = User


# What only a platform superuser may set on a user; a clinic admin's save keeps the stored values.
CLINIC_ADMIN_LOCKED_FIELDS = ("is_superuser", "is_staff", "tenant_id", "last_login", "date_joined")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """A clinic's admin manages their clinic's staff; they can never grant superuser rights or
    Django permissions, nor move anyone to another clinic."""

    add_form = StaffCreationForm  # saves through services.staff_create (admin_staff)
    formfield_overrides = FORMFIELD_OVERRIDES  # date widgets that say their format
    form = ClinicUserChangeForm
    list_display = ("username", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    list_select_related = ("tenant",)
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    platform_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email", "language")}),
        (_("Clinic"), {"fields": ("tenant", "role", "is_active", "is_staff")}),
        (_("Two-factor login"), {"fields": ("second_factor",)}),
        (_("Platform"), {"fields": ("is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    clinic_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email", "language")}),
        (_("Clinic"), {"fields": ("tenant", "role", "is_active")}),
        (_("Two-factor login"), {"fields": ("second_factor",)}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    actions = ["reset_second_factor"]
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ADD_FIELDS}),)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return self.platform_fieldsets if is_platform_admin(request) else self.clinic_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user  # the add form saves through services.staff_create
        return form

    def get_readonly_fields(self, request, obj=None):
        if is_platform_admin(request):
            return ("second_factor", "last_login", "date_joined")
        # Who may work in the admin is the platform's decision: a clinic admin's lever is is_active.
        return ("is_staff", "second_factor", "last_login", "date_joined")

    @admin.display(description=_("Second factor"))
    def second_factor(self, obj) -> str:
        if obj.pk is None:
            return "-"
        if mfa.has_second_factor(obj):
            left = mfa.unused_recovery_codes(obj)
            return ngettext(
                "Authenticator app enrolled; %(count)d recovery code left.",
                "Authenticator app enrolled; %(count)d recovery codes left.",
                left,
            ) % {"count": left}
        if mfa.mfa_required(obj):
            return gettext("None yet: must set it up at the next login.")
        return gettext("None (not required of this role by the clinic).")

    @admin.action(description=_("Reset second factor (the user sets it up again at the next login)"),
                  permissions=["change"])  # fmt: skip
    def reset_second_factor(self, request, queryset):
        # The queryset is get_queryset's: a clinic admin's own clinic, never a superuser.
        users = list(queryset)
        for user in users:
            # Ends the user's sessions, tokens and sockets (the credentials fingerprint changes).
            mfa.second_factor_reset(user=user, by=request.user)
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(count)d user: their sessions and tokens are ended, and "
                "they set up a new authenticator app at their next login.",
                "Second factor reset for %(count)d users: their sessions and tokens are ended, and "
                "they set up a new authenticator app at their next login.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )

    def get_list_display(self, request):
        display = list(self.list_display)
        if is_platform_admin(request):
            display[1:1] = ["tenant", "is_superuser"]
        return display

    def get_list_filter(self, request):
        return (
            ("tenant", *self.list_filter, "is_superuser") if is_platform_admin(request) else self.list_filter
        )

    def get_queryset(self, request):
        # Every view reads its user through this: the list, the change, password, history and delete
        # pages, the actions and the autocomplete. A clinic's admin never reaches a superuser, even
        # one attached to their clinic.
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset.filter(tenant=request.user.tenant_id, is_superuser=False)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tenant":
            kwargs.setdefault("label", _("Clinic"))  # the model's "tenant" is no word of the desk
        if db_field.name == "tenant" and not is_platform_admin(request):
            kwargs["queryset"] = Tenant.objects.filter(pk=request.user.tenant_id)
            kwargs["initial"] = request.user.tenant_id
            kwargs["disabled"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            return  # saved by services.staff_create when the add form was validated (admin_staff)
        if not is_platform_admin(request):
            # A clinic admin's form has none of these fields (or has them disabled or read-only), so a
            # crafted POST of them is already ignored; this keeps it so should the form change.
            stored = User.objects.get(pk=obj.pk)  # within their clinic: get_object's queryset
            for field in CLINIC_ADMIN_LOCKED_FIELDS:
                setattr(obj, field, getattr(stored, field))
        # A role change, a new password or a deactivation applies to the user's next request and
        # closes their sockets (keneyapp/accounts/revocation.py hears every save and delete).
        super().save_model(request, obj, form, change)

    def has_module_permission(self, request):
        return is_platform_admin(request) or _is_clinic_admin(request)

    def has_view_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not is_platform_admin(request):
            return False
        if is_platform_admin(request) or _is_clinic_admin(request):
            return True
        # Other staff look colleagues up only through autocomplete widgets (choosing an
        # appointment's provider); the results are scoped by get_queryset like everything else.
        match = request.resolver_match
        return _is_clinic_staff(request) and match is not None and match.url_name == "autocomplete"

    def has_add_permission(self, request):
        return is_platform_admin(request) or _is_clinic_admin(request)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not is_platform_admin(request):
            return False
        return is_platform_admin(request) or _is_clinic_admin(request)

    def has_delete_permission(self, request, obj=None):
        # Staff leave by being deactivated: their history (who created what) stays attributable.
        return is_platform_admin(request)


def _is_clinic_staff(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and user.tenant_id and user.role)


def _is_clinic_admin(request) -> bool:
    return _is_clinic_staff(request) and request.user.role == Role.ADMIN
