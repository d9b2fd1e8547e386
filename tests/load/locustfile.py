"""The performance guide's load test (its "Load Testing" section), on the API as it stands.

`KeneyAppUser` is the guide's user with its behaviour unchanged: it logs in once in `on_start`, waits
1 to 3 s between tasks, lists patients with weight 3 and books the guide's appointment (patient 1,
2025-12-15 10:00 clinic time, no provider) with weight 1 and reads the dashboard with weight 2.
The other tasks cover the rest of the guide's Target Metrics table (`GET /patients/{id}`,
`POST /patients`, `GET /appointments`).

Run it as the guide says, against a server seeded with `manage.py seed_demo`:

    locust -f tests/load/locustfile.py --host=http://127.0.0.1:8000

`make bench` runs it headless on the production topology and writes bench/results/latest.md.
Requests are named after the route (`/api/v1/patients/{id}`), so each endpoint has one line in
Locust's statistics whatever the id.

It is a FastHttpUser rather than the guide's HttpUser: same client calls, but about five times less
CPU per request, which matters when Locust shares a 2-core machine with the server it measures.
"""

import random
import uuid

from locust import FastHttpUser, between, task

USERNAME = "testuser"
PASSWORD = "testpass"  # the demo clinic's public demo password (manage.py seed_demo)
# Patients this test creates say so (for a reader of the admin); `make bench` soft-deletes every
# patient the API created (bench/services.py::retire_load_test_patients: seeded ones have no creator).
CREATED_BY_LOAD_TEST = "Created by the load test (tests/load/locustfile.py)."
# How `on_start` learns which patients its clinic has: one page of ids, sorted by name (so spread
# over the whole clinic). Named apart from the list so it does not count as a `list_patients`.
PATIENT_IDS_PAGE = "/api/v1/patients?fields=id&limit=100"


class KeneyAppUser(FastHttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        # Login
        response = self.client.post("/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD})
        self.token = response.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        response = self.client.get(PATIENT_IDS_PAGE, headers=self.headers)
        self.patient_ids = [row["id"] for row in response.json()["items"]]

    @task(3)
    def list_patients(self):
        self.client.get("/api/v1/patients", headers=self.headers)

    @task(2)
    def get_dashboard(self):
        self.client.get("/api/v1/dashboard/stats", headers=self.headers)

    @task(1)
    def create_appointment(self):
        self.client.post(
            "/api/v1/appointments",
            json={"patient_id": 1, "appointment_date": "2025-12-15T10:00:00", "reason": "Check-up"},
            headers=self.headers,
        )

    @task(2)
    def list_appointments(self):
        self.client.get("/api/v1/appointments", headers=self.headers)

    @task(2)
    def get_patient(self):
        patient_id = random.choice(self.patient_ids)
        self.client.get(f"/api/v1/patients/{patient_id}", headers=self.headers, name="/api/v1/patients/{id}")

    @task(1)
    def create_patient(self):
        self.client.post(
            "/api/v1/patients",
            json={
                "first_name": "Load",
                "last_name": f"Test {uuid.uuid4().hex[:8]}",
                "date_of_birth": "1990-05-17",
                "sex": "female",
                "phone_number": "+221 77 123 45 67",
                "notes": CREATED_BY_LOAD_TEST,
            },
            headers=self.headers,
        )
