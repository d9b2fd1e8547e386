"""Every door of the app, driven against real server processes: each API route and method (from
the URL resolver, so a new route is in the list the moment it exists), the API's login, refresh and
logout, the admin's login page, login, every changelist and logout, /healthz, /readyz and the
websocket handshake.

`Doors.run_api(...)` returns one `Answer` per request; the caller asserts on them. Used by
tests/faults/test_redis_outage.py (Redis down at start, Redis down mid-run).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from keneyapp.accounts.hashers import ClinicArgon2PasswordHasher
from keneyapp.accounts.roles import Role
from keneyapp.accounts.tokens import issue_access_token
from keneyapp.core.scoping import scopes_disabled
from tests.documents.helpers import PDF, make_document, make_pending_upload
from tests.factories import DEFAULT_PASSWORD, AppointmentFactory, MessageFactory, PatientFactory, UserFactory
from tests.live_servers import LiveServer, Response
from tests.test_role_matrix import OBJECTS
from tests.test_tenant_isolation import MULTIPART_ROUTES, api_routes, methods_of, url_of

# Every answer of every door must come within this (a generous bound for a noisy 2-core machine:
# a request that waits on a dead Redis without a timeout takes far longer, or forever).
ANSWER_WITHIN_SECONDS = 5.0
CLIENT_TIMEOUT_SECONDS = 15.0  # the client gives up later than the bound, so a hang is measured


@dataclass
class Answer:
    door: str  # "POST api/v1/patients", "GET /admin/...", ...
    status: int
    seconds: float
    body: bytes = b""
    expected: frozenset[int] = frozenset()

    def json(self):
        return json.loads(self.body)

    def problem(self) -> str | None:
        """What is wrong with this answer, or None."""
        if self.status >= 500:
            return f"{self.door}: {self.status} {self.body[:300]!r}"
        if self.expected and self.status not in self.expected:
            return f"{self.door}: {self.status}, expected {sorted(self.expected)}: {self.body[:300]!r}"
        if self.seconds > ANSWER_WITHIN_SECONDS:
            return f"{self.door}: answered in {self.seconds:.1f} s (bound {ANSWER_WITHIN_SECONDS} s)"
        return None


def problems(answers: list[Answer]) -> list[str]:
    return [problem for answer in answers if (problem := answer.problem()) is not None]


def timed(door: str, call, expected=()) -> Answer:
    started = time.monotonic()
    try:
        response = call()
    except OSError as error:  # a timeout or a reset: the door did not answer
        return Answer(door, 599, time.monotonic() - started, repr(error).encode(), frozenset(expected))
    return Answer(door, response.status, time.monotonic() - started, response.body, frozenset(expected))


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def raw_request(server: LiveServer, method: str, path: str, *, token: str, data: bytes, content_type: str):
    request = urllib.request.Request(  # noqa: S310 (loopback)
        server.url + path,
        data=data,
        method=method,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_SECONDS) as answer:  # noqa: S310
            return Response(answer.status, answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read())


@dataclass
class Call:
    name: str  # the route's name
    method: str
    path: str
    expected: tuple[int, ...]
    body: dict | None = None
    files: dict | None = None  # multipart: {"field": (filename, bytes, type)}, with `body` as form fields


@dataclass
class Doors:
    """The people and the rows the doors are driven with, in one clinic."""

    clinic: object
    doctor: object = field(init=False)
    nurse: object = field(init=False)
    superuser: object = field(init=False)
    driven: set = field(init=False, default_factory=set)  # (route name, method) driven so far

    def __post_init__(self):
        with scopes_disabled():
            self.doctor = UserFactory(
                tenant=self.clinic, role=Role.DOCTOR, username=f"door-doctor-{self.clinic.pk}"
            )
            self.nurse = UserFactory(
                tenant=self.clinic, role=Role.NURSE, username=f"door-nurse-{self.clinic.pk}"
            )
            self.superuser = UserFactory(
                username=f"door-root-{self.clinic.pk}", tenant=None, role="", is_superuser=True, is_staff=True
            )
            # The servers check passwords with production's hashers (the suite's is MD5).
            hasher = ClinicArgon2PasswordHasher()
            for user in (self.doctor, self.superuser):
                user.password = hasher.encode(DEFAULT_PASSWORD, hasher.salt())
                user.save(update_fields=["password"])

    def token(self, user=None) -> str:
        return issue_access_token(user=user or self.doctor)

    # --- the API ------------------------------------------------------------------------------
    def api_calls(self, phase: int) -> list[Call]:
        """A request that does real work for each route and method (fresh rows for each phase:
        `phase` keeps bookings apart in time), then, for any route this list does not know yet,
        a bare request like the role matrix's: every route is driven."""
        with scopes_disabled():
            patient = PatientFactory(tenant=self.clinic)
            doomed_patient = PatientFactory(tenant=self.clinic)
            appointment = AppointmentFactory(tenant=self.clinic, provider=self.doctor, patient=patient)
            cancelled = AppointmentFactory(tenant=self.clinic, provider=self.doctor, patient=patient)
            document = make_document(self.clinic, patient=patient)
            doomed_document = make_document(self.clinic, patient=patient)
            pending = make_pending_upload(self.clinic)
            to_me = MessageFactory(tenant=self.clinic, receiver=self.doctor, sender=self.nurse)
        when = (timezone.now() + timedelta(days=30 + phase)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        day = when.date().isoformat()
        pdf = ("lab.pdf", PDF, "application/pdf")
        calls = [
            Call("auth-me", "get", "/api/v1/auth/me", (200,)),
            Call("patient-list", "get", "/api/v1/patients", (200,)),
            Call(
                "patient-list",
                "post",
                "/api/v1/patients",
                (201,),
                {
                    "first_name": "Khady",
                    "last_name": "Ndiaye",
                    "date_of_birth": "1985-01-02",
                    "sex": "female",
                },
            ),
            Call("patient-detail", "get", f"/api/v1/patients/{patient.pk}", (200,)),
            Call(
                "patient-detail",
                "patch",
                f"/api/v1/patients/{patient.pk}",
                (200,),
                {"first_name": f"Phase{phase}"},
            ),
            Call("patient-detail", "delete", f"/api/v1/patients/{doomed_patient.pk}", (204,)),
            Call("patient-appointments", "get", f"/api/v1/patients/{patient.pk}/appointments", (200,)),
            # Queues generate_report on the broker (REDIS_URL): with it down, still 202, logged.
            Call("patient-report", "post", f"/api/v1/patients/{patient.pk}/report", (202,), {}),
            Call("appointment-list", "get", "/api/v1/appointments", (200,)),
            Call(
                "appointment-list",
                "post",
                "/api/v1/appointments",
                (201,),
                {
                    "patient_id": patient.pk,
                    "provider_id": self.doctor.pk,
                    "appointment_date": when.isoformat(),
                },
            ),
            Call("appointment-detail", "get", f"/api/v1/appointments/{appointment.pk}", (200,)),
            Call(
                "appointment-detail",
                "patch",
                f"/api/v1/appointments/{appointment.pk}",
                (200,),
                {"notes": "ok"},
            ),
            Call(
                "appointment-cancel",
                "post",
                f"/api/v1/appointments/{cancelled.pk}/cancel",
                (200,),
                {"reason": "x"},
            ),
            Call(
                "appointment-availability",
                "get",
                f"/api/v1/appointments/availability?provider_id={self.doctor.pk}&date_from={day}&date_to={day}",
                (200,),
            ),
            Call("document-list", "get", "/api/v1/documents", (200,)),
            Call(
                "document-upload",
                "post",
                "/api/v1/documents/upload",
                (201,),
                {"patient_id": str(patient.pk), "category": "lab_result"},
                {"file": pdf},
            ),
            # Presign and confirm need S3 (CI's run has moto); on local storage they are a 409.
            Call(
                "document-presign",
                "post",
                "/api/v1/documents/presign",
                (201, 409),
                {
                    "patient_id": patient.pk,
                    "category": "lab_result",
                    "filename": "a.pdf",
                    "content_type": "application/pdf",
                    "size": len(PDF),
                },
            ),
            Call("document-confirm", "post", f"/api/v1/documents/{pending.pk}/confirm", (200, 409), {}),
            Call("document-detail", "get", f"/api/v1/documents/{document.pk}", (200,)),
            Call("document-download", "get", f"/api/v1/documents/{document.pk}/download", (200, 302)),
            Call("document-versions", "get", f"/api/v1/documents/{document.pk}/versions", (200,)),
            Call(
                "document-versions",
                "post",
                f"/api/v1/documents/{document.pk}/versions",
                (201,),
                {},
                {"file": pdf},
            ),
            Call("document-detail", "delete", f"/api/v1/documents/{doomed_document.pk}", (204,)),
            Call("message-list", "get", "/api/v1/messages", (200,)),
            # Urgent: queues the email on the broker, and publishes live events on the channel layer.
            Call(
                "message-list",
                "post",
                "/api/v1/messages",
                (201,),
                {"receiver_id": self.nurse.pk, "body": f"Phase {phase}", "is_urgent": True},
            ),
            Call("message-detail", "get", f"/api/v1/messages/{to_me.pk}", (200,)),
            Call("message-read", "post", f"/api/v1/messages/{to_me.pk}/read", (200,), {}),
            Call("message-read-all", "post", "/api/v1/messages/read-all", (200,), {}),
            Call("message-unread-count", "get", "/api/v1/messages/unread-count", (200,)),
            Call("dashboard-stats", "get", "/api/v1/dashboard/stats", (200,)),
        ]
        known = {(call.name, call.method) for call in calls} | {(name, "post") for name in LOGIN_ROUTES}
        for name, (route, entry) in sorted(api_routes().items()):
            for method in methods_of(entry):
                if (name, method) in known:
                    continue
                with scopes_disabled():
                    obj = OBJECTS[name](self.doctor) if name in OBJECTS else None
                files = {"file": pdf} if name in MULTIPART_ROUTES else None
                calls.append(Call(name, method, url_of(route, getattr(obj, "pk", None)), (), {}, files))
        return calls

    def run_api(self, server: LiveServer, phase: int) -> list[Answer]:
        token = self.token()
        answers = []
        calls = self.api_calls(phase)
        self.driven |= {(call.name, call.method) for call in calls}
        for call in calls:
            door = f"{call.method.upper()} {call.path}"
            if call.files is not None:
                data, content_type = multipart({k: str(v) for k, v in (call.body or {}).items()}, call.files)
                send = partial(
                    raw_request, server, call.method.upper(), call.path, token=token, data=data,
                    content_type=content_type,
                )  # fmt: skip
            else:
                body = call.body if call.method != "get" else None
                send = partial(
                    server.request, call.method.upper(), call.path, token=token, body=body,
                    timeout=CLIENT_TIMEOUT_SECONDS,
                )  # fmt: skip
            answers.append(timed(door, send, call.expected))
        for path in ("/api/schema/", "/api/docs/"):
            answers.append(timed(f"GET {path}", partial(server.request, "GET", path, token=token), (200,)))
        return answers

    # --- rows watched for freshness across an outage ------------------------------------------
    def run_api_rows(self, server: LiveServer) -> int:
        """A patient whose detail and search page are read twice: cached in both levels."""
        with scopes_disabled():
            patient = PatientFactory(tenant=self.clinic, first_name="Before", last_name="Zwatched")
        self.read_rows(server, patient.pk)
        return patient.pk

    def read_rows(self, server: LiveServer, patient_id: int) -> tuple[str, str]:
        token = self.token()
        for _ in range(2):
            detail = server.request("GET", f"/api/v1/patients/{patient_id}", token=token)
            page = server.request("GET", "/api/v1/patients?search=zwatched", token=token)
            assert (detail.status, page.status) == (200, 200), (detail.body, page.body)
        return detail.json()["first_name"], page.json()["items"][0]["first_name"]

    def write_rows(self, server: LiveServer, patient_id: int, name: str) -> str:
        answer = timed(
            f"PATCH /api/v1/patients/{patient_id}",
            lambda: server.request(
                "PATCH", f"/api/v1/patients/{patient_id}", token=self.token(), body={"first_name": name}
            ),
            (200,),
        )
        assert answer.problem() is None, answer.problem()
        return name

    def assert_rows_fresh(self, server: LiveServer, patient_id: int, name: str) -> None:
        assert self.read_rows(server, patient_id) == (name, name)

    # --- the API's login, refresh and logout ----------------------------------------------------
    def login(self, server: LiveServer) -> dict:
        answer = server.request(
            "POST",
            "/api/v1/auth/login",
            body={"username": self.doctor.username, "password": DEFAULT_PASSWORD},
        )
        assert answer.status == 200, answer.body
        return answer.json()

    def run_api_login(self, server: LiveServer) -> list[Answer]:
        self.driven |= {(name, "post") for name in LOGIN_ROUTES}
        user = self.doctor
        login = timed(
            "POST /api/v1/auth/login",
            lambda: server.request(
                "POST",
                "/api/v1/auth/login",
                body={"username": user.username, "password": DEFAULT_PASSWORD},
                timeout=CLIENT_TIMEOUT_SECONDS,
            ),
            (200,),
        )
        answers = [login]
        if login.status != 200:
            return answers
        refresh = timed(
            "POST /api/v1/auth/refresh",
            lambda: server.request(
                "POST", "/api/v1/auth/refresh", body={"refresh_token": login.json()["refresh_token"]}
            ),
            (200,),
        )
        answers.append(refresh)
        if refresh.status != 200:
            return answers
        pair = refresh.json()
        answers.append(
            timed(
                "GET /api/v1/auth/me (refreshed token)",
                lambda: server.request("GET", "/api/v1/auth/me", token=pair["access_token"]),
                (200,),
            )
        )
        answers.append(
            timed(
                "POST /api/v1/auth/logout",
                lambda: server.request(
                    "POST",
                    "/api/v1/auth/logout",
                    token=pair["access_token"],
                    body={"refresh_token": pair["refresh_token"]},
                ),
                (204,),
            )
        )
        answers.append(
            timed(
                "GET /api/v1/auth/me (after logout)",
                lambda: server.request("GET", "/api/v1/auth/me", token=pair["access_token"]),
                (401,),
            )
        )
        return answers

    def run_login_throttle(self, server: LiveServer, failures: int) -> list[Answer]:
        """`failures` wrong passwords for a fresh user, then the right one: refused (429)."""
        with scopes_disabled():
            user = UserFactory(tenant=self.clinic, username=f"throttled-{uuid.uuid4().hex[:8]}")
            hasher = ClinicArgon2PasswordHasher()
            user.password = hasher.encode(DEFAULT_PASSWORD, hasher.salt())
            user.save(update_fields=["password"])
        answers = []
        for _ in range(failures):
            answers.append(
                timed(
                    "POST /api/v1/auth/login (wrong password)",
                    lambda: server.request(
                        "POST", "/api/v1/auth/login", body={"username": user.username, "password": "wrong"}
                    ),
                    (401,),
                )
            )
        answers.append(
            timed(
                "POST /api/v1/auth/login (right password, after the failures)",
                lambda: server.request(
                    "POST",
                    "/api/v1/auth/login",
                    body={"username": user.username, "password": DEFAULT_PASSWORD},
                ),
                (429,),
            )
        )
        return answers

    # --- the admin ------------------------------------------------------------------------------
    def run_admin(self, server: LiveServer) -> list[Answer]:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def fetch(path: str, form: dict | None = None) -> Response:
            data = None if form is None else urllib.parse.urlencode(form).encode()
            request = urllib.request.Request(server.url + path, data=data)  # noqa: S310 (loopback)
            try:
                with opener.open(request, timeout=CLIENT_TIMEOUT_SECONDS) as answer:
                    return Response(answer.status, answer.read())
            except urllib.error.HTTPError as error:
                return Response(error.code, error.read())

        def csrf(page: bytes) -> str:
            found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            return found.group(1).decode() if found else ""

        answers = [page := timed("GET /admin/login/", lambda: fetch("/admin/login/"), (200,))]
        form = {
            "csrfmiddlewaretoken": csrf(page.body),
            "username": self.superuser.username,
            "password": DEFAULT_PASSWORD,
            "next": "/admin/",
        }
        # The redirect to /admin/ is followed: the index must show, signed in.
        login = timed("POST /admin/login/", lambda: fetch("/admin/login/?next=/admin/", form), (200,))
        answers.append(login)
        if b"logout" not in login.body.lower():
            login.status, login.expected = 599, frozenset({200})
            login.body = b"not signed in: " + login.body[:300]
            return answers
        last = login
        for model in admin.site._registry:
            path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            last = timed(f"GET {path}", partial(fetch, path), (200,))
            answers.append(last)
        answers.append(
            timed(
                "POST /admin/logout/",
                lambda: fetch("/admin/logout/", {"csrfmiddlewaretoken": csrf(last.body)}),
                (200,),
            )
        )
        return answers

    # --- health ---------------------------------------------------------------------------------
    @staticmethod
    def run_health(server: LiveServer, *, ready: tuple[int, ...]) -> list[Answer]:
        return [
            timed("GET /healthz", lambda: server.request("GET", "/healthz"), (200,)),
            timed("GET /readyz", lambda: server.request("GET", "/readyz"), ready),
        ]


LOGIN_ROUTES = {"auth-login", "auth-refresh"}


@dataclass
class SocketOutcome:
    """What a websocket handshake gave: "open" (and a ping answered), "closed" (code, reason) or
    "refused" (HTTP status), and how long it took."""

    kind: str
    seconds: float
    code: int | None = None
    reason: str = ""
    status: int | None = None


async def _handshake(url: str, token: str) -> SocketOutcome:
    started = time.monotonic()
    try:
        async with connect(
            url, subprotocols=["bearer", token], open_timeout=CLIENT_TIMEOUT_SECONDS
        ) as socket:
            try:
                await socket.send('{"type": "ping"}')
                frame = json.loads(await asyncio.wait_for(socket.recv(), CLIENT_TIMEOUT_SECONDS))
            except ConnectionClosed as closed:
                frame = None
                code = closed.rcvd.code if closed.rcvd else None
                reason = closed.rcvd.reason if closed.rcvd else ""
                return SocketOutcome("closed", time.monotonic() - started, code, reason)
            assert frame == {"type": "pong"}, frame
            return SocketOutcome("open", time.monotonic() - started)
    except InvalidStatus as refused:
        return SocketOutcome("refused", time.monotonic() - started, status=refused.response.status_code)
    except (OSError, TimeoutError) as error:
        return SocketOutcome("failed", time.monotonic() - started, reason=repr(error))


def websocket_handshake(server: LiveServer, token: str) -> SocketOutcome:
    return asyncio.run(_handshake(f"{server.ws_url}/ws/notifications/", token))
