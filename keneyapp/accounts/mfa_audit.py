"""The second factor's security events in the audit trail (keneyapp/core/audit.py): an enrolment, a
reset (and who made it), a recovery code's use. Each is a `change` of `accounts.user` (the user
concerned) whose `fields` says which event: `second_factor_enrolled`, `second_factor_reset`,
`recovery_code_used`.

Stored at once, in its own INSERT, inside the change's transaction (keneyapp/accounts/signals.py
sends inside it): a change that cannot be recorded does not happen (AuditUnavailable rolls it
back), and the door's own trail, which may record nothing (the login steps are audit-exempt), is
not needed. The door, address and route are the current trail's (the admin, the API's MFA step, the
admin's code step, `manage.py reset_second_factor`); with no door at all (a shell), `command`.
"""

from django.dispatch import receiver

from keneyapp.accounts import signals
from keneyapp.accounts.models import User
from keneyapp.core import audit


def _store(event: str, *, user: User, actor: User | None) -> None:
    door = audit.current()
    trail = audit.AuditTrail(
        door=door.door if door is not None else audit.Door.COMMAND,
        address=door.address if door is not None else "",
        route=door.route if door is not None else "",
    )
    trail.identify(actor)  # None (an operator's command): no user
    # The actor's clinic; a superuser's (or an operator's): the user's.
    trail.record(audit.Action.CHANGE, User, object_id=user.pk, fields=[event], tenant_id=user.tenant_id)
    trail.flush()


@receiver(signals.second_factor_enrolled, dispatch_uid="keneyapp.accounts.mfa_audit.enrolled")
def _enrolled(sender, user, **kwargs) -> None:
    _store("second_factor_enrolled", user=user, actor=user)


@receiver(signals.second_factor_reset, dispatch_uid="keneyapp.accounts.mfa_audit.reset")
def _reset(sender, user, by, **kwargs) -> None:
    _store("second_factor_reset", user=user, actor=by)


@receiver(signals.recovery_code_used, dispatch_uid="keneyapp.accounts.mfa_audit.recovery")
def _recovery_code_used(sender, user, **kwargs) -> None:
    _store("recovery_code_used", user=user, actor=user)
