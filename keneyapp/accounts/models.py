import hashlib
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from keneyapp.accounts.names import user_name
from keneyapp.accounts.roles import Role, denied_fields, role_can
from keneyapp.core import language

LANGUAGE_CHOICES = [("en", "English"), ("fr", "Français")]


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            gettext("%(value)r is not a known IANA time zone (e.g. Europe/Paris).") % {"value": value}
        )


def default_mfa_required_roles() -> list[str]:
    # Clinic administrators manage staff accounts and the clinic's settings: the first to protect.
    return [Role.ADMIN.value]


def validate_roles(value) -> None:
    if not isinstance(value, list) or not all(isinstance(role, str) for role in value):
        raise ValidationError(gettext("A list of roles."))
    unknown = sorted(set(value) - set(Role.values))
    if unknown:
        raise ValidationError(gettext("Unknown roles: %(roles)s.") % {"roles": ", ".join(unknown)})


class Tenant(models.Model):
    """A clinic. Every clinic's data is invisible to every other clinic."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=63, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive clinic's staff cannot log in.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Staff of these roles must log in with a second factor (keneyapp/accounts/mfa.py); platform
    # superusers always must, whatever their clinic says.
    mfa_required_roles = models.JSONField(
        _("roles that must use two-factor login"),
        default=default_mfa_required_roles,
        blank=True,
        validators=[validate_roles],
        help_text=_(
            "Staff of these roles log in with a code from an authenticator app after their password."
        ),
    )
    # The language of the clinic's staff who chose none and whose browser says none
    # (keneyapp/core/language.py).
    default_language = models.CharField(
        _("default language"),
        max_length=8,
        choices=LANGUAGE_CHOICES,
        default=language.DEFAULT,
        help_text=_("The language of staff who chose none, in the admin, the API's messages and emails."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of a clinic's staff, with one role. Superusers may belong to no clinic."""

    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("clinic"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    # Blank: the clinic's default (keneyapp/core/language.py); a browser's preference comes first.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=LANGUAGE_CHOICES,
        blank=True,
        help_text=_(
            "Blank: the clinic's default language. A browser set to a language KeneyApp speaks comes first."
        ),
    )
    # Logins (refresh-token families) ended by logout or a replayed refresh token within the last
    # access-token lifetime, as [family hex, ended at (Unix time)]: their access tokens are refused.
    # On the user, so checking it costs nothing beyond loading the (cached) user.
    ended_logins = models.JSONField(default=list, blank=True, editable=False)
    # Bumped when the user's second factor is enrolled or reset (keneyapp/accounts/mfa.py): part of
    # the credentials, so every session and token issued before ends.
    mfa_generation = models.PositiveIntegerField(default=0, editable=False)
    # Set by a reset of the second factor: the user must enrol again at their next login, whatever
    # their clinic requires of their role.
    mfa_enrolment_due = models.BooleanField(default=False, editable=False)

    # Set by keneyapp.accounts.api_users on the user an access token is checked against.
    access_fingerprint: str
    revoked_login_families: frozenset[str]

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_staff_has_clinic_and_role",
                condition=Q(is_superuser=True) | (Q(tenant__isnull=False) & ~Q(role="")),
                violation_error_message=_("Clinic staff need a clinic and a role."),
            ),
        ]
        indexes = [models.Index(fields=["tenant", "role"], name="user_tenant_role_idx")]

    def __str__(self) -> str:
        # Choice labels, list columns and the admin's autocomplete show people by name.
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name on screens, e.g. "Dr Awa Ndiaye" (keneyapp/accounts/names.py)."""
        return user_name(self)

    def role_allows(self, action: str) -> bool:
        """Whether this member of staff's role may do `action` ("<resource>.<verb>", a row of
        roles.PERMISSIONS; an action missing from the table raises LookupError). Without a clinic
        and a role (a superuser outside every clinic), nothing.

        The admin's base class (keneyapp.core.admin) asks this, so `core` names no roles table."""
        return bool(self.tenant_id and self.role) and role_can(self.role, action)

    def denied_fields(self, model_label: str) -> frozenset[str]:
        """The fields of `model_label` ("patients.patient") this member of staff's role may neither
        read nor write (roles.FIELD_PERMISSIONS); asked by the admin's base class as `role_allows`.
        A superuser outside every clinic is refused nothing here: the admin lets them see all."""
        if self.is_superuser and not self.role:
            return frozenset()
        return denied_fields(self.role, model_label)

    # What a login was granted on. Change any of these (a new password, another role or clinic)
    # and every session, access token and refresh token issued before stops working, whichever
    # door made the change (admin, API, manage.py, a shell), without a list of revoked tokens.
    def _credentials(self) -> str:
        credentials = f"{self.password}|{self.role}|{self.tenant_id}"
        # The second factor's generation joins them once there is one, so the fingerprints of users
        # who never enrolled (everyone, at the deploy that added it) did not change.
        return f"{credentials}|mfa:{self.mfa_generation}" if self.mfa_generation else credentials

    def credentials_fingerprint(self) -> str:
        """A digest of the credentials (never the password hash itself), carried in access tokens
        and stored with refresh tokens (keneyapp/accounts/tokens.py). Unkeyed on purpose: rotating
        SECRET_KEY must not log everyone out, and the digest of a salted Argon2 hash tells its
        holder nothing about the password."""
        return hashlib.sha256(f"keneyapp.credentials|{self._credentials()}".encode()).hexdigest()[:32]

    def _get_session_auth_hash(self, secret=None):
        # Django's session check (AuthenticationMiddleware) compares this with the hash stored at
        # login; Django hashes the password only, so a role or clinic change would keep the session.
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        return salted_hmac(key_salt, self._credentials(), secret=secret, algorithm="sha256").hexdigest()


class RefreshToken(models.Model):
    """A refresh token, stored only as its SHA-256. Rotated on every use; a family shares one
    login, so replaying an already-rotated token revokes the whole family (token theft)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    family = models.UUIDField(db_index=True)
    # The user's credentials fingerprint when the login began: a refresh is refused once it differs
    # (a password, role or clinic change since).
    credentials_fingerprint = models.CharField(max_length=32, default="", editable=False)
    # Whether the login passed a second factor: a refresh is refused once the user's clinic requires
    # one of them and this login had none (keneyapp/accounts/services.py).
    mfa_verified = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaces"
    )

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="refresh_token_expiry_idx")]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of user {self.user_id}"


class RecoveryCode(models.Model):
    """One of a user's single-use recovery codes for a lost authenticator, stored only as a digest
    (keneyapp/accounts/mfa.py). Shown once, at enrolment."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique_per_user"),
        ]

    def __str__(self) -> str:
        return f"recovery code {self.pk} of user {self.user_id}"


class MfaChallenge(models.Model):
    """The step between a right password and its second factor: the mfa_token of the API's login (or
    the admin's code step), stored only as its SHA-256, bound to the user and the credentials they
    had, short-lived, good for one successful code and a few failed ones."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mfa_challenges")
    token_hash = models.CharField(max_length=64, unique=True)
    credentials_fingerprint = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="mfa_challenge_user_expiry_idx")]

    def __str__(self) -> str:
        return f"MFA challenge {self.pk} of user {self.user_id}"
