"""Signals of accounts' security events, which keneyapp/accounts/mfa_audit.py records in the audit trail.

Sent inside the transaction of the change they report, so a receiver that writes an audit row
commits or rolls back with it. `sender` is the User model; `user` the staff member concerned.
"""

from django.dispatch import Signal

# A second factor was enrolled (confirmed with a first code). Arguments: user.
second_factor_enrolled = Signal()
# A user's second factor was reset (devices and recovery codes removed, sessions and tokens ended).
# Arguments: user, by (the admin who reset it; None from manage.py reset_second_factor).
second_factor_reset = Signal()
# A recovery code was used to log in. Arguments: user, remaining (unused codes left).
recovery_code_used = Signal()
