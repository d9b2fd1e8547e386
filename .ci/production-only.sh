#!/usr/bin/env bash
# requirements.txt alone must run production: build a virtualenv from it (no dev requirements),
# import every module of the project with it, then start deploy/start.sh (gunicorn, uvicorn, the
# Celery worker and beat) on a scratch database and use each process once: a login and a list
# through gunicorn, a websocket through uvicorn, a task round trip through the worker, beat alive.
# Needs PostgreSQL and Redis on 127.0.0.1 (as .ci/run). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=${PROD_VENV:-$(mktemp -d)/prod-venv}
DB=keneyapp_production_only
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres

say() { printf '[production-only] %s\n' "$*"; }

say "virtualenv from requirements.txt alone: $VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt

dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
workdir=$(mktemp -d)
export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$DB" REDIS_URL=redis://127.0.0.1:6379/9
export SECRET_KEY=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
export FIELD_ENCRYPTION_KEYS=$("$VENV/bin/python" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
export DEBUG=0 ALLOWED_HOSTS=127.0.0.1,localhost STATIC_ROOT="$workdir/static" DOCUMENTS_ROOT="$workdir/documents"
export WEB_BIND=127.0.0.1:18610 ASGI_BIND=127.0.0.1:18611 WEB_WORKERS=1 WEB_THREADS=2 CELERY_CONCURRENCY=1
export VENV_BIN="$VENV/bin" PYTHONPATH="$PWD" LOG_LEVEL=WARNING

say "import every module of the project"
"$VENV/bin/python" - <<'PY'
import importlib, os, pathlib, pkgutil, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")
import django
django.setup()
root = pathlib.Path.cwd()
skip = {"tests", "bench"}  # development only: the test suite and the benchmark (Locust)
packages = sorted(p.name for p in root.iterdir() if (p / "__init__.py").exists() and p.name not in skip)
count = 0
for package in packages:
    module = importlib.import_module(package)
    count += 1
    for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
        importlib.import_module(info.name)
        count += 1
print(f"[production-only] imported {count} modules of {', '.join(packages)}")
PY

"$VENV/bin/python" manage.py migrate --noinput --verbosity 0
KENEYAPP_ADMIN_PASSWORD=production-only-admin-password "$VENV/bin/python" manage.py create_tenant \
    "Production Check" --admin-username prod.admin >/dev/null
# The check logs in as a doctor of that clinic: its administrator must enrol a second factor first
# (a clinic's default), which a script cannot do. Created as the admin would, with the policy's
# validators on the password.
"$VENV/bin/python" manage.py shell -c '
from django.contrib.auth.password_validation import validate_password
from keneyapp.accounts.models import Tenant, User
password = "production-only-check-password"
validate_password(password)
User.objects.create_user("prod.check", password=password, role="doctor",
                         tenant=Tenant.objects.get(name="Production Check"))
' >/dev/null

say "deploy/start.sh with that virtualenv"
deploy/start.sh >"$workdir/start.log" 2>&1 &
topology=$!
cleanup() {
    kill -TERM "$topology" 2>/dev/null || true
    wait "$topology" 2>/dev/null || true
    dropdb --if-exists "$DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$VENV/bin/python" - "$workdir/start.log" <<'PY'
import asyncio, json, subprocess, sys, time, urllib.request
from websockets.asyncio.client import connect

log = sys.argv[1]
web, asgi = "http://127.0.0.1:18610", "ws://127.0.0.1:18611"

def call(method, path, body=None, token=None):
    request = urllib.request.Request(web + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, json.loads(answer.read() or b"null")

deadline = time.monotonic() + 240  # the release step (migrate, collectstatic) runs first
while True:
    try:
        if call("GET", "/healthz")[0] == 200:
            break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("gunicorn did not answer:\n" + open(log).read()[-3000:])
    time.sleep(1)

status, pair = call("POST", "/api/v1/auth/login", {"username": "prod.check", "password": "production-only-check-password"})
assert status == 200, pair
status, page = call("GET", "/api/v1/patients?limit=5", token=pair["access_token"])
assert status == 200 and page["total"] == 0, page

async def websocket():
    async with connect(f"{asgi}/ws/notifications/", subprotocols=["bearer", pair["access_token"]]) as ws:
        await ws.send('{"type": "ping"}')
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
asyncio.run(websocket())

# The worker takes tasks from the broker (a round trip), and beat is still running.
from celery import Celery
app = Celery(broker="redis://127.0.0.1:6379/9")
deadline = time.monotonic() + 60
while not app.control.ping(timeout=1.0):
    if time.monotonic() > deadline:
        sys.exit("the Celery worker did not answer:\n" + open(log).read()[-3000:])
beat = subprocess.run(["pgrep", "-f", "celery --app keneyapp beat"], capture_output=True, text=True)
assert beat.stdout.strip(), "celery beat is not running:\n" + open(log).read()[-3000:]
print("[production-only] gunicorn (login, list), uvicorn (websocket), worker (ping), beat: all up")
PY
say "passed"
