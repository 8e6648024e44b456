"""Settings, all read from the environment (django-environ).

The defaults are the embedded set-up that `make run` uses on a fresh machine: SQLite, a file-system
Celery broker, a file cache and console e-mail. Production switches by environment alone
(`DATABASE_URL`, `REDIS_URL`, `EMAIL_URL`, ...); see `.env.example` and the README's table.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
import structlog
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from apps.core.logging import redact_secrets

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local `.env` (written by `make run` on first start) fills in what the real environment lacks;
# DJANGO_ENV_FILE names another file, or none when empty (the tests read none).
_env_file = env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env"))
if _env_file:
    environ.Env.read_env(_env_file, overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. `make run` writes one into .env; in production set it in "
        "the environment."
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications ----------------------------------------------------------------------------

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.facebook",
    "django_celery_beat",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rest_framework",
    "django_structlog",
    "csp",
]
# In dependency order (an app after those it imports): the hooks of apps.core.hooks run in
# this order, a tenant's teardown in the reverse one (docs/architecture.md).
LOCAL_APPS = [
    "apps.core",
    "apps.accounts",
    "apps.social",
    "apps.assets",
    "apps.posts",
    "apps.webhooks",
    "apps.insights",
    "apps.dashboard",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    # After authentication and the request-id binding: resolves request.tenant once per request.
    "apps.accounts.middleware.TenantMiddleware",
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
                "apps.accounts.context_processors.tenancy",
                "apps.social.context_processors.facebook",
            ],
        },
    },
]

# --- Data ------------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: web, worker and beat share one file, so wait for locks instead of
    # failing, write through WAL, and take the write lock at the start of each transaction.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Shared by the web, worker and beat processes of `make run` without a server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Authentication (django-allauth) -----------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:overview"

ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Social Automation] "
ACCOUNT_ALLOW_SIGNUP = env.bool("ACCOUNT_ALLOW_SIGNUP", default=True)

# Invitations to join a tenant expire after this many days; expired ones are kept this long
# (so the link still explains itself) and then deleted by the hourly clean-up job.
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)
INVITATION_RETENTION_DAYS = env.int("INVITATION_RETENTION_DAYS", default=30)
# A tenant's data export (ZIP) can be downloaded for this many days; the daily clean-up job
# then deletes it and its file.
TENANT_EXPORT_DAYS = env.int("TENANT_EXPORT_DAYS", default=7)

# --- E-mail ----------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Social Automation <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files ------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Uploaded files: local files by default; any S3-compatible store when a bucket is named. Files
# are never served from a public path: the dashboard serves them to members, and Meta fetches
# them through signed, expiring URLs (PUBLIC_BASE_URL, or the bucket's presigned URLs).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("SIGNED_MEDIA_URL_TTL_SECONDS", default=6 * 3600),
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Brand assets ------------------------------------------------------------------------------

# The address Meta fetches media from (the public https origin of this site).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
SIGNED_MEDIA_URL_TTL_SECONDS = env.int("SIGNED_MEDIA_URL_TTL_SECONDS", default=6 * 3600)
ASSET_MAX_UPLOAD_BYTES = env.int("ASSET_MAX_UPLOAD_BYTES", default=25 * 1024 * 1024)
# Decompression bombs: an image declaring more pixels than this is refused before decoding.
ASSET_MAX_PIXELS = env.int("ASSET_MAX_PIXELS", default=60_000_000)
# Videos (docs/assets.md, "Videos"): a larger upload limit of their own (the file is streamed to
# a temporary file, never read into memory), and a longest duration.
ASSET_VIDEO_MAX_BYTES = env.int("ASSET_VIDEO_MAX_BYTES", default=1024 * 1024 * 1024)
ASSET_VIDEO_MAX_SECONDS = env.int("ASSET_VIDEO_MAX_SECONDS", default=15 * 60)
# Resumable uploads (docs/assets.md, "Resumable uploads"): a large file comes in chunks of at
# most this many bytes each (under the proxy's body limit, e.g. the ingress's 30m), appended to a
# temporary file in ASSET_UPLOAD_DIR (empty: MEDIA_ROOT/partial-uploads; it must be one directory
# every web process and worker shares); a session unfinished after this many hours expires.
ASSET_UPLOAD_CHUNK_MAX_BYTES = env.int("ASSET_UPLOAD_CHUNK_MAX_BYTES", default=8 * 1024 * 1024)
ASSET_UPLOAD_SESSION_HOURS = env.int("ASSET_UPLOAD_SESSION_HOURS", default=24)
ASSET_UPLOAD_DIR = env.str("ASSET_UPLOAD_DIR", default="")

# --- REST API (DRF) ---------------------------------------------------------------------------

# Request bodies (docs/api.md, "Limits"). Django's own limits, named here because the API documents
# them: a body read into memory (JSON, a form, a multipart's non-file fields) over this size is a
# 413 `request_too_large`; files of a multipart upload are streamed and checked by their own rule.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MiB, Django's default
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # a 400 `too_many_fields` above
DATA_UPLOAD_MAX_NUMBER_FILES = 100  # a 400 `too_many_files` above
# JSON nesting: arrays and objects inside each other, deeper than this is a 400 `json_too_deep`
# (the API's bodies nest a few levels; Python's json would recurse until the stack runs out).
JSON_MAX_DEPTH = 32

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.api.authentication.ApiKeyAuthentication",
        "apps.accounts.api.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.api.permissions.TenantMember"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.api.throttling.PlanRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.NewestFirstPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only (the asset upload adds multipart): a form cannot say null, false, a
    # number or a list, so DRF guesses (a boolean missing from a form reads as false). The JSON
    # parser bounds the nesting depth (JSON_MAX_DEPTH) before parsing.
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# Requests per tenant and plan (a fixed hourly window counted in the cache: Redis in production).
API_THROTTLE_RATES = {
    "basic": env.str("API_RATE_BASIC", default="100/hour"),
    "pro": env.str("API_RATE_PRO", default="500/hour"),
    "enterprise": env.str("API_RATE_ENTERPRISE", default="2000/hour"),
}
API_THROTTLE_CACHE = "default"
SPECTACULAR_SETTINGS = {
    "TITLE": "Social Automation API",
    "DESCRIPTION": (
        "Publish to Facebook Pages and Instagram business accounts: accounts, the asset library, "
        "posts and their publications. Authenticate with `Authorization: Api-Key <key>` (create "
        "keys in the dashboard). Errors are RFC 9457 problem documents; see docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a ``status``; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "PostStatusEnum": "apps.posts.models.Post.Status",
        "PublicationStatusEnum": "apps.posts.models.Publication.Status",
        "ConnectedAccountStatusEnum": "apps.social.models.ConnectedAccount.Status",
        "PlatformEnum": "apps.social.models.Platform",
        "AssetStatusEnum": "apps.assets.models.BrandAsset.Status",
        "AssetKindEnum": "apps.assets.models.BrandAsset.Kind",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Api-Key <key>`",
            }
        }
    },
    "SECURITY": [{"ApiKey": []}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.add_problem_responses",
        "apps.core.api.schema.add_create_links",
    ],
}

# --- Outgoing webhooks ---------------------------------------------------------------------------

# Development only: allow http:// and private addresses (this machine, a LAN) as webhook targets.
# Link-local addresses (cloud metadata) stay refused whatever this says.
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)

# --- Publishing -----------------------------------------------------------------------------------

# A claimed publication whose worker has not reported back within the lease is taken over (and
# reconciled first). Far longer than any single step (Graph calls time out after 15 s).
PUBLISHING_CLAIM_LEASE_SECONDS = env.int("PUBLISHING_CLAIM_LEASE_SECONDS", default=600)
PUBLISHING_MAX_ATTEMPTS = env.int("PUBLISHING_MAX_ATTEMPTS", default=6)
# Transient failures are retried after base * 2^(attempt-1) seconds, with full jitter, up to 1 h.
PUBLISHING_RETRY_BASE_SECONDS = env.int("PUBLISHING_RETRY_BASE_SECONDS", default=30)
PUBLISHING_BATCH_SIZE = env.int("PUBLISHING_BATCH_SIZE", default=200)
# Waits up to this long are followed up by a delayed task; longer ones by the dispatcher.
PUBLISHING_FOLLOW_UP_MAX_SECONDS = env.int("PUBLISHING_FOLLOW_UP_MAX_SECONDS", default=300)
# A call whose outcome is unknown is reconciled this long after (Meta's lists may lag a little).
PUBLISHING_UNKNOWN_RECHECK_SECONDS = env.int("PUBLISHING_UNKNOWN_RECHECK_SECONDS", default=30)
INSTAGRAM_CONTAINER_POLL_SECONDS = env.int("INSTAGRAM_CONTAINER_POLL_SECONDS", default=60)
# How often a video container (a Reel, a Story, a carousel with a video) is checked: Meta takes
# from seconds to minutes to process a video; each check is its own scheduled step.
INSTAGRAM_VIDEO_POLL_SECONDS = env.int("INSTAGRAM_VIDEO_POLL_SECONDS", default=30)
# A rolling publishing quota used up (Instagram's, Threads'): check again after this long. The
# old name INSTAGRAM_QUOTA_RETRY_SECONDS is still read.
PUBLISHING_QUOTA_RETRY_SECONDS = env.int(
    "PUBLISHING_QUOTA_RETRY_SECONDS",
    default=env.int("INSTAGRAM_QUOTA_RETRY_SECONDS", default=3600),
)
ENGAGEMENT_SYNC_DAYS = env.int("ENGAGEMENT_SYNC_DAYS", default=30)
# Insights (issue 16, docs/insights.md): posts published in the last INSIGHTS_SYNC_DAYS are
# re-read on every sync; an account's last INSIGHTS_LATE_DAYS days are re-read (Meta's figures
# can come up to 48 hours late); snapshots older than INSIGHTS_RETENTION_DAYS are deleted.
INSIGHTS_SYNC_DAYS = env.int("INSIGHTS_SYNC_DAYS", default=30)
INSIGHTS_LATE_DAYS = env.int("INSIGHTS_LATE_DAYS", default=3)
INSIGHTS_RETENTION_DAYS = env.int("INSIGHTS_RETENTION_DAYS", default=730)
# How far ahead a post may be scheduled (docs/publishing.md, "Schedule horizon"): a year, like
# the planners businesses know; at most 100 years (date filters accept 2000 to 2199).
POSTS_SCHEDULE_HORIZON_DAYS = env.int("POSTS_SCHEDULE_HORIZON_DAYS", default=365)
if not 1 <= POSTS_SCHEDULE_HORIZON_DAYS <= 36500:
    raise ImproperlyConfigured("POSTS_SCHEDULE_HORIZON_DAYS must be between 1 and 36500.")

# --- Facebook and the Graph API ---------------------------------------------------------------

# With no Facebook app configured the product talks to its own sandbox Graph API (SPEC 5.4), whose
# app id and secret are public constants. Any other emulator is reached through the URL settings.
FACEBOOK_APP_ID = env.str("FACEBOOK_APP_ID", default="")
FACEBOOK_SANDBOX = not FACEBOOK_APP_ID
SANDBOX_GRAPH_URL = env.str("SANDBOX_GRAPH_URL", default="http://127.0.0.1:8001")
if FACEBOOK_SANDBOX:
    FACEBOOK_APP_ID = "sandbox-app"
    FACEBOOK_APP_SECRET = "sandbox-secret"  # noqa: S105 - the sandbox's published constant
else:
    FACEBOOK_APP_SECRET = env.str("FACEBOOK_APP_SECRET")
FACEBOOK_GRAPH_URL = (
    env.str("FACEBOOK_GRAPH_URL", default="")
    or (SANDBOX_GRAPH_URL if FACEBOOK_SANDBOX else "https://graph.facebook.com")
).rstrip("/")
FACEBOOK_DIALOG_URL = (
    env.str("FACEBOOK_DIALOG_URL", default="")
    or (SANDBOX_GRAPH_URL if FACEBOOK_SANDBOX else "https://www.facebook.com")
).rstrip("/")
FACEBOOK_GRAPH_VERSION = env.str("FACEBOOK_GRAPH_VERSION", default="v25.0")
# The upload host of Facebook video (Reels, video Stories): `{FACEBOOK_RUPLOAD_URL}/video-upload/
# {version}/{video-id}`. With the sandbox, its `/rupload` mount.
FACEBOOK_RUPLOAD_URL = (
    env.str("FACEBOOK_RUPLOAD_URL", default="")
    or (
        f"{SANDBOX_GRAPH_URL.rstrip('/')}/rupload"
        if FACEBOOK_SANDBOX
        else "https://rupload.facebook.com"
    )
).rstrip("/")
# How often a Facebook video being processed (a Reel, a Page video, a video Story) is looked at.
FACEBOOK_VIDEO_POLL_SECONDS = env.int("FACEBOOK_VIDEO_POLL_SECONDS", default=30)
FACEBOOK_SCOPES = env.list(
    "FACEBOOK_SCOPES",
    default=[
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "pages_manage_engagement",  # first comments as the Page (issue 15)
        "instagram_basic",
        "instagram_content_publish",
        "instagram_manage_comments",  # first comments on Instagram
        "business_management",
        "read_insights",  # Page and post insights (issue 16)
        "instagram_manage_insights",  # Instagram media and account insights (issue 16)
    ],
)
# --- Threads (graph.threads.net) -----------------------------------------------------------------
# A Threads app has an id and secret of its own (Meta shows two pairs; use the Threads one). With
# none configured, the sandbox's Threads mount (SANDBOX_GRAPH_URL + /threads) and its public
# constants are used, as Facebook does with the sandbox.
THREADS_APP_ID = env.str("THREADS_APP_ID", default="")
THREADS_SANDBOX = not THREADS_APP_ID
if THREADS_SANDBOX:
    THREADS_APP_ID = "sandbox-app"
    THREADS_APP_SECRET = "sandbox-secret"  # noqa: S105 - the sandbox's published constant
else:
    THREADS_APP_SECRET = env.str("THREADS_APP_SECRET")
THREADS_GRAPH_URL = (
    env.str("THREADS_GRAPH_URL", default="")
    or (
        f"{SANDBOX_GRAPH_URL.rstrip('/')}/threads"
        if THREADS_SANDBOX
        else "https://graph.threads.net"
    )
).rstrip("/")
THREADS_DIALOG_URL = (
    env.str("THREADS_DIALOG_URL", default="")
    or (
        f"{SANDBOX_GRAPH_URL.rstrip('/')}/threads/oauth/authorize"
        if THREADS_SANDBOX
        else "https://threads.net/oauth/authorize"
    )
).rstrip("/")
THREADS_GRAPH_VERSION = env.str("THREADS_GRAPH_VERSION", default="v1.0")
THREADS_SCOPES = env.list(
    "THREADS_SCOPES",
    default=["threads_basic", "threads_content_publish", "threads_manage_insights"],
)
# How often a Threads container that is still processing is checked.
THREADS_CONTAINER_POLL_SECONDS = env.int("THREADS_CONTAINER_POLL_SECONDS", default=30)

# --- Instagram with Instagram Login (graph.instagram.com) ----------------------------------------
# An Instagram professional account connected without a Facebook Page ("Business Login for
# Instagram"). Its app id and secret are the Instagram ones of the Meta app (App Dashboard →
# Instagram → API setup with Instagram login), not the Facebook pair. With none configured, the
# sandbox's Instagram mount (SANDBOX_GRAPH_URL + /instagram) and its public constants are used.
INSTAGRAM_LOGIN_APP_ID = env.str("INSTAGRAM_LOGIN_APP_ID", default="")
INSTAGRAM_LOGIN_SANDBOX = not INSTAGRAM_LOGIN_APP_ID
if INSTAGRAM_LOGIN_SANDBOX:
    INSTAGRAM_LOGIN_APP_ID = "sandbox-app"
    INSTAGRAM_LOGIN_APP_SECRET = "sandbox-secret"  # noqa: S105 - the sandbox's published constant
else:
    INSTAGRAM_LOGIN_APP_SECRET = env.str("INSTAGRAM_LOGIN_APP_SECRET")
_INSTAGRAM_SANDBOX_URL = f"{SANDBOX_GRAPH_URL.rstrip('/')}/instagram"
# The Graph host (publishing, the profile, the token's exchange and refresh) ...
INSTAGRAM_LOGIN_GRAPH_URL = (
    env.str("INSTAGRAM_LOGIN_GRAPH_URL", default="")
    or (_INSTAGRAM_SANDBOX_URL if INSTAGRAM_LOGIN_SANDBOX else "https://graph.instagram.com")
).rstrip("/")
# ... the host that exchanges the authorization code (api.instagram.com at Meta) ...
INSTAGRAM_LOGIN_API_URL = (
    env.str("INSTAGRAM_LOGIN_API_URL", default="")
    or (_INSTAGRAM_SANDBOX_URL if INSTAGRAM_LOGIN_SANDBOX else "https://api.instagram.com")
).rstrip("/")
# ... and the authorization window.
INSTAGRAM_LOGIN_DIALOG_URL = (
    env.str("INSTAGRAM_LOGIN_DIALOG_URL", default="")
    or (
        f"{_INSTAGRAM_SANDBOX_URL}/oauth/authorize"
        if INSTAGRAM_LOGIN_SANDBOX
        else "https://www.instagram.com/oauth/authorize"
    )
).rstrip("/")
INSTAGRAM_LOGIN_GRAPH_VERSION = env.str("INSTAGRAM_LOGIN_GRAPH_VERSION", default="v25.0")
INSTAGRAM_LOGIN_SCOPES = env.list(
    "INSTAGRAM_LOGIN_SCOPES",
    default=[
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_comments",  # first comments (issue 15)
        "instagram_business_manage_insights",  # insights (issue 16); optional at connect
    ],
)

GRAPH_TIMEOUT_SECONDS = env.float("GRAPH_TIMEOUT_SECONDS", default=15.0)
GRAPH_MAX_RETRIES = env.int("GRAPH_MAX_RETRIES", default=3)
# Items asked for per result page of a listing (Meta's default is 25, its maximum 100).
GRAPH_PAGE_SIZE = env.int("GRAPH_PAGE_SIZE", default=100)

# django-allauth's Facebook provider does the OAuth dance for "Log in with Facebook" and for
# "Connect Facebook" (process=connect, which asks for FACEBOOK_SCOPES on top). It reads these
# once, at import. It keeps no token: SOCIALACCOUNT_STORE_TOKENS stays off, and the connect flow
# stores the token encrypted itself (apps.social).
FACEBOOK_EMAIL_VERIFIED = env.bool("FACEBOOK_EMAIL_VERIFIED", default=FACEBOOK_SANDBOX)
SOCIALACCOUNT_ADAPTER = "apps.social.adapters.SocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_PROVIDERS = {
    "facebook": {
        "APPS": [{"client_id": FACEBOOK_APP_ID, "secret": FACEBOOK_APP_SECRET, "key": ""}],
        "METHOD": "oauth2",
        "SCOPE": ["email", "public_profile"],
        "FIELDS": ["id", "email", "name", "first_name", "last_name"],
        "VERSION": FACEBOOK_GRAPH_VERSION,
        "GRAPH_API_URL": f"{FACEBOOK_GRAPH_URL}/{FACEBOOK_GRAPH_VERSION}",
        "AUTHORIZE_URL": f"{FACEBOOK_DIALOG_URL}/{FACEBOOK_GRAPH_VERSION}/dialog/oauth",
        "VERIFIED_EMAIL": FACEBOOK_EMAIL_VERIFIED,
    }
}

# Tokens are encrypted at rest with Fernet (django-encrypted-model-fields). A comma-separated
# list rotates keys: the first encrypts, all decrypt; `manage.py rotate_token_encryption`
# re-encrypts every token under the first.
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])
if not FIELD_ENCRYPTION_KEY:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY is not set. `make run` writes one into .env; in production set it "
        'to a Fernet key (python3 -c "import base64, os; '
        'print(base64.urlsafe_b64encode(os.urandom(32)).decode())").'
    )
for _key in FIELD_ENCRYPTION_KEY:
    try:
        Fernet(_key)
    except (ValueError, TypeError) as _exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes)."
        ) from _exc

# --- Security ------------------------------------------------------------------------------------
# With DEBUG off everything below is on by default and `manage.py check --deploy` is clean
# (tests/core/test_security.py); `make run` (DEBUG on) keeps serving plain http on localhost.
# docs/security.md explains each choice.

# Behind a TLS-terminating proxy (an Ingress, a load balancer) that *overwrites* X-Forwarded-Proto:
# trust that header to know a request came in over https. Never turn on without such a proxy.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
    else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# The probes come over plain http from inside the network (kubelet, Docker's health check).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


# Content Security Policy (django-csp), enforced in development too so a violation shows up at
# once. No inline scripts, no style attributes, no CDN. form-action also lists the Facebook
# dialog: Chromium checks the redirect after "Connect Facebook"'s POST against it. Swagger UI
# (/api/docs/) gets its own, wider policy in config/api_urls.py.
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_csp_img_src = ["'self'", "data:"]
if AWS_STORAGE_BUCKET_NAME:
    # Thumbnails and previews may be redirects to the bucket's presigned URLs.
    _endpoint = env.str("AWS_S3_ENDPOINT_URL", default="")
    _region = env.str("AWS_S3_REGION_NAME", default="")
    if _endpoint:
        _csp_img_src += [
            _origin(_endpoint),
            f"{urlsplit(_endpoint).scheme}://*.{urlsplit(_endpoint).netloc}",
        ]
    else:
        _csp_img_src += [f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"]
        if _region:
            _csp_img_src += [f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{_region}.amazonaws.com"]
# Page and Instagram profile pictures are shown from where the Graph API says they are: Meta's
# CDNs, or the sandbox (or another emulator) at the Graph URL's origin.
_csp_img_src += [
    _origin(FACEBOOK_GRAPH_URL),
    _origin(THREADS_GRAPH_URL),
    _origin(INSTAGRAM_LOGIN_GRAPH_URL),
    "https://*.fbcdn.net",
    "https://*.fbsbx.com",
    "https://*.cdninstagram.com",
]
_csp_img_src += env.list("CSP_EXTRA_IMG_SRC", default=[])
_csp_policy = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": _csp_img_src,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": [
            "'self'",
            _origin(FACEBOOK_DIALOG_URL),
            _origin(THREADS_DIALOG_URL),
            _origin(INSTAGRAM_LOGIN_DIALOG_URL),
        ],
    }
}
# DJANGO_CSP_REPORT_ONLY=true reports violations (browser console) without blocking anything.
if env.bool("DJANGO_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp_policy
else:
    CONTENT_SECURITY_POLICY = _csp_policy

# Login throttling (django-allauth, counted in the default cache: Redis in production, so every
# web process shares the counts). After LOGIN_FAILED_RATE_LIMIT failures for one e-mail address
# the form refuses even the right password until the window passes. /admin/login/ sends staff to
# this same login page, so the admin is throttled too.
ACCOUNT_RATE_LIMITS = {
    "login": env.str("LOGIN_RATE_LIMIT", default="30/m/ip"),
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="10/m/ip,5/5m/key"),
}
# Behind proxies allauth takes the client address from X-Forwarded-For, counting this many
# proxies from the right (0: REMOTE_ADDR, so every client behind one proxy shares the IP limits).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)

# --- AI captions ---------------------------------------------------------------------------------
# "Draft with AI" (SPEC 10, apps.posts.captions). With OPENAI_API_KEY set, suggestions come from an
# OpenAI-compatible chat-completions API; without it, from the built-in offline generator.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="https://api.openai.com/v1")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
CAPTION_TIMEOUT_SECONDS = env.float("CAPTION_TIMEOUT_SECONDS", default=20.0)
CAPTION_MAX_RETRIES = env.int("CAPTION_MAX_RETRIES", default=2)
# All attempts and waits together: someone is waiting for the answer in the browser.
CAPTION_DEADLINE_SECONDS = env.float("CAPTION_DEADLINE_SECONDS", default=45.0)
# Suggestion requests per tenant per calendar month (UTC), by plan.
CAPTION_MONTHLY_LIMITS = {
    "basic": env.int("CAPTION_MONTHLY_LIMIT_BASIC", default=100),
    "pro": env.int("CAPTION_MONTHLY_LIMIT_PRO", default=1000),
    "enterprise": env.int("CAPTION_MONTHLY_LIMIT_ENTERPRISE", default=10000),
}
# USD per 1,000 tokens, for the per-tenant cost record (defaults: gpt-4o-mini list prices).
CAPTION_COST_PER_1K_TOKENS = {
    "input": env.str("CAPTION_COST_PER_1K_INPUT_TOKENS", default="0.00015"),
    "output": env.str("CAPTION_COST_PER_1K_OUTPUT_TOKENS", default="0.0006"),
}
CAPTION_CACHE_SECONDS = env.int("CAPTION_CACHE_SECONDS", default=300)

# --- Celery ----------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # A broker that needs no server and keeps queued messages on disk across restarts.
    _queue_dir = VAR_DIR / "celery" / "queue"
    _control_dir = VAR_DIR / "celery" / "control"
    for _dir in (_queue_dir, _control_dir):
        _dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True  # outcomes live in the database, not in a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes every database connection before and after each task unless this
# is set (then it closes them every 2 x N tasks). Workers keep their connections instead and
# recycle them by Django's own rules, CONN_MAX_AGE and the health checks (config/celery.py):
# opening a PostgreSQL connection per task was a third of a publication's cost (bench/publish).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# Take X-Request-ID from the proxy in front (only when that proxy sets or strips it).
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = env.bool("LOG_TRUST_REQUEST_ID_HEADER", default=False)

# --- Logging (structlog, one JSON object per line) ---------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'console'.")

_shared_processors: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_secrets,  # before any handler (or Sentry's breadcrumbs) sees the record
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_secrets,  # last before rendering: the traceback's text is redacted too
                structlog.processors.JSONRenderer(),
            ],
            "foreign_pre_chain": _shared_processors,
        },
        "console": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_secrets,
                structlog.dev.ConsoleRenderer(colors=False),
            ],
            "foreign_pre_chain": _shared_processors,
        },
    },
    "handlers": {"default": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["default"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},  # the request log comes from django-structlog
        # httpx logs whole request URLs at INFO; the Graph client logs each call itself, redacted.
        "httpx": {"level": "WARNING"},
    },
}

structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        *_shared_processors,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.UnicodeDecoder(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)

# --- Metrics and error reports (Prometheus, Sentry) -----------------------------------------------
# docs/operations.md, "Metrics and monitoring". Kept last: it wraps the middleware list above.

# Requests by view, method and status (django-prometheus): its two middlewares enclose all others.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`. Without it /metrics
# answers 403, unless METRICS_ALLOW_ANONYMOUS (on with DJANGO_DEBUG, for `make run`).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOW_ANONYMOUS = env.bool("METRICS_ALLOW_ANONYMOUS", default=DEBUG)
# The database gauges are read at most this often (shared through the cache); 0: every scrape.
METRICS_DATABASE_CACHE_SECONDS = env.int("METRICS_DATABASE_CACHE_SECONDS", default=10)
# Each Celery worker serves its own metrics (task outcomes, its Graph calls) on this port; 0: off.
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)
CELERY_METRICS_ADDRESS = env.str("CELERY_METRICS_ADDRESS", default="0.0.0.0")  # noqa: S104
# Several processes behind one exporter (gunicorn workers, a prefork pool) add up their metrics
# through files in this directory; prometheus_client reads the variable itself, at import.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from apps.core.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
