"""Casebridge settings: one module, every value from the environment.

Safe by default: DEBUG is off unless asked for, and with DEBUG off a real
SECRET_KEY is required, so a forgotten variable fails loudly at start-up
instead of running a production system on a development key.
"""

import re
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "casebridge-insecure-development-key-never-use-in-production"  # noqa: S105  # nosec B105  # DEBUG only
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin app with the Casebridge site as `admin.site` (membership, not is_staff).
    "config.apps.CasebridgeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "guardian",
    # Security (see the "Security" section below): 2FA, lockout, CSP.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "agencies",
    "cases",
    "audit",
    "notifications",
    "security",
    # Database roles, backup and restore (management commands; nothing imports it).
    "ops",
]

# Order matters (see SECURITY.md): probes are answered before host validation
# (they are addressed by IP), just after the request id, so that every log
# line carries it; the session lifetime check runs before OTP so an expired
# session can never count as verified; axes goes last, as its docs require.
MIDDLEWARE = [
    "config.requestid.RequestIdMiddleware",
    "config.health.ProbeMiddleware",
    # Outside everything that may answer an API request (2FA, oversize, auth).
    "config.api.middleware.ApiCachingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The admin's CSS, JS and fonts from STATIC_ROOT (collected in the image):
    # the proxy in front serves nothing itself (deploy/nginx.conf).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "security.middleware.LoginThrottleMiddleware",
    "config.oversize.OversizePostMiddleware",  # before CSRF, which parses the body
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "security.middleware.SessionLifetimeMiddleware",
    # A session signed in through an agency's identity provider ends with the
    # provider's token unless the provider still vouches (agencies.sso).
    "agencies.middleware.ProviderSessionMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "security.middleware.TwoFactorRequiredMiddleware",
    # After authentication: the member's language and agency time zone.
    "agencies.middleware.MembershipLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.languages",
            ],
        },
    },
]

# SQLite when DATABASE_URL is unset, so `make run` needs no server;
# PostgreSQL (psycopg 3) when it is set.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo serves parallel requests, and every refusal writes an audit row:
    # WAL lets readers run beside the writer, IMMEDIATE takes the write lock
    # when a transaction starts (a deferred one that reads, then writes, fails
    # at once with "database is locked" instead of waiting), and writers wait
    # up to 20 s for each other.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A request reads a page: on a small server a parallel plan's workers cost
    # more to start than they save, and take the cores other requests need
    # (a search's walk at 1M cases: 135 ms with two workers, 67 ms without).
    # JIT likewise: compiling a plan that PostgreSQL estimates expensive (a
    # big case's network, its rows each asked the gate's subqueries) took
    # 1-2.5 s where the query itself ran in tens of milliseconds (bench.graph).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c max_parallel_workers_per_gather={env.int('DB_PARALLEL_WORKERS_PER_GATHER', default=0)}"
        f" -c jit={'on' if env.bool('DB_JIT', default=False) else 'off'}"
    )
# Persistent connections: a new PostgreSQL connection per request costs more
# than the request itself. Checked before reuse, so a
# restarted database costs a reconnect, not an error.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Axes first: a locked-out user+IP is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the member's agency with the user.
    "agencies.backends.MemberBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user would be a second identity with its own grants;
# Casebridge grants only to agency groups, so it is switched off.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Each language under its own name, never translated, so that a reader stuck in
# a language they cannot read still finds theirs in the picker.
LANGUAGES = [("en", "English"), ("km", "ខ្មែរ"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

LOGIN_URL = "admin:login"

# Cache: throttling counters. Use a shared cache (CACHE_URL=redis://…) when
# several processes serve the API, or each keeps its own count.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}


def _rate(name: str, default: str) -> str:
    """A DRF throttle rate such as "1200/min"; empty switches the throttle off."""
    value = env.str(name, default=default)
    if value and not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 1200/min, got {value!r}.")
    return value


# REST API (config/api/): conventions in config/api/base.py.
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=50)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)
if not 1 <= API_PAGE_SIZE <= API_MAX_PAGE_SIZE:
    raise ImproperlyConfigured("Need 1 <= API_PAGE_SIZE <= API_MAX_PAGE_SIZE.")
