"""What every domain's write service shares: write only what changed; a write the database
aborted for contention is retried once, then a 409.

An update (an API PATCH, an admin form) names values; most of them are usually the current ones.
Writing only the changed columns means an update that changes nothing writes nothing: no UPDATE,
no cache invalidation, no live event, and `updated_at` keeps telling when the row last changed.
As the HackSoftware styleguide's `model_update`; here the caller runs its rules between the
comparison and the save (a booking's clash check, a patient's uniqueness), so the two are apart.
"""

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.db import OperationalError, models, transaction

from keneyapp.core import audit
from keneyapp.core.errors import WRITE_CONFLICT, ConflictError, is_contention

ModelT = TypeVar("ModelT", bound=models.Model)
T = TypeVar("T")


def apply_changes(*, instance: models.Model, fields: Iterable[str], data: Mapping[str, Any]) -> list[str]:
    """Set on `instance` the values of `data`, among `fields`, that differ from its own; return
    the names of those set, in `fields` order (empty: there is nothing to write)."""
    changed = []
    for name in fields:
        if name in data and getattr(instance, name) != data[name]:
            setattr(instance, name, data[name])
            changed.append(name)
    if changed:
        audit.note_changed(instance, changed)  # the door's change event names them (never values)
    return changed


def update_fields_for(instance: models.Model, changed: Iterable[str]) -> list[str]:
    """The `update_fields` of a save writing `changed`: those plus the model's auto_now columns
    (Django refreshes `updated_at` only when it is named)."""
    names = list(changed)
    for field in instance._meta.concrete_fields:
        if getattr(field, "auto_now", False) and field.name not in names:
            names.append(field.name)
    return names


def model_update(
    *, instance: ModelT, fields: Iterable[str], data: Mapping[str, Any]
) -> tuple[ModelT, list[str]]:
    """Apply `data` (among `fields`) to `instance` and save the changed columns only, if any.

    Returns the instance and the names changed; a caller sends its side effects only when the
    list is not empty.
    """
    changed = apply_changes(instance=instance, fields=fields, data=data)
    if changed:
        instance.save(update_fields=update_fields_for(instance, changed))
    return instance, changed


def retry_on_contention(service: Callable[..., T]) -> Callable[..., T]:
    """Run `service` in its own transaction (a savepoint inside a caller's); a deadlock or a
    serialization failure rolls it back and runs it once more, and a second one is the 409
    `write_conflict` (ConflictError), in the API's error shape and the admin's form error alike.

    Only wrap a service whose whole effect is inside that transaction (events and tasks go after
    commit), so a rolled-back attempt leaves nothing behind."""
    atomic_service = transaction.atomic(service)

    @functools.wraps(service)
    def run(*args, **kwargs) -> T:
        try:
            return atomic_service(*args, **kwargs)
        except OperationalError as error:
            if not is_contention(error):
                raise
        try:
            return atomic_service(*args, **kwargs)
        except OperationalError as error:
            if not is_contention(error):
                raise
            raise ConflictError(str(WRITE_CONFLICT), code="write_conflict") from error

    return run
