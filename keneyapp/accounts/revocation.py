"""Revocation takes effect at once, everywhere.

What a login was granted on is checked on every use, so most revocations need no list of revoked
tokens: an access token carries its user's credentials fingerprint (User.credentials_fingerprint:
password, role, clinic) and its login family; a refresh token stores the fingerprint it began
with; an admin session's hash covers the same credentials. What must happen when something
changes is that every process sees it on its next request, and that open websockets hear of it:

- `sessions_changed(user_ids)` bumps those users' cached API user (keneyapp/accounts/api_users.py)
  now and again after commit, so the next request anywhere reads the new fingerprint, activity and
  revoked families, and tells their open sockets to check their token again (they close with 4401
  when it no longer holds: messaging/consumers.py).
- Every save or delete of a User, and every save of a clinic, calls it (receivers below: they catch
  the admin, manage.py changepassword, the API and a shell alike). Logout and a replayed refresh
  token record the login's family on the user (User.ended_logins), a save like any other.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from keneyapp.accounts.api_users import forget_api_users
from keneyapp.accounts.models import Tenant, User
from keneyapp.core.events import notify_consumers_on_commit, user_group

# The channel-layer message type the websocket consumer handles (its `session_recheck` method).
SESSION_RECHECK = "session.recheck"
CLINIC_BEFORE_SAVE = "_clinic_before_save"


def sessions_changed(user_ids, *, also_clinic_id: int | None = None) -> None:
    """Make every process re-read these users on their next request, and their open sockets check
    their tokens again. A user's sockets sit in their clinic's groups: `also_clinic_id` names the
    clinic a user was just moved from."""
    users = list(User.objects.filter(pk__in=list(user_ids)).values_list("pk", "tenant_id"))
    forget_api_users([pk for pk, _ in users])
    transaction.on_commit(lambda: forget_api_users([pk for pk, _ in users]))
    for pk, tenant_id in users:
        for clinic in {tenant_id, also_clinic_id}:
            if clinic is not None:
                notify_consumers_on_commit(group=user_group(clinic, pk), message={"type": SESSION_RECHECK})


def _may_move_clinic(update_fields) -> bool:
    return update_fields is None or "tenant" in update_fields or "tenant_id" in update_fields


@receiver(pre_save, sender=User, dispatch_uid="keneyapp.accounts.revocation.user_saving")
def _user_saving(sender, instance: User, update_fields=None, **kwargs) -> None:
    # The clinic the user belongs to before this save: their open sockets are in its groups.
    if instance.pk is not None and _may_move_clinic(update_fields):
        before = User.objects.filter(pk=instance.pk).values_list("tenant_id", flat=True).first()
        setattr(instance, CLINIC_BEFORE_SAVE, before)


@receiver(post_save, sender=User, dispatch_uid="keneyapp.accounts.revocation.user_saved")
def _user_saved(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # nothing a login rests on (Django saves last_login at every admin login)
    sessions_changed([instance.pk], also_clinic_id=getattr(instance, CLINIC_BEFORE_SAVE, None))


@receiver(post_delete, sender=User, dispatch_uid="keneyapp.accounts.revocation.user_deleted")
def _user_deleted(sender, instance: User, **kwargs) -> None:
    forget_api_users([instance.pk])
    if instance.tenant_id is not None:
        group = user_group(instance.tenant_id, instance.pk)
        notify_consumers_on_commit(group=group, message={"type": SESSION_RECHECK})


@receiver(post_save, sender=Tenant, dispatch_uid="keneyapp.accounts.revocation.clinic_saved")
def _clinic_saved(sender, instance: Tenant, created: bool, **kwargs) -> None:
    if not created:
        sessions_changed(User.objects.filter(tenant=instance).values_list("pk", flat=True))