# Seconds held back from the sync feed to cover clock skew between the
# application servers and PostgreSQL (see config/api/pagination.py).
API_SYNC_CLOCK_MARGIN = env.float("API_SYNC_CLOCK_MARGIN", default=2.0)
API_THROTTLE_RATE = _rate("API_THROTTLE_RATE", "1200/min")  # per token / per user
API_ANON_THROTTLE_RATE = _rate("API_ANON_THROTTLE_RATE", "60/min")  # per address
API_IDEMPOTENCY_TTL_HOURS = env.int("API_IDEMPOTENCY_TTL_HOURS", default=24)
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=365)  # 0: no expiry

# Web admin lists (config/admin_base.py): a list counts at most this many
# rows (a LIMIT inside the count) and says "more than N" beyond; its pages
# go up to this many rows. Filters narrow a longer list.
ADMIN_COUNT_CAP = env.int("ADMIN_COUNT_CAP", default=10_000)
if ADMIN_COUNT_CAP < 1:
    raise ImproperlyConfigured("ADMIN_COUNT_CAP must be at least 1.")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.CasebridgeAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: an unauthenticated request gets 401 + WWW-Authenticate.
        "agencies.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.IsAgencyMember"],
    "DEFAULT_THROTTLE_CLASSES": [
        "config.api.throttling.ClientRateThrottle",
        "config.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.SyncCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["config.api.filters.FilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "config.api.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "config.api.problems.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Casebridge API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "Cross-border case coordination for partner systems. Authenticate with "
        "`Authorization: Bearer <token>` (an agency API client). Objects are named by "
        "UUID (`id`), agencies by code. Every error is RFC 9457 problem details "
        "(`application/problem+json`). Lists are cursor-paginated in sync order; "
        "writes to an existing object require `If-Match` (428 without it, 412 when stale), "
        "reads take `If-None-Match` (304), POSTs `Idempotency-Key`. Every answer is "
        "`Cache-Control: no-store`. Unknown or empty query parameters are 400. "
        "Not visible means 404. See the README (partner systems) and docs/api-conventions.md."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.choices.CaseStatus",
        "TaskStatusEnum": "cases.choices.TaskStatus",
        "TaskPriorityEnum": "cases.choices.TaskPriority",
        "AccessLevelEnum": "cases.choices.AccessLevel",
        "HandlingCodeEnum": "cases.choices.HandlingCode",
        "HandlingInstructionEnum": "cases.choices.HandlingInstruction",
        "CrimeTypeEnum": "cases.choices.CrimeType",
        "RoleEnum": "gate.roles.Role",
        "AgencyKindEnum": "agencies.choices.AgencyKind",
        # Three choice sets share the field name "kind"; name each (else drf_spectacular.W001,
        # which fails `check --deploy --fail-level WARNING`).
        "MLAKindEnum": "cases.choices.MLAKind",
        "IdentifierKindEnum": "cases.choices.IdentifierKind",
        "MLAStatusEnum": "cases.choices.MLAStatus",
        "LegalBasisEnum": "cases.choices.LegalBasis",
        "AssistanceTypeEnum": "cases.choices.AssistanceType",
        "UrgencyEnum": "cases.choices.Urgency",
        "ShareProposalStatusEnum": "cases.choices.ShareProposalStatus",
        "ShareProposalOutcomeEnum": "cases.choices.ShareProposalOutcome",
        "SearchKindEnum": "cases.choices.SearchKind",
        "EntityKindEnum": "cases.choices.EntityKind",
        "PersonRoleEnum": "cases.choices.PersonRole",
        "LinkKindEnum": "cases.choices.LinkKind",
        "AssetKindEnum": "cases.choices.AssetKind",
        "AssetStateEnum": "cases.choices.AssetState",
        "SourceReliabilityEnum": "cases.choices.SourceReliability",
        "InformationAccuracyEnum": "cases.choices.InformationAccuracy",
    },
}

