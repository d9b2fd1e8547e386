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
"""

from typing import TypeVar

from django.core.exceptions import ValidationError
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import ValidationError as DRFValidationError

Row = TypeVar("Row")


def resolved(row: Row | None, *, field: str, unknown: str | ErrorDetail) -> Row:
    """`row`, what a resolver's query found for the id in `field`; None is the 400 naming `field`.

    An `unknown` that is a DRF ErrorDetail keeps its own code in the answer (the document routes'
    answer predates the resolvers); a plain message gets the code every other field has, "invalid".
    """
    if row is None:
        if isinstance(unknown, ErrorDetail):
            raise DRFValidationError({field: [unknown]})
        raise ValidationError({field: [unknown]})
    return row
