#!/usr/bin/env bash
# Requests per second of GET /api/v1/patients (50 items, 10,000 patients in the clinic) against
# the trivial JSON view /healthz, served by the same gunicorn workers in the same run, on
# PostgreSQL. Alternates the two endpoints ROUNDS times and prints each round and the medians.
#   bench/wrk_patient_list.sh            # needs wrk (apt-get install wrk), PostgreSQL, Redis
set -euo pipefail
cd "$(dirname "$0")/.."

DB_NAME=${WRK_DB_NAME:-keneyapp_wrk}
PORT=${WRK_PORT:-8010}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-8}
PATIENTS=${PATIENTS:-10000}
export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$DB_NAME"
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/2}
export SECRET_KEY=${SECRET_KEY:-wrk-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export DEBUG=0 LOG_LEVEL=WARNING

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not running on 127.0.0.1:5432" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres "$DB_NAME"
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo --patients "$PATIENTS" --force | tail -n 1

.venv/bin/gunicorn keneyapp.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --threads 4 \
  --worker-class gthread --log-level warning &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

token=$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"username":"testuser","password":"testpass"}' "http://127.0.0.1:$PORT/api/v1/auth/login" \
  | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
list_url="http://127.0.0.1:$PORT/api/v1/patients?skip=0&limit=50"
curl -sf -H "Authorization: Bearer $token" "$list_url" \
  | .venv/bin/python -c 'import json,sys; b=json.load(sys.stdin); assert len(b["items"])==50, b; print("list check: 50 items of", b["total"])'

rps() { wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
baseline=(); listing=()
wrk -t2 -c"$CONNECTIONS" -d3s "http://127.0.0.1:$PORT/healthz" >/dev/null  # warm-up
wrk -t2 -c"$CONNECTIONS" -d3s -H "Authorization: Bearer $token" "$list_url" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  b=$(rps "http://127.0.0.1:$PORT/healthz")
  l=$(rps -H "Authorization: Bearer $token" "$list_url")
  baseline+=("$b"); listing+=("$l")
  echo "round $round: /healthz $b req/s, /api/v1/patients $l req/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mb=$(median "${baseline[@]}"); ml=$(median "${listing[@]}")
echo "median: /healthz $mb req/s, /api/v1/patients (50 of $PATIENTS) $ml req/s, ratio $(awk "BEGIN {printf \"%.3f\", $ml/$mb}")"
