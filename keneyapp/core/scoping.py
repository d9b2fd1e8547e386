"""Clinic scoping that a query cannot bypass.

Every clinic-owned model declares `objects = ClinicScopedManager()`. Its querysets follow
django-scopes' state (`django_scopes.scope(tenant=...)` / `scopes_disabled()`, the project's API
for entering and leaving a scope):

- inside `scope(tenant=X)`: the queryset is filtered on `tenant_id = X`;
- inside `scopes_disabled()`: no filter (cross-clinic code, which says why at the block);
- anywhere else, and inside a scope that names no clinic (`scope(tenant=None)`, or a scope
  without `tenant`): the queryset carries a condition that refuses to become SQL, so executing it
  in any way (iteration, get, count, exists, in_bulk, contains, explain, values, aggregate, update,
  delete, bulk_update, the async variants, use as a subquery, union...) raises `UnscopedQuery`.

Refusing at compile time instead of per method (as django-scopes' DisabledQuerySet does) leaves no
method to forget: every query Django runs is compiled first. Building a queryset stays free, so
querysets made at import time (a form field's `queryset=`) do not fail until they run; note that
the scope is read when the queryset is built, as django-scopes does.

Inserting a new row (`create()`, `save()`) needs no scope: the row names its clinic and touches no
other. `bulk_create` and `raw` do need one. The model's `_base_manager` stays Django's plain
manager: it follows a foreign key from a row already loaded, reloads a row (`refresh_from_db`),
writes a loaded row in `save()`, and lets the deletion collector see every row that refers to a
deleted one (a PROTECT must never be skipped because a referrer was out of scope).
"""

import logging

from django.db import models
from django_scopes import ScopeError, get_scope, scope, scopes_disabled
from django_scopes.state import state

__all__ = [
    "ClinicScopedManager",
    "ScopeError",
    "UnscopedQuery",
    "in_current_scope",
    "log_unscoped_query",
    "scope",
    "scopes_disabled",
]

logger = logging.getLogger("keneyapp.scoping")


class UnscopedQuery(ScopeError):
    """A query on a clinic-owned model ran without a clinic scope: a bug in the code that ran it."""

    def __init__(self, model_label: str, reason: str):
        super().__init__(f"{reason}: a query on {model_label} needs scope(tenant=...) or scopes_disabled()")
        self.model_label = model_label


def log_unscoped_query(error: UnscopedQuery, *, door: str) -> None:
    """What each door logs when its caller reached an unscoped query (the caller sees a 500)."""
    logger.error("unscoped query on %s through %s", error.model_label, door)


def in_current_scope(func):
    """`func`, to run later (an on-commit callback), inside the scope that is current now.

    A callback runs when the outermost transaction commits, which can be after the code that
    registered it has left its scope (a service called inside a caller's transaction).
    """
    saved = state.get()

    def run(*args, **kwargs):
        token = state.set(saved)
        try:
            return func(*args, **kwargs)
        finally:
            state.reset(token)

    return run


class _RefusesToCompile(models.Expression):
    """A WHERE condition that cannot become SQL: the queryset it is in can be built and chained,
    never executed."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, model_label: str, reason: str):
        super().__init__()
        self.model_label, self.reason = model_label, reason

    def as_sql(self, compiler, connection):
        raise UnscopedQuery(self.model_label, self.reason)


def _refusal_in(node) -> _RefusesToCompile | None:
    # filter() wraps a conditional expression in an Exact(expression, True) lookup.
    condition = getattr(node, "lhs", None)
    return condition if isinstance(condition, _RefusesToCompile) else None


class ClinicScopedQuerySet(models.QuerySet):
    def _refusal(self) -> _RefusesToCompile | None:
        return next(filter(None, map(_refusal_in, self.query.where.children)), None)

    def _require_scope(self) -> None:
        refusal = self._refusal()
        if refusal is not None:
            raise UnscopedQuery(refusal.model_label, refusal.reason)

    def none(self):
        # An empty result shows no clinic's rows: allowed anywhere (forms build `.none()` querysets).
        clone = super().none()
        clone.query.where.children = [node for node in clone.query.where.children if not _refusal_in(node)]
        return clone

    def bulk_create(self, *args, **kwargs):
        # With update_conflicts it updates existing rows, which a scope must bound.
        self._require_scope()
        return super().bulk_create(*args, **kwargs)

    def raw(self, *args, **kwargs):
        self._require_scope()
        return super().raw(*args, **kwargs)


_ClinicScopedManagerBase = models.Manager.from_queryset(ClinicScopedQuerySet)


class ClinicScopedManager(_ClinicScopedManagerBase):
    """The default manager of every clinic-owned model (a model with a `tenant` foreign key)."""

    def get_queryset(self):
        queryset = super().get_queryset()
        current = get_scope()
        if not current.get("_enabled", True):
            return queryset  # scopes_disabled()
        if "tenant" not in current:
            return queryset.filter(_RefusesToCompile(self.model._meta.label, "no clinic scope is active"))
        tenant = current["tenant"]
        if tenant is None or isinstance(tenant, (list, tuple, set)):
            return queryset.filter(
                _RefusesToCompile(
                    self.model._meta.label, f"the clinic scope names no single clinic ({tenant!r})"
                )
            )
        return queryset.filter(tenant_id=getattr(tenant, "pk", tenant))