# Celery: with no broker configured, tasks run in-process so the app works
# out of the box; CELERY_BROKER_URL switches to Redis or RabbitMQ.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="casebridge")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Records the messages Celery would acknowledge undecoded (notifications.worker).
CELERY_WORKER_CONSUMER = "notifications.worker:Consumer"
# Redis: how long a message taken by a worker that died stays invisible
# before Redis hands it out again. The outbox sweeper recovers sooner.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
# Celery's own beat with the schedule in code (config/celery.py says why
# not django-celery-beat). Run exactly one beat process.
# Beat signs an audit checkpoint this often; `verify_audit` fails when the
# newest one is older than twice this (a wiped or frozen log).
AUDIT_CHECKPOINT_SECONDS = env.int("AUDIT_CHECKPOINT_SECONDS", default=3600)
# The sweeper is a cheap indexed query: often enough that messages written
# while the broker refused are delivered within seconds of its return.
NOTIFICATIONS_SWEEP_SECONDS = env.float("NOTIFICATIONS_SWEEP_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "notifications.sweep_outbox", "schedule": NOTIFICATIONS_SWEEP_SECONDS},
    "email-digests": {
        "task": "notifications.send_email_digests",
        "schedule": env.float("NOTIFICATIONS_DIGEST_SECONDS", default=300.0),
    },
    "deadline-reminders": {"task": "notifications.deadline_reminders", "schedule": 3600.0},
    "expire-participations": {"task": "cases.expire_participations", "schedule": 300.0},
    "audit-checkpoint": {
        "task": "notifications.audit_checkpoint",
        "schedule": float(AUDIT_CHECKPOINT_SECONDS),
    },
    # Abandoned resumable uploads (cases.uploads) and their partial files.
    "expire-uploads": {"task": "cases.expire_uploads", "schedule": 900.0},
}

# Beat run with `-S ops.beat:HeartbeatScheduler` touches this file each time
# it wakes (at least once a minute); the compose health check reads its age.
BEAT_HEARTBEAT_FILE = env.str("BEAT_HEARTBEAT_FILE", default="")

# Notifications (outbox, e-mail, webhooks).
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.float("NOTIFICATIONS_RETRY_BASE_SECONDS", default=10.0)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.float("NOTIFICATIONS_RETRY_MAX_SECONDS", default=3600.0)
# A message the broker took is published again after this (it may only be
# queued behind others); one it never took (pending) after the second.
NOTIFICATIONS_SWEEP_AFTER_SECONDS = env.int("NOTIFICATIONS_SWEEP_AFTER_SECONDS", default=60)
NOTIFICATIONS_SWEEP_PENDING_AFTER_SECONDS = env.int(
    "NOTIFICATIONS_SWEEP_PENDING_AFTER_SECONDS", default=5
)
# `manage.py check_outbox` fails past this: the sweeper has had many tries.
NOTIFICATIONS_OVERDUE_SECONDS = env.int("NOTIFICATIONS_OVERDUE_SECONDS", default=900)
NOTIFICATIONS_WEBHOOK_MAX_ATTEMPTS = env.int("NOTIFICATIONS_WEBHOOK_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_WEBHOOK_DISABLE_AFTER = env.int("NOTIFICATIONS_WEBHOOK_DISABLE_AFTER", default=20)
NOTIFICATIONS_WEBHOOK_TIMEOUT = env.float("NOTIFICATIONS_WEBHOOK_TIMEOUT", default=10.0)
# Plain-http webhook URLs only for development and tests.
NOTIFICATIONS_WEBHOOK_ALLOW_HTTP = env.bool("NOTIFICATIONS_WEBHOOK_ALLOW_HTTP", default=DEBUG)
# Publishing after commit must not hang a request when the broker is down:
# two quick tries, then the message waits for the sweeper.
NOTIFICATIONS_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
NOTIFICATIONS_PUBLISH_PAUSE_SECONDS = env.float("NOTIFICATIONS_PUBLISH_PAUSE_SECONDS", default=10.0)
for _name in (
    "NOTIFICATIONS_MAX_ATTEMPTS",
    "NOTIFICATIONS_WEBHOOK_MAX_ATTEMPTS",
    "NOTIFICATIONS_WEBHOOK_DISABLE_AFTER",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")

CASEBRIDGE_BASE_URL = env.str("CASEBRIDGE_BASE_URL", default="http://127.0.0.1:8000")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="casebridge@localhost")

# Mutual legal assistance clocks (cases.mla). Defaults follow the European
# Investigation Order: decide within 30 days of receipt, execute within 90
# days of accepting. Per legal basis overrides go beside "default", keyed by
# cases.choices.LegalBasis values.
MLA_DEADLINES = {
    "default": {
        "decision_days": env.int("MLA_DECISION_DAYS", default=30),
        "execution_days": env.int("MLA_EXECUTION_DAYS", default=90),
    },
}
MLA_URGENT_DAYS = env.int("MLA_URGENT_DAYS", default=7)
# Budapest Convention art. 29(7): preserved for not less than 60 days.
MLA_PRESERVATION_DAYS = env.int("MLA_PRESERVATION_DAYS", default=60)
# --- audit ------------------------------------------------------------------
# Signs the audit checkpoints. Development gets a fixed key; production must
# set one (signing refuses to run without it).
_DEV_AUDIT_KEY = "casebridge-insecure-audit-checkpoint-key"
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default=_DEV_AUDIT_KEY if DEBUG else "")
# Only behind a proxy that overwrites X-Forwarded-For may it name the client.
AUDIT_TRUST_X_FORWARDED_FOR = env.bool("AUDIT_TRUST_X_FORWARDED_FOR", default=False)

