"""A test-only email backend whose sends a test can count from another process: each message is
one file `mail/<recipient>--<unique>.eml` under KENEYAPP_FAULT_DIR, written whole or not at all
(a temporary name, then a rename: a process killed mid-write leaves no email). Before writing it
holds at the fault point `email.<recipient>` (tests/faults/holds.py): the test kills the worker
there, inside the send and before its effect."""

from __future__ import annotations

import os
import uuid

from django.core.mail.backends.base import BaseEmailBackend

from tests.faults.holds import fault_dir, hold


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        folder = fault_dir()
        if folder is None:
            raise RuntimeError("KENEYAPP_FAULT_DIR is not set")
        mail = folder / "mail"
        mail.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            (recipient,) = message.recipients()  # the project sends every email to one address
            hold(f"email.{recipient}")
            name = f"{recipient}--{uuid.uuid4().hex}.eml"
            partial = mail / f".{name}.partial"
            partial.write_bytes(message.message().as_bytes())
            os.replace(partial, mail / name)
        return len(email_messages)


def sent_to(folder, recipient: str) -> int:
    """How many emails the worker sent to `recipient` (from the test process)."""
    mail = folder / "mail"
    return len(list(mail.glob(f"{recipient}--*.eml"))) if mail.exists() else 0
