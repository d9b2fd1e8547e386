"""Signals a domain sends so that the apps above it (the dashboard) can react without the domain
naming them: the domain imports `core`, the app above connects a receiver (docs/architecture.md,
"Layers").
"""

from django.dispatch import Signal

# A write changed a clinic's rows: sent by the writer, inside its transaction, as
# `clinic_data_changed.send(sender=<model written>, tenant_id=<clinic id>)`. Also for writes that
# bypass the models' save (bulk UPDATE, COPY). A receiver that caches figures must stay right when
# the transaction commits later or rolls back: the dashboard bumps its namespace now and again after
# commit (keneyapp.core.caching.bump_on_commit).
clinic_data_changed = Signal()