# --- evidence files -----------------------------------------------------------
# Evidence lives in its own storage ("evidence"), never served as a public
# media URL: it leaves only through the authenticated, re-verifying download.
# The filesystem default keeps files under MEDIA_ROOT; S3-compatible storage
# through django-storages is a matter of EVIDENCE_STORAGE_BACKEND + options.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "evidence": {
        "BACKEND": env.str(
            "EVIDENCE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json("EVIDENCE_STORAGE_OPTIONS", default={}),
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
EVIDENCE_MAX_UPLOAD_SIZE = env.int("EVIDENCE_MAX_UPLOAD_SIZE", default=512 * 1024 * 1024)
EVIDENCE_ALLOWED_TYPES = env.list(
    "EVIDENCE_ALLOWED_TYPES",
    default=[
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/tiff",
        "image/webp",
        "image/bmp",
        "image/heic",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/rtf",
        "text/plain",
        "text/csv",
        "application/json",
        "application/zip",
        "audio/mpeg",
        "audio/x-wav",
        "audio/ogg",
        "audio/x-flac",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/quicktime",
        "video/x-msvideo",
        "video/x-matroska",
        "video/webm",
        "video/3gpp",
    ],
)
# Resumable uploads (cases.uploads, `/api/v1/uploads/`, tus 1.0): the bytes of
# an upload in transit wait in a partial file under this directory (default:
# MEDIA_ROOT/uploads-in-transit; every web process must see the same one),
# one PATCH carries at most EVIDENCE_UPLOAD_MAX_CHUNK bytes, and an upload
# untouched for EVIDENCE_UPLOAD_EXPIRY_SECONDS is deleted by beat.
EVIDENCE_UPLOAD_DIR = env.str("EVIDENCE_UPLOAD_DIR", default="")
EVIDENCE_UPLOAD_MAX_CHUNK = env.int("EVIDENCE_UPLOAD_MAX_CHUNK", default=8 * 1024 * 1024)
EVIDENCE_UPLOAD_EXPIRY_SECONDS = env.int("EVIDENCE_UPLOAD_EXPIRY_SECONDS", default=24 * 3600)
# Uploads never sit in memory: every file goes to a temporary file as it
# arrives, and the evidence upload handler stops reading one past the limit.
FILE_UPLOAD_HANDLERS = ["cases.upload_handlers.EvidenceUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=None)
# Form fields (not files) stay small; one evidence file per request.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DATA_UPLOAD_MAX_NUMBER_FILES", default=5)

# Key of the HMAC over deconfliction identifiers (cases.identifiers.keyed_hash).
# Changing it orphans every stored hash: re-hash the identifiers first.
_DEV_HMAC_KEY = "casebridge-insecure-deconfliction-key"
DECONFLICTION_HMAC_KEY = env.str("DECONFLICTION_HMAC_KEY", default=_DEV_HMAC_KEY if DEBUG else "")
# Most identifiers one deconfliction search may carry (a partner's seizure list).
DECONFLICTION_MAX_SEARCH = env.int("DECONFLICTION_MAX_SEARCH", default=1000)
# Bulk import of transactions from CSV (cases.transaction_import): the most
# rows and bytes one file may have (a longer statement is split).
TRANSACTION_IMPORT_MAX_ROWS = env.int("TRANSACTION_IMPORT_MAX_ROWS", default=100_000)
TRANSACTION_IMPORT_MAX_BYTES = env.int("TRANSACTION_IMPORT_MAX_BYTES", default=32 * 1024 * 1024)
if TRANSACTION_IMPORT_MAX_ROWS < 1 or TRANSACTION_IMPORT_MAX_BYTES < 1:
    raise ImproperlyConfigured("TRANSACTION_IMPORT_MAX_ROWS and _BYTES must be at least 1.")
# Full-text search (cases.search): the first matches of each kind (in the
# reader's case list order) that are ranked, and the most results one search
# returns.
SEARCH_CANDIDATES = env.int("SEARCH_CANDIDATES", default=50)
if SEARCH_CANDIDATES < 1:
    raise ImproperlyConfigured("SEARCH_CANDIDATES must be at least 1.")
# A search term with at most this many matches in a kind's table is read
# from its index and then narrowed to the reader's rows; a commoner one is
# found by walking the reader's list (cases/search.py, bench/README.md).
SEARCH_RARE_MATCHES = env.int("SEARCH_RARE_MATCHES", default=5000)
if SEARCH_RARE_MATCHES < 0:
    raise ImproperlyConfigured("SEARCH_RARE_MATCHES must not be negative.")

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="casebridge-demo")

# Structured logs: one JSON object per line with the request id, so a log
# line can be joined to its audit event and to the proxy's access log.
# LOG_JSON=0 gives plain text (the demo's default).
LOG_JSON = env.bool("LOG_JSON", default=not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.requestid.RequestIdLogFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_JSON else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Security ---------------------------------------------------------------
# Everything about authentication, sessions, transport and rate limits lives
# here so it can be reviewed in one place. SECURITY.md says which threat each
# control answers. Production (DEBUG off) is strict by default; the demo
# (DEBUG on) relaxes only what needs a phone or TLS.

# Rate limits (login throttle, config.ratelimit) use CACHES above: set
# CACHE_URL=redis://… in production so every process shares the counts.

# Two-factor authentication (django-otp, TOTP + static recovery codes).
# Required for coordinators, agency administrators and superusers in
# production; REQUIRE_2FA_FOR_ALL extends it to every web user. API tokens of
# service accounts are not affected.
REQUIRE_2FA_FOR_PRIVILEGED = env.bool("REQUIRE_2FA_FOR_PRIVILEGED", default=not DEBUG)
REQUIRE_2FA_FOR_ALL = env.bool("REQUIRE_2FA_FOR_ALL", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Casebridge")
OTP_STATIC_RECOVERY_CODES = 10

# Signing in through an agency's OpenID Connect identity provider
# (agencies.oidc, agencies.sso; providers are registered in the admin, each
# naming the environment variable that holds its client secret).
OIDC_HTTP_TIMEOUT = env.float("OIDC_HTTP_TIMEOUT", default=10.0)
# Seconds a provider's discovery document is reused before it is fetched again.
OIDC_METADATA_TTL = env.int("OIDC_METADATA_TTL", default=300)

# Brute-force protection (django-axes): 5 failures lock that username from
# that address for 15 minutes; the same answer whether the user exists or not.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client's address as the audit log takes it: behind the proxy
# (AUDIT_TRUST_X_FORWARDED_FOR) the forwarded one, else every client would
# share the proxy's address and its lockouts and login rate limit.
AXES_CLIENT_IP_CALLABLE = "audit.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "security.views.locked_out"
AXES_VERBOSE = False
# Axes' own admin pages are replaced by security/admin.py (platform pages).
AXES_ENABLE_ADMIN = False
# Per-address throttle on top of axes: stops one address spraying many
# usernames (axes counts per username+address).
LOGIN_IP_RATE_LIMIT = env.int("LOGIN_IP_RATE_LIMIT", default=30)
LOGIN_IP_RATE_WINDOW = env.int("LOGIN_IP_RATE_WINDOW", default=15 * 60)
# Token use is throttled by the API (API_THROTTLE_RATE, API_ANON_THROTTLE_RATE
# above); deconfliction search by config.ratelimit with these numbers.
DECONFLICTION_SEARCH_RATE_LIMIT = env.int("DECONFLICTION_SEARCH_RATE_LIMIT", default=60)
DECONFLICTION_SEARCH_RATE_WINDOW = env.int("DECONFLICTION_SEARCH_RATE_WINDOW", default=60 * 60)

# Sessions: 30 minutes idle, 12 hours absolute (enforced by
# security.middleware.SessionLifetimeMiddleware from the login time, because
# saving a session pushes its database expiry forward), key rotated at login
# by django.contrib.auth.login.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Transport: HTTPS only in production. Behind a TLS-terminating proxy set
# TRUST_X_FORWARDED_PROTO=1 (the proxy must overwrite the header) so Django
# knows the original request was HTTPS; SECURE_SSL_REDIRECT=0 only if the
# proxy itself redirects (check --deploy will then warn, rightly).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes come from inside the network over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp 4): only our own scripts and styles,
# no framing, no plugins. The Django admin needs nothing more.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    },
}
