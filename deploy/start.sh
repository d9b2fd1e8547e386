#!/usr/bin/env bash
# KeneyApp's production topology on this host, against PostgreSQL and Redis:
#   web     gunicorn (WSGI, threaded workers): the HTTP API and the admin   WEB_BIND   127.0.0.1:8000
#   asgi    uvicorn (ASGI): /ws/ (websockets)                               ASGI_BIND  127.0.0.1:8001
#           (clients only send small JSON frames: uvicorn drops a socket sending frames above
#           WS_MAX_FRAME_BYTES, 64 KiB, instead of buffering up to its default 16 MiB)
#   worker  Celery worker: background tasks from the Redis broker
#   beat    Celery beat: the periodic schedule (django-celery-beat, in the database); one per site
# Worker counts come from the environment with defaults for a 2-core host (deploy/README.md).
# It runs in the foreground; SIGTERM or Ctrl-C stops every process, and so does any one of them
# exiting (a half-running topology is worse than none).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "deploy/start.sh: $*" >&2
    exit 2
}

missing=()
for name in SECRET_KEY FIELD_ENCRYPTION_KEYS DATABASE_URL REDIS_URL; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || fail "refusing to start without ${missing[*]} (see deploy/README.md)"
case "$DATABASE_URL" in
postgres://* | postgresql://*) ;;
*) fail "DATABASE_URL must point at PostgreSQL (postgresql://...): production never runs on SQLite" ;;
esac
case "${DEBUG:-}" in
"" | 0 | false | False | no | off) export DEBUG=0 ;;
*) fail "DEBUG=$DEBUG: the production topology runs with DEBUG off" ;;
esac

export WEB_BIND=${WEB_BIND:-127.0.0.1:8000}
export WEB_WORKERS=${WEB_WORKERS:-4}
export WEB_THREADS=${WEB_THREADS:-2}
ASGI_BIND=${ASGI_BIND:-127.0.0.1:8001}
ASGI_WORKERS=${ASGI_WORKERS:-1}
CELERY_CONCURRENCY=${CELERY_CONCURRENCY:-2}
CELERY_BEAT=${CELERY_BEAT:-1}
LOG_LEVEL=${LOG_LEVEL:-INFO}
# Each process has its own pool; a gunicorn thread holds at most one connection at a time, so a
# web worker needs DB_POOL_SIZE + DB_MAX_OVERFLOW >= WEB_THREADS and gains nothing above it.
export DB_POOL_SIZE=${DB_POOL_SIZE:-2}
export DB_MAX_OVERFLOW=${DB_MAX_OVERFLOW:-$((WEB_THREADS > DB_POOL_SIZE ? WEB_THREADS - DB_POOL_SIZE : 0))}
if ((DB_POOL_SIZE > 0 && DB_POOL_SIZE + DB_MAX_OVERFLOW < WEB_THREADS)); then
    echo "deploy/start.sh: warning: a pool of $((DB_POOL_SIZE + DB_MAX_OVERFLOW)) connections for" \
        "$WEB_THREADS threads per web worker: threads will queue for connections" >&2
fi
# Where gunicorn, uvicorn, celery and python live; VENV_BIN= (empty) takes them from PATH.
BIN=${VENV_BIN-.venv/bin}
BIN=${BIN:+$BIN/}

if [[ "${DEPLOY_RELEASE:-1}" == 1 ]]; then
    deploy/release.sh
fi

asgi_host=${ASGI_BIND%:*}
asgi_host=${asgi_host#[}
asgi_host=${asgi_host%]}
asgi_port=${ASGI_BIND##*:}

pids=()
stop_all() {
    trap - EXIT TERM INT
    ((${#pids[@]} == 0)) || kill -TERM "${pids[@]}" 2>/dev/null || true
    wait || true
}
trap stop_all EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

"${BIN}gunicorn" --config deploy/gunicorn.conf.py &
pids+=($!)
# --no-proxy-headers: uvicorn would take the client address from X-Forwarded-For itself; the app
# trusts that header only as far as NUM_PROXIES says (keneyapp/accounts/login_throttle.py), as
# under gunicorn, and reads the scheme from X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER).
"${BIN}uvicorn" keneyapp.asgi:application --host "$asgi_host" --port "$asgi_port" \
    --workers "$ASGI_WORKERS" --lifespan off --no-access-log --log-level "${LOG_LEVEL,,}" \
    --ws-max-size "${WS_MAX_FRAME_BYTES:-65536}" \
    --no-proxy-headers &
pids+=($!)
"${BIN}celery" --app keneyapp worker --loglevel "$LOG_LEVEL" --concurrency "$CELERY_CONCURRENCY" \
    --queues high,default,low --hostname "keneyapp-worker-$$@%h" &
pids+=($!)
if [[ "$CELERY_BEAT" == 1 ]]; then
    # No pidfile: beat's schedule and its last-run times live in the database.
    "${BIN}celery" --app keneyapp beat --loglevel "$LOG_LEVEL" \
        --scheduler django_celery_beat.schedulers:DatabaseScheduler --pidfile= &
    pids+=($!)
fi
echo "deploy/start.sh: web on $WEB_BIND ($WEB_WORKERS workers x $WEB_THREADS threads)," \
    "asgi on $ASGI_BIND ($ASGI_WORKERS), celery worker ($CELERY_CONCURRENCY), beat: $CELERY_BEAT" >&2

status=0
wait -n || status=$?
echo "deploy/start.sh: a process exited (status $status); stopping the others" >&2
exit $((status == 0 ? 1 : status))
