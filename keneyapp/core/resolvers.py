"""Ids in a request's body or query string that name another row: one resolver per kind of row,
one way to refuse.

`patient_id`, `provider_id`, `receiver_id`, `parent_id` and a document's `version` each resolve
through one function beside their model's reads (patients.selectors.patient_resolve,
appointments.selectors.provider_resolve, messaging.selectors.receiver_resolve and message_resolve,
documents.selectors.document_version_resolve). The services call them, so the API, the admin and
any other caller get the same rule and the same answer.

An id that names no row the caller may use (missing, deleted, another clinic's, or not of the kind
the field wants) is a 400 naming the field, with the one message of that kind of row: the answer
is the same whichever it was, so it says nothing about another clinic's rows. Resolvers run before
anything is written.

A refused id is recorded in the audit trail as an attempt (keneyapp.core.audit.record_attempted_use:
the model and id it named, the field, outcome `attempted`) when the resolver says what it names:
probing another clinic's ids through a body is as visible to the clinic's admin as through a URL.
"""

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import ValidationError as DRFValidationError

from keneyapp.core import audit

Row = TypeVar("Row")


def resolved(
    row: Row | None, *, field: str, unknown: str | ErrorDetail, model: str = "", object_id: Any = None
) -> Row:
    """`row`, what a resolver's query found for the id in `field`; None is the 400 naming `field`,
    recorded as an attempted use of `model` row `object_id` when `model` is given.

    An `unknown` that is a DRF ErrorDetail keeps its own code in the answer (the document routes'
    answer predates the resolvers); a plain message gets the code every other field has, "invalid".
    """
    if row is None:
        if model:
            audit.record_attempted_use(model, object_id=object_id, field=field)
        if isinstance(unknown, ErrorDetail):
            raise DRFValidationError({field: [unknown]})
        raise ValidationError({field: [unknown]})
    return row
