from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from keneyapp.accounts.roles import role_can

if TYPE_CHECKING:
    from keneyapp.core.views import ClinicApiView


class IsClinicStaff(BasePermission):
    """The default for every API view: an authenticated user who belongs to a clinic."""

    message = _("This account does not belong to a clinic.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None:
            return False  # DRF turns this into 401 because an authenticator is configured
        return user.tenant_id is not None


class RolePermission(BasePermission):
    """Checks the view's `role_actions` ({HTTP method: action}) against the roles table.

    On a route of one object the check waits for the object: ClinicApiView.initial loads it and
    calls `check_object_permissions` before any handler runs, so an object of another clinic is
    404, never 403, whatever the role. Every method a view handles must name its action: a
    handler without one is a configuration error, never an open door.
    """

    def has_permission(self, request, view) -> bool:
        clinic_view = _clinic_api_view(view)
        if clinic_view.addresses_object(request):
            return True  # checked on the loaded object, before the handler (see the class docstring)
        return self._allowed(request, clinic_view)

    def has_object_permission(self, request, view, obj) -> bool:
        return self._allowed(request, _clinic_api_view(view))

    @staticmethod
    def _allowed(request, view: "ClinicApiView") -> bool:
        method = "GET" if request.method == "HEAD" else request.method
        role_actions: dict[str, str] = getattr(view, "role_actions", {})
        action = role_actions.get(method)
        if action is None:
            if view.handles(method):
                raise ImproperlyConfigured(f"{type(view).__name__}.role_actions names no action for {method}")
            return True  # OPTIONS, or a method the view does not handle: DRF answers (metadata, 405)
        if not role_can(request.user.role, action):
            raise PermissionDenied(
                gettext("Your role (%(role)s) may not %(action)s.")
                % {"role": request.user.role, "action": action.replace(".", " ")}
            )
        return True


def _clinic_api_view(view) -> "ClinicApiView":
    # Imported here: DRF imports this module (a default permission class) while rest_framework.views,
    # which keneyapp.core.views imports, is still loading.
    from keneyapp.core.views import ClinicApiView

    if not isinstance(view, ClinicApiView):
        raise ImproperlyConfigured(f"{type(view).__name__} uses RolePermission but is no ClinicApiView")
    return view


def readable_fields(user, model_label: str, fields: tuple[str, ...], *, requested: bool) -> tuple[str, ...]:
    """`fields` less those the user's role may not read (roles.FIELD_PERMISSIONS). Asked for by
    name (`?fields=notes`, `requested`): 403 naming them; by default: left out of the answer.

    The caches key their entries by the field set, so a narrower role's answer is another entry
    and never a clinician's answer served to a receptionist."""
    denied = user.denied_fields(model_label)
    if requested:
        check_field_writes(user, model_label, fields, verb="read")
    return tuple(name for name in fields if name not in denied)


def check_field_writes(user, model_label: str, names, *, verb: str = "write") -> None:
    """Refuse (403 naming the fields) a request that sets fields the user's role may not write."""
    # Imported here for the reason _clinic_api_view gives (errors imports rest_framework.views).
    from keneyapp.core.errors import FieldsPermissionDenied

    denied = sorted(set(names) & user.denied_fields(model_label))
    if denied:
        raise FieldsPermissionDenied(
            denied,
            (
                gettext(
                    "Your role (%(role)s) may not read %(fields)s: clinical text is for doctors, nurses "
                    "and clinic administrators."
                )
                if verb == "read"
                else gettext(
                    "Your role (%(role)s) may not write %(fields)s: clinical text is for doctors, nurses "
                    "and clinic administrators."
                )
            )
            % {"role": user.role, "fields": ", ".join(denied)},
        )


def without_denied_fields(user, model_label: str, row: dict) -> dict:
    """An answer's row without the fields the user's role may not read."""
    denied = user.denied_fields(model_label)
    return {name: value for name, value in row.items() if name not in denied} if denied else row
