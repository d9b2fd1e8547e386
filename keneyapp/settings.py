"""KeneyApp settings: one module, every knob read from the environment once, with a safe default.

With no environment at all the app runs on SQLite, an in-process cache and eager Celery tasks, so
`make run` works on a machine with nothing but Python. Production and CI set `DATABASE_URL` and
`REDIS_URL`; the README's configuration table lists every variable read here.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from keneyapp.core.secret_key import DEVELOPMENT_FIELD_KEY, DEVELOPMENT_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return default if value in (None, "") else int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return default if value in (None, "") else float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# --- Core -----------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
# The fallback key is for DEBUG and the test suite only: with DEBUG off every entry point refuses to
# start without a real one (keneyapp/core/secret_key.py), and `check --deploy` flags it (W009).
SECRET_KEY = env_str("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
# Former keys, still accepted when reading signatures and tokens (not used to sign): put the old
# key here when rotating SECRET_KEY, and remove it once its sessions and tokens have expired.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# Keys of the clinical free text stored encrypted (keneyapp/core/encrypted_fields.py): urlsafe
# base64 of 32 random bytes each, comma-separated, newest first. The newest encrypts; the others
# still decrypt, until `manage.py rotate_field_encryption_keys` has rewritten their rows. Kept apart
# from SECRET_KEY (a leaked signing key must not open the data); `check --deploy` refuses the
# development fallback and a key equal to or derived from SECRET_KEY (keneyapp/core/secret_key.py).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS") or [DEVELOPMENT_FIELD_KEY]
# Off: new writes are stored in clear (reads still decrypt what is encrypted). For the benchmark's
# "off" side only; production keeps it on (`check --deploy` refuses it off).
FIELD_ENCRYPTION = env_bool("FIELD_ENCRYPTION", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_celery_beat",
    "csp",
    # TOTP devices for the staff's second factor (keneyapp/accounts/mfa.py); before accounts, whose
    # admin unregisters django-otp's own device admin.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "keneyapp.core",
    "keneyapp.accounts",
    "demo",
    "dashboard",
    "patients",
    "appointments",
    "messaging",
    "documents",
]

MIDDLEWARE = [
    # Outermost, so X-Process-Time covers everything below, compression included.
    "keneyapp.core.middleware.ProcessTimeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "keneyapp.core.middleware.MinimumSizeGZipMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication, so an admin session's own language and clinic's default count.
    "keneyapp.core.language.UserLanguageMiddleware",
    "keneyapp.core.middleware.ClinicScopeMiddleware",
    # In the clinic scope, so what it records is read (and flushed) there.
    "keneyapp.core.middleware.AdminAuditMiddleware",
    "keneyapp.core.middleware.ClinicTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages, so the login page can say why the session ended.
    "keneyapp.accounts.admin_sessions.AdminSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "keneyapp.core.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "keneyapp.urls"
WSGI_APPLICATION = "keneyapp.wsgi.application"
ASGI_APPLICATION = "keneyapp.asgi.application"
# API paths are exact (`/api/v1/patients`); a redirect to a slash is not an answer.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The admin's base_site.html (product and clinic in the header, the desk's style, the
        # language link) overrides django.contrib.admin's, which the app loader would find first.
        "DIRS": [BASE_DIR / "keneyapp" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# The guide's pool knobs. On PostgreSQL they drive psycopg's pool (Django's OPTIONS["pool"]):
# min_size = DB_POOL_SIZE, max_size = DB_POOL_SIZE + DB_MAX_OVERFLOW. DB_POOL_SIZE=0 turns the pool
# off and falls back to persistent connections (CONN_MAX_AGE = DB_POOL_RECYCLE) with health checks.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DB_POOL_SIZE = env_int("DB_POOL_SIZE", 10)
DB_MAX_OVERFLOW = env_int("DB_MAX_OVERFLOW", 10)
DB_POOL_TIMEOUT = env_float("DB_POOL_TIMEOUT", 30)
DB_POOL_RECYCLE = env_int("DB_POOL_RECYCLE", 1800)
DB_POOL_PRE_PING = env_bool("DB_POOL_PRE_PING", True)
# How long the pool keeps retrying one failed connection attempt before it gives up on it. psycopg's
# default (300 s) doubles the wait between retries with no ceiling, so after a 40 s outage the next
# retry could be 30 s away while every request waited DB_POOL_TIMEOUT and answered 503. Given up
# early, the next request that needs a connection starts a fresh attempt at once: the pool finds a
# restarted database within a second or two of its return (tests/faults/test_database_restart.py).
DB_POOL_RECONNECT_TIMEOUT = env_float("DB_POOL_RECONNECT_TIMEOUT", 5)

DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if DB_POOL_SIZE > 0:
        pool = {
            "min_size": DB_POOL_SIZE,
            "max_size": DB_POOL_SIZE + DB_MAX_OVERFLOW,
            "timeout": DB_POOL_TIMEOUT,
            "max_lifetime": float(DB_POOL_RECYCLE),
            "reconnect_timeout": DB_POOL_RECONNECT_TIMEOUT,
        }
        DATABASES["default"]["OPTIONS"] = {"pool": pool}
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = DB_POOL_RECYCLE
    # The guide's pre-ping: Django checks a connection before reuse (with the pool, psycopg's
    # check_connection runs as the pool lends it), so a dropped connection is replaced, not failed.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = DB_POOL_PRE_PING
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the single embedded server read while it writes; IMMEDIATE transactions take the
    # write lock up front, so two bookings cannot both read "free" and then both write.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "keneyapp",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "keneyapp",
            "KEY_PREFIX": "keneyapp",
        }
    }
# The two-level cache service (keneyapp/core/caching): the in-process level's bounds, the size from
# which values are compressed, and the size above which a value is served uncached.
CACHE_L1_MAX_ENTRIES = env_int("CACHE_L1_MAX_ENTRIES", 10_000)
CACHE_L1_MAX_BYTES = env_int("CACHE_L1_MAX_BYTES", 64 * 1024 * 1024)
CACHE_L1_MAX_SECONDS = env_int("CACHE_L1_MAX_SECONDS", 30)
CACHE_COMPRESS_MIN_BYTES = env_int("CACHE_COMPRESS_MIN_BYTES", 1024)
CACHE_MAX_VALUE_BYTES = env_int("CACHE_MAX_VALUE_BYTES", 1024 * 1024)
# Seconds between two additions of a process's hit/miss counts to the shared hash cache_stats reads.
CACHE_STATS_FLUSH_SECONDS = env_int("CACHE_STATS_FLUSH_SECONDS", 10)
# Patient detail and first list pages served from the cache (patients/cache.py); 0 turns it off,
# e.g. to benchmark with and without it. Writes invalidate either way.
CACHE_API_RESPONSES = env_bool("CACHE_API_RESPONSES", True)

# --- Celery -------------------------------------------------------------------------------------
# No broker configured means the embedded mode: tasks run eagerly, in the caller's process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None  # no task's caller waits for a result
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged when it finishes, so a worker killed mid-task leaves it to another.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The guide's priorities as separate queues (a flood of reports never delays an urgent
# notification): high = urgent notifications, default = reports and reminders, low = maintenance.
# CELERY_TASK_ROUTES below is the one table of which task runs on which queue. Workers consume
# `-Q high,default,low` and Redis serves the queues in that order ("priority" strategy), so a
# queue is the priority: Redis' per-message priorities (where 0 is the highest) are not used.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_CREATE_MISSING_QUEUES = True
# Declared, in order, so that a worker started without -Q consumes all three (otherwise it
# consumes only the default queue and tasks routed to high or low wait forever).
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in ("high", "default", "low")]
# Late acks on Redis: a task delivered to a worker that dies without acknowledging it (the whole
# worker killed, the host lost) stays in Redis' "unacked" set and goes back to its queue once it is
# older than the visibility timeout, restored by any worker still polling (or the restarted one).
# It must be longer than the slowest task and the longest countdown a task retries with (a task
# waiting for its ETA is unacknowledged too, and would be delivered twice): 1 hour. Tests of
# faults shorten it for their worker subprocess (deploy/README.md, "Faults and recovery").
CELERY_VISIBILITY_TIMEOUT_SECONDS = env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "queue_order_strategy": "priority",
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    # A request that queues work while the broker is unreachable must still answer quickly: kombu
    # passes no connect timeout (the OS's is about 2 minutes against a host that drops packets),
    # and no read timeout (a broker that stops answering without closing the connection, a
    # partition, a frozen Redis, would hold the request forever). The read timeout outlives kombu's
    # 1 s BRPOP, so an idle worker's wait is not cut short (tests/core/test_redis_blocking_reads.py).
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
# A publish that fails is not tried again: the caller logs the task as not queued
# (keneyapp/core/tasks.py) and the work a lost queueing could strand is swept up later (urgent
# notifications, reports: docs/architecture.md "Background work"). Celery's default (3 retries,
# each a reconnection and a read) kept a request waiting 4 x 2 read timeouts on a frozen broker; one
# retry still took 6 s. A connection that died with a restarted Redis is noticed before the
# publish (kombu's health check), so the first task after a restart is queued.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
# A worker whose broker goes away reconnects for as long as it takes (Celery's default gives up
# after 100 attempts, some 50 minutes, and the worker exits): work resumes when Redis is back.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_ROUTES = {
    "appointments.send_appointment_reminders": {"queue": "default"},
    "dashboard.warm_dashboard_cache": {"queue": "low"},
    "documents.generate_report": {"queue": "default"},
    "documents.cleanup_old_files": {"queue": "low"},
    "documents.sweep_stale_reports": {"queue": "low"},
    "documents.sweep_orphan_objects": {"queue": "low"},
    "messaging.send_urgent_notification": {"queue": "high"},
    # With the notifications it queues: recovering an urgent email waits behind no report.
    "messaging.sweep_urgent_notifications": {"queue": "high"},
    "core.flag_unusual_access": {"queue": "low"},
}
CELERY_TIMEZONE = "UTC"

# --- Live events (Channels) -----------------------------------------------------------------------
# Websockets under /ws/ (keneyapp/asgi.py, messaging/consumers.py). With Redis, channels-redis
# carries events between processes (a message posted to a WSGI worker reaches a socket held by an
# ASGI worker); without, the in-memory layer serves the single embedded process.
CHANNELS_REDIS_URL = env_str("CHANNELS_REDIS_URL") or REDIS_URL
# Per-channel queue bound: a socket whose client stops reading holds at most this many pending
# events in Redis, then further events to it are dropped (it catches up from the API). 500 covers
# a burst of 250 messages (two events each) to one person without a drop.
CHANNEL_LAYER_CAPACITY = env_int("CHANNEL_LAYER_CAPACITY", 500)
# Check every event against its declared shape, and serialise it, when it is published
# (keneyapp/core/events.py): a mistake raises. On in the tests; off in production, where a
# mistake is logged and the event dropped (the database is the record).
LIVE_EVENTS_STRICT = env_bool("LIVE_EVENTS_STRICT", False)
# An event not picked up within this many seconds is dropped: a stale notification is worthless
# (the database is the record) and must not pile up in Redis.
CHANNEL_LAYER_EXPIRY_SECONDS = env_int("CHANNEL_LAYER_EXPIRY_SECONDS", 60)
# Group memberships expire unless refreshed; every socket refreshes its groups on each heartbeat,
# so the channels of a crashed process leave their groups within this time instead of a day.
CHANNEL_LAYER_GROUP_EXPIRY_SECONDS = env_int("CHANNEL_LAYER_GROUP_EXPIRY_SECONDS", 300)
# How long a read from the channel layer's Redis may wait. It must exceed channels-redis' blocking
# BZPOPMIN (RedisChannelLayer.brpop_timeout, 5 s), or every idle socket's consumer dies.
CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS = env_float("CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS", 30)
if CHANNELS_REDIS_URL:
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # An explicit socket timeout longer than channels-redis' blocking read: redis-py 8
                # defaults to 5 s, the same as that BZPOPMIN, so every idle socket's consumer died
                # after ~5 s with TimeoutError (channels_redis issue 422). Finite, so a dead
                # connection is still noticed (tests/messaging/test_idle_sockets.py).
                "hosts": [
                    {
                        "address": CHANNELS_REDIS_URL,
                        "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS,
                        "socket_connect_timeout": 2,
                        # A pooled connection that died with a restarted Redis fails its next
                        # command: that command is sent once more on a new connection, so the
                        # first handshake or event after Redis is back does not fail too.
                        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                        "retry_on_error": [RedisConnectionError],
                    }
                ],
                "prefix": "keneyapp:asgi",
                "capacity": CHANNEL_LAYER_CAPACITY,
                "expiry": CHANNEL_LAYER_EXPIRY_SECONDS,
                "group_expiry": CHANNEL_LAYER_GROUP_EXPIRY_SECONDS,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {
                "capacity": CHANNEL_LAYER_CAPACITY,
                "expiry": CHANNEL_LAYER_EXPIRY_SECONDS,
                "group_expiry": CHANNEL_LAYER_GROUP_EXPIRY_SECONDS,
            },
        }
    }
# The guide's limit: open sockets per user, counted across every server process (in Redis when
# CHANNELS_REDIS_URL is set, in-process otherwise); the next one is closed with 1008.
MAX_WS_CONNECTIONS_PER_USER = env_int("MAX_WS_CONNECTIONS_PER_USER", 5)
# How often a socket refreshes its connection slot and its group memberships; a slot not refreshed
# for 3 heartbeats (its process crashed) is free again.
WS_HEARTBEAT_SECONDS = env_float("WS_HEARTBEAT_SECONDS", 30)
# The guide's batching: a burst of events to one socket goes out up to WS_BATCH_SIZE per frame, at
# most WS_BATCH_INTERVAL_MS apart; a lone event goes out at once.
WS_BATCH_SIZE = env_int("WS_BATCH_SIZE", 10)
WS_BATCH_INTERVAL_MS = env_int("WS_BATCH_INTERVAL_MS", 100)
# Frames a client may send (token bucket: this many per second, bursts up to WS_CLIENT_FRAME_BURST);
# beyond, the socket gets an error event and is closed with 1008. Clients only send pings.
WS_CLIENT_FRAMES_PER_SECOND = env_float("WS_CLIENT_FRAMES_PER_SECOND", 5)
WS_CLIENT_FRAME_BURST = env_int("WS_CLIENT_FRAME_BURST", 20)
WS_CLIENT_FRAME_MAX_BYTES = env_int("WS_CLIENT_FRAME_MAX_BYTES", 4096)
# The longest message body accepted (characters); longer is a 400 naming `body`.
MESSAGE_BODY_MAX_CHARS = env_int("MESSAGE_BODY_MAX_CHARS", 10_000)

# --- Email and reminders ------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "KeneyApp <no-reply@keneyapp.local>")
REMINDER_WINDOW_HOURS = env_int("REMINDER_WINDOW_HOURS", 24)
# A reminder being sent is claimed for this long (appointments/reminders.py): no other run sends it
# meanwhile; a worker killed before it marked the reminder sent leaves a claim that expires, and
# the next run after that sends it. Far longer than one SMTP send (EMAIL_TIMEOUT), so a live claim
# is never taken over; shorter than beat's 10 minutes, so that next run is the next one or two.
REMINDER_CLAIM_SECONDS = env_int("REMINDER_CLAIM_SECONDS", 5 * 60)
# An urgent notification being sent is claimed for this long (messaging/tasks.py): no other
# delivery sends it meanwhile; a worker killed before it marked the email sent leaves a claim that
# expires, and a redelivery or the sweep sends it then. Far longer than one SMTP send
# (EMAIL_TIMEOUT, with its connection), so a live claim is never taken over.
URGENT_NOTIFY_CLAIM_SECONDS = env_int("URGENT_NOTIFY_CLAIM_SECONDS", 2 * 60)
# The sweep of urgent notifications (messaging.sweep_urgent_notifications, beat every minute) queues
# again the email of an urgent message still unread and not notified this long after it was
# written (its queueing was lost to a broker outage, or its worker died), up to this age: a day-old
# urgent email is noise, the message is in the inbox.
URGENT_NOTIFY_SWEEP_DELAY_SECONDS = env_int("URGENT_NOTIFY_SWEEP_DELAY_SECONDS", 60)
URGENT_NOTIFY_MAX_AGE_SECONDS = env_int("URGENT_NOTIFY_MAX_AGE_SECONDS", 24 * 60 * 60)
# The address of the app as its users reach it (no trailing slash needed): emails link there
# instead of carrying what they are about (keneyapp/core/emails.py).
APP_BASE_URL = env_str("APP_BASE_URL", "http://localhost:8000")

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Argon2id with OWASP's parameters (keneyapp/accounts/hashers.py): far cheaper per login than
# PBKDF2's 1M rounds or Django's Argon2 defaults on a small host. PBKDF2 verifies older hashes.
PASSWORD_HASHERS = [
    "keneyapp.accounts.hashers.ClinicArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Every password set through a form or a service is checked (the admin's add and password pages,
# for clinic admins and superusers alike, manage.py changepassword, create_tenant): at least 12
# characters (Django's default of 8 is below NIST SP 800-63B's advice for a single factor), not a
# common password, not close to the username, names or email, not digits only. seed_demo alone
# sets the demo's public passwords directly (demo/seeding.py says why).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# How long an API request may trust the cached user and clinic (keneyapp/accounts/api_users.py) when
# they were changed outside the admin; admin changes apply at once.
AUTH_USER_CACHE_SECONDS = env_int("AUTH_USER_CACHE_SECONDS", 60)
ACCESS_TOKEN_TTL_SECONDS = env_int("ACCESS_TOKEN_TTL_SECONDS", 15 * 60)
REFRESH_TOKEN_TTL_SECONDS = env_int("REFRESH_TOKEN_TTL_SECONDS", 14 * 24 * 3600)
# A rotated refresh token presented again within this many seconds is refused without revoking
# the login (two tabs refreshing at once); later, it is treated as stolen and the login revoked.
REFRESH_REUSE_GRACE_SECONDS = env_int("REFRESH_REUSE_GRACE_SECONDS", 10)
# Failed logins allowed per window before further attempts get 429 (successful logins never count,
# so a clinic's staff logging in together, or a load test, is never throttled).
LOGIN_MAX_FAILURES_PER_USERNAME = env_int("LOGIN_MAX_FAILURES_PER_USERNAME", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
# Multi-factor login (keneyapp/accounts/mfa.py). After the password, a user who has a TOTP device
# gets an mfa_token (API) or the code step (admin) valid this long, for at most MFA_TOKEN_MAX_ATTEMPTS
# codes; failed codes count on the login throttle's counters above.
MFA_TOKEN_TTL_SECONDS = env_int("MFA_TOKEN_TTL_SECONDS", 5 * 60)
MFA_TOKEN_MAX_ATTEMPTS = env_int("MFA_TOKEN_MAX_ATTEMPTS", 3)
# django-otp 1.7.5's defaults, reviewed: 30 s steps, 6 digits, tolerance 1 (one step of clock skew
# either way) are kept. Two are changed:
# - OTP_TOTP_SYNC (default on) moves a device's window by the skew of each accepted code, so a
#   code two steps off could be accepted later: the window stays the server's time +- 1 step.
# - Its per-device exponential back-off (OTP_TOTP_THROTTLE_FACTOR, default 1) is a second lockout
#   with other rules, that refuses a right code silently; failed codes count on the one lockout,
#   keneyapp/accounts/login_throttle.py, shared by the API and the admin.
OTP_TOTP_SYNC = False
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = "KeneyApp"
# Number of reverse proxies in front of the app whose X-Forwarded-For entries are trusted for the
# client address. 0 (the default) trusts none: the socket peer is the client.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"

# --- REST framework -------------------------------------------------------------------------------
# The largest JSON body the API reads (bytes); beyond, 413 before the body is read whole. Uploads
# have their own limit (DOCUMENT_MAX_BYTES) and stream to disk.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["keneyapp.accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["keneyapp.accounts.permissions.IsClinicStaff"],
    "DEFAULT_RENDERER_CLASSES": ["keneyapp.core.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["keneyapp.core.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "keneyapp.core.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KeneyApp API",
    "DESCRIPTION": "Clinic management: patients, appointments, messaging and documents, per clinic.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name ("category": every category of a document, the ones a
    # client may upload; "status": an appointment's, a message's, a document's) each get a name
    # of their own instead of a generated hash that changes with the choices.
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "appointments.models.AppointmentStatus",
        "MessageStatusEnum": "messaging.models.MessageStatus",
        "DocumentStatusEnum": "documents.models.DocumentStatus",
        "DocumentCategoryEnum": "documents.models.DocumentCategory",
        "UploadCategoryEnum": "documents.serializers.UPLOAD_CATEGORY_CHOICES",
    },
    # The schema and its docs page describe every route and field: for signed-in staff only (the
    # admin's session, or a staff member's bearer token) unless DEBUG is on.
    "SERVE_PERMISSIONS": (
        ["rest_framework.permissions.AllowAny"] if DEBUG else ["rest_framework.permissions.IsAdminUser"]
    ),
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "keneyapp.accounts.authentication.BearerTokenAuthentication",
    ],
}

# --- Monitoring -----------------------------------------------------------------------------------
SLOW_REQUEST_SECONDS = env_float("SLOW_REQUEST_SECONDS", 2.0)
SLOW_QUERY_SECONDS = env_float("SLOW_QUERY_SECONDS", 1.0)
GZIP_MIN_BYTES = env_int("GZIP_MIN_BYTES", 1000)
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "keneyapp": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

# --- I18N, static, security -----------------------------------------------------------------------
# Languages (docs/architecture.md, "Languages"): the browser's choice, then the user's setting, then
# the clinic's default, then English (keneyapp.core.language.UserLanguageMiddleware).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
# Each app's catalogue is in <app>/locale (found through INSTALLED_APPS); the project's settings and
# format modules have no app.
LOCALE_PATHS: list[Path] = []
# Dates display and parse in the active language's format: keneyapp/formats/<lang>/formats.py (in
# French d/m/Y; in English only ISO Y-m-d, so 02/12/2026 is read as 2 December or not at all).
FORMAT_MODULE_PATH = ["keneyapp.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Medical documents (documents/storage.py) -------------------------------------------------------
# With S3_BUCKET set, documents live in that S3-compatible bucket (private objects, downloads through
# short-lived presigned URLs); without it, in DOCUMENTS_ROOT, a private folder that nothing serves.
S3_BUCKET = env_str("S3_BUCKET")
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL")  # empty: AWS itself
S3_REGION = env_str("S3_REGION", "us-east-1")
S3_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID")
S3_SECRET_ACCESS_KEY = env_str("S3_SECRET_ACCESS_KEY")
# Every S3 call is bounded (documents/storage.py): botocore's defaults (60 s to connect, 60 s per
# read, 5 attempts) could hold a request for minutes on an endpoint that accepts and never answers.
# Worst case per call: attempts x (connect + read) plus the backoff between them (standard mode).
S3_CONNECT_TIMEOUT_SECONDS = env_float("S3_CONNECT_TIMEOUT_SECONDS", 3)
S3_READ_TIMEOUT_SECONDS = env_float("S3_READ_TIMEOUT_SECONDS", 10)
S3_MAX_ATTEMPTS = env_int("S3_MAX_ATTEMPTS", 3)
DOCUMENTS_ROOT = Path(env_str("DOCUMENTS_ROOT", str(BASE_DIR / "var" / "documents")))
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
DOCUMENT_UPLOAD_CHUNK_BYTES = env_int("DOCUMENT_UPLOAD_CHUNK_BYTES", 1024 * 1024)
DOCUMENT_ALLOWED_TYPES = env_list(
    "DOCUMENT_ALLOWED_TYPES", "application/pdf,image/png,image/jpeg,image/tiff,application/dicom,text/plain"
)
DOCUMENT_PRESIGN_EXPIRY_SECONDS = env_int("DOCUMENT_PRESIGN_EXPIRY_SECONDS", 15 * 60)
DOCUMENT_DOWNLOAD_EXPIRY_SECONDS = env_int("DOCUMENT_DOWNLOAD_EXPIRY_SECONDS", 60)
# A stored object no row names is removed by documents.sweep_orphan_objects (daily) once it is this
# old: far longer than the seconds between storing an object and committing its row.
DOCUMENT_ORPHAN_GRACE_SECONDS = env_int("DOCUMENT_ORPHAN_GRACE_SECONDS", 24 * 3600)
# A patient summary report still pending this long after it was queued is queued again (by the
# documents.sweep_stale_reports beat task, or when someone asks for it): its queueing may have been
# lost to a broker outage. Far longer than a rendering (well under a second) plus a busy queue.
REPORT_STALE_AFTER_SECONDS = env_int("REPORT_STALE_AFTER_SECONDS", 10 * 60)

# --- Audit trail (docs/security.md, "Audit controls") -------------------------------------------
# Every access to patient-linked data is recorded (keneyapp.core.audit). Off only to measure its
# cost (the benchmark's "audit on/off"): never in production.
AUDIT_TRAIL = env_bool("AUDIT_TRAIL", True)
# Rows older than this are removed by `manage.py audit_retention` (HIPAA: six years).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 6 * 365)
# A user who viewed more distinct patients than this in one hour is flagged (core.flag_unusual_access).
AUDIT_UNUSUAL_PATIENTS_PER_HOUR = env_int("AUDIT_UNUSUAL_PATIENTS_PER_HOUR", 50)
if S3_BUCKET:
    STORAGES["documents"] = {
        "BACKEND": "documents.storage.DocumentS3Storage",  # django-storages S3Storage, streamed
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": S3_REGION,
            "access_key": S3_ACCESS_KEY_ID or None,
            "secret_key": S3_SECRET_ACCESS_KEY or None,
            "default_acl": None,  # the bucket's own (private) policy; never public-read
            "file_overwrite": False,
            "querystring_auth": True,
            "signature_version": "s3v4",
            "addressing_style": "path",
        },
    }
else:
    STORAGES["documents"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No base_url: nothing serves this folder; downloads stream through the API's authorization.
        "OPTIONS": {"location": str(DOCUMENTS_ROOT), "file_permissions_mode": 0o600},
    }
# Without collectstatic (development, tests) WhiteNoise serves straight from the apps' folders.
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# Automatic logoff (HIPAA 164.312(a)(2)(iii)): an admin session ends after this long without a
# request, and this long after login whatever the activity (keneyapp/accounts/admin_sessions.py).
ADMIN_IDLE_TIMEOUT_SECONDS = env_int("ADMIN_IDLE_TIMEOUT_SECONDS", 15 * 60)
ADMIN_SESSION_MAX_SECONDS = env_int("ADMIN_SESSION_MAX_SECONDS", 12 * 3600)
# The session row and cookie expire with the absolute lifetime too (not Django's two weeks).
SESSION_COOKIE_AGE = ADMIN_SESSION_MAX_SECONDS
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if NUM_PROXIES else None
# Transmission security. Behind the TLS front (NUM_PROXIES > 0) plain-HTTP requests are redirected
# to HTTPS, except the probes a load balancer makes on the private network; browsers are told to
# use HTTPS only (HSTS: sent on HTTPS responses only, so a plain-HTTP development server is unaffected).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and NUM_PROXIES > 0)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# A Content-Security-Policy on the pages a browser renders (the admin, the API docs): scripts and
# styles from this origin only (the admin and Swagger UI ship their own files; the docs page loads
# its start-up script from a URL rather than inline), no framing, no plugins. JSON API answers are
# not rendered by browsers and skip the header.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/v1/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The admin's widgets and Swagger UI set inline styles.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
