"""Adding and editing staff in the admin, as a clinic's desk needs it.

The add form asks for the person (first and last name, email), their role and a password, and
saves through `services.staff_create`: admin access follows from the role (no "staff status"
box), the password policy is the one every password passes, and the new member of staff logs in
at once, to the admin and to the API. The change form says whether a password is set, never how
it is hashed (algorithm, iterations, salt).
"""

from django.contrib.auth.forms import ReadOnlyPasswordHashWidget, UserChangeForm, UserCreationForm
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keneyapp.accounts import services
from keneyapp.accounts.models import User
from keneyapp.core.admin import ConstraintValidatingFormMixin
from keneyapp.core.admin_services import ServiceSavedFormMixin

ADD_FIELDS = ("username", "first_name", "last_name", "email", "tenant", "role", "password1", "password2")


class StaffConstraintFormMixin(ConstraintValidatingFormMixin):
    # The clinic-and-role check reads is_superuser, which the creation form and a clinic admin's
    # form leave out.
    validated_constraints = {"user_staff_has_clinic_and_role": None}


class PasswordStateWidget(ReadOnlyPasswordHashWidget):
    """'A password is set.' and the button to change it: nothing of the hash."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        usable = bool(value) and not value.startswith(UNUSABLE_PASSWORD_PREFIX)
        context["summary"] = [{"label": _("A password is set.") if usable else _("No password set.")}]
        return context


class StaffChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password = self.fields.get("password")
        if password is not None:
            password.widget = PasswordStateWidget()
            password.help_text = gettext_lazy("Passwords are stored hashed; nobody can read them.")


class StaffCreationForm(ServiceSavedFormMixin, StaffConstraintFormMixin, UserCreationForm):
    """Saves through services.staff_create when validated (the last moment a refusal can still be
    shown on the form, as keneyapp.core.admin_services.ServiceModelForm does)."""

    request_user: User | None = None  # set by the admin's get_form
    service_error_fields = {"password": "password2"}  # the policy's refusal, under the confirmation

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "tenant", "role")

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        data, user = self.cleaned_data, self.request_user
        # A clinic admin adds to their own clinic, whatever was posted (the field is locked too).
        tenant = data.get("tenant") if user is None or user.is_superuser else user.tenant
        try:
            self.instance = services.staff_create(
                tenant=tenant,
                username=data["username"],
                role=data["role"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data.get("email", ""),
            )
        except ValidationError as error:
            self._add_service_error(error)
