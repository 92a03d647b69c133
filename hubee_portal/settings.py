"""Settings, read from the environment (and an optional .env file) with django-environ.

Every variable is documented in .env.example.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from hubee_portal import PRODUCT_NAME, environment, keys, proconnect_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
ENV_FILE = Path(environ.Env().str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    env.read_env(ENV_FILE)

# Production unless said otherwise: development (`make run`, the tests) sets DEBUG=true.
DEBUG = env.bool("DEBUG", default=False)
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data"))).resolve()


def _key(name: str, filename: str, generate) -> tuple[str, str]:
    """The key, and where it comes from (for error messages)."""
    value = env.str(name, default="")
    if value:
        return value, name
    path = DATA_DIR / filename
    if not DEBUG:
        message = (
            f"{name} est obligatoire quand DEBUG est désactivé (la production, par défaut) : "
            f"définissez-la dans l'environnement ou dans {ENV_FILE} (voir .env.example). "
            "En développement, DEBUG=true la génère dans DATA_DIR."
        )
        if path.is_file():
            # An install that ran on the former default (DEBUG on) keeps its keys there.
            message += (
                f" Une clé a déjà été générée dans {path} (DEBUG était actif par défaut "
                f"jusqu'ici) : si ce portail est en service, recopiez-la dans {name}."
            )
        raise ImproperlyConfigured(message)
    # Development: generated once and reused, so yesterday's secrets still decrypt today.
    return keys.load_or_create(path, generate), f"Le fichier {path}"


SECRET_KEY = _key("SECRET_KEY", "secret_key", keys.new_secret_key)[0]
# Fernet keys, comma-separated: the first encrypts, all decrypt (rotation). Checked here, so a
# bad key stops the start instead of the first sync.
ENCRYPTION_KEYS = keys.encryption_keys(
    *_key("ENCRYPTION_KEY", "encryption.key", keys.new_encryption_key)
)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "django_filters",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "demarches",
    "dossiers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer that has none (files keep their own sandbox).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the TOTP (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: an expired session is ended with a message on the login page.
    "hubee_portal.idle_timeout.IdleTimeoutMiddleware",
    # After LoginRequiredMiddleware: staff, and agents opening a sensitive dossier, need it.
    "hubee_portal.second_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the French lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "hubee_portal.urls"
WSGI_APPLICATION = "hubee_portal.wsgi.application"

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
                # The installation's name, logo, environment banner and footer (issue 21).
                "demarches.installation.context",
            ],
            # Tag libraries outside an app's templatetags package.
            "libraries": {
                "operations": "dossiers.operations.templatetags",
                "portal": "dossiers.web.templatetags.portal",
                "previews": "dossiers.web.templatetags.previews",
                "badges": "hubee_portal.badges",
            },
        },
    },
]

# Database: an SQLite file in the data folder unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'hubee_portal.sqlite3'}")
}
SQLITE_SYNCHRONOUS = env.str("SQLITE_SYNCHRONOUS", default="FULL").upper()
if SQLITE_SYNCHRONOUS not in {"FULL", "NORMAL", "EXTRA"}:
    raise ImproperlyConfigured(
        f"SQLITE_SYNCHRONOUS vaut FULL (par défaut), EXTRA ou NORMAL, pas {SQLITE_SYNCHRONOUS!r}."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the web server read while the worker writes; IMMEDIATE takes the write
            # lock at BEGIN so concurrent writers wait (busy timeout) instead of failing.
            # synchronous=FULL: a COMMIT is on disk before the sync deletes the notification on
            # HubEE (NORMAL could lose the last rows to a power cut).
            "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={SQLITE_SYNCHRONOUS};",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# How long the link of an invitation or of « Mot de passe oublié ? » works, in seconds
# (3 days by default: an agent invited on Friday still can on Monday morning).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# -- Second factor and sessions (issue 20) ----------------------------------------------------
# TOTP (django-otp): staff and superusers on every page, agents before opening a dossier of a
# sensitive démarche (hubee_portal.second_factor). Wrong codes are throttled per device: each
# failure doubles the wait before the next try (1 s, 2 s, 4 s…), reset by a right code.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Portail de réception HubEE")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# A session ends after SESSION_IDLE_TIMEOUT seconds without a page opened (8 hours by default),
# and SESSION_COOKIE_AGE seconds after the login whatever happens (two weeks by default).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=8 * 3600)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
# -- end of the second factor and sessions -----------------------------------------------------

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one account
# from one address, that pair is refused for AXES_COOLOFF_MINUTES; after
# AXES_ACCOUNT_FAILURE_LIMIT for one account from any addresses, the account is, for the same
# cool-off (hubee_portal.login_throttle). Never a permanent lock.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ACCOUNT_FAILURE_LIMIT = env.int("AXES_ACCOUNT_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# The connection logs (account, address, browser, dates: django-axes' AccessLog and
# AccessFailureLog) are erased after LOGIN_LOG_RETENTION_MONTHS, each night with the audit purge.
LOGIN_LOG_RETENTION_MONTHS = env.int("LOGIN_LOG_RETENTION_MONTHS", default=12)
if LOGIN_LOG_RETENTION_MONTHS < 1:
    raise ImproperlyConfigured(
        "LOGIN_LOG_RETENTION_MONTHS doit valoir au moins 1 (mois) : c'est la durée de "
        "conservation du journal des connexions, fixée avec le DPO (12 par défaut)."
    )
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "hubee_portal.login_throttle.AccountThrottle"
# Tries refused during a lockout do not restart it: an attacker cannot keep an account locked
# beyond the cool-off by trying on.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_LOCKOUT_CALLABLE = "hubee_portal.login_throttle.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
# Behind the TLS proxy, the client address is the X-Forwarded-For entry TRUSTED_PROXY_COUNT
# hops from the right (one proxy that appends: the last); 0 ignores the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT vaut 0 ou plus (nombre de proxys de confiance)."
    )
AXES_CLIENT_IP_CALLABLE = "dossiers.records.access.client_ip"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The portal's own style sheets and icon (hubee_portal is not an installed app).
STATICFILES_DIRS = [BASE_DIR / "hubee_portal" / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Development serves static files from the apps without collectstatic.
WHITENOISE_AUTOREFRESH = DEBUG


# Modes of citizens' files and of the folders the portal creates, and of the SQLite database
# (octal; the group can be a backup or antivirus account, never every account of the server).
def _mode(name: str, default: str, owner_needs: int) -> int:
    raw = env.str(name, default=default)
    try:
        value = int(raw, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o777 or value & owner_needs != owner_needs:
        raise ImproperlyConfigured(
            f"{name} est un mode octal (par exemple {default}) qui laisse au propriétaire "
            f"{oct(owner_needs)[2:]}, pas {raw!r}."
        )
    return value


HUBEE_FILE_MODE = _mode("HUBEE_FILE_MODE", "0640", 0o600)
HUBEE_DIR_MODE = _mode("HUBEE_DIR_MODE", "0750", 0o700)

# Root under which démarche download folders are suggested (each démarche has its own folder).
HUBEE_DOWNLOAD_ROOT = Path(
    env.str("HUBEE_DOWNLOAD_ROOT", default=str(DATA_DIR / "telechargements"))
).resolve()

# django-q2: Redis when REDIS_URL is set, otherwise the database (ORM broker).
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    # Its broker queue's name: installations sharing a Redis need their own.
    "name": env.str("Q_CLUSTER_NAME", default="hubee_portal"),
    # SQLite takes one writer at a time: one worker. Raise Q_WORKERS with PostgreSQL.
    "workers": env.int("Q_WORKERS", default=1),
    "timeout": env.int("Q_TIMEOUT", default=3600),
    # Must exceed timeout, or a long task is delivered twice.
    "retry": env.int("Q_TIMEOUT", default=3600) + 600,
    "max_attempts": 1,
    "catch_up": False,
    "label": "Tâches",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

EMAIL_CONFIG = env.email_url(
    "EMAIL_URL",
    default="consolemail://" if DEBUG else "smtp://localhost:25",
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hubee-portal@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Administrateur", a) for a in env.list("ADMIN_EMAILS", default=[])]

# Security: strict by default outside DEBUG, so that `check --deploy` is clean.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp): scripts, styles and images from the portal only, no
# inline script, style or style attribute, no plugin, no framing, forms posted to the portal.
# The Django admin and the sandbox live under the same policy (no inline code in 5.2's admin).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "one_line_refusals": {"()": "hubee_portal.log_filters.OneLineRefusals"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        # Django's own, as in its default configuration: server errors mailed to ADMINS.
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Without Django's second console handler (DEBUG), which printed each line twice.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        # A second click on an action, a non-staff user on the sandbox: one line each.
        "django.request": {"filters": ["one_line_refusals"]},
        "django_q": {"level": "WARNING"},
    },
}

# HubEE client and sync job.
HUBEE_SYNC_CONCURRENCY = env.int("HUBEE_SYNC_CONCURRENCY", default=4)
HUBEE_SYNC_INTERVAL_MINUTES = env.int("HUBEE_SYNC_INTERVAL_MINUTES", default=1)
# Each minute, the due démarches are listed in batches (docs/grandes-installations.md).
HUBEE_POLL_BATCH_SIZE = env.int("HUBEE_POLL_BATCH_SIZE", default=250)
HUBEE_POLL_THREADS = env.int("HUBEE_POLL_THREADS", default=8)
# Adaptive polling (0: off): a démarche without notification for that long is polled every
# HUBEE_IDLE_POLL_MINUTES (5 at most) until a notification or a person's request.
HUBEE_IDLE_AFTER_MINUTES = env.int("HUBEE_IDLE_AFTER_MINUTES", default=0)
HUBEE_IDLE_POLL_MINUTES = min(max(env.int("HUBEE_IDLE_POLL_MINUTES", default=5), 1), 5)
HUBEE_CONNECT_TIMEOUT = env.float("HUBEE_CONNECT_TIMEOUT", default=10.0)
HUBEE_READ_TIMEOUT = env.float("HUBEE_READ_TIMEOUT", default=120.0)
# Outgoing proxy (also honoured: HTTPS_PROXY) and CA bundle for HubEE's certificates.
HUBEE_PROXY = env.str("HUBEE_PROXY", default="")
HUBEE_CA_BUNDLE = env.str("HUBEE_CA_BUNDLE", default="")
# Bounds on what HubEE sends: a JSON answer read up to HUBEE_MAX_JSON_BYTES; a file written up
# to HUBEE_MAX_FILE_BYTES (refused past it); a file failing its size or digest check on
# HUBEE_DOWNLOAD_MAX_FAILURES runs is given up (an incident; a staff retry is possible).
HUBEE_MAX_JSON_BYTES = env.int("HUBEE_MAX_JSON_BYTES", default=4 * 1024 * 1024)
HUBEE_MAX_FILE_BYTES = env.int("HUBEE_MAX_FILE_BYTES", default=512 * 1024 * 1024)
HUBEE_DOWNLOAD_MAX_FAILURES = env.int("HUBEE_DOWNLOAD_MAX_FAILURES", default=5)
# Built-in fake HubEE API served under /sandbox/ (on in development, off in production).
HUBEE_SANDBOX = env.bool("HUBEE_SANDBOX", default=DEBUG)
if HUBEE_SANDBOX:
    # The fake HubEE, the demo of `make run` and the benchmarks: absent from a production
    # install (no table, URL, schedule or command of theirs).
    INSTALLED_APPS += ["hubee_portal.sandbox", "hubee_portal.demo", "tools.bench"]
# The only hosts a client secret is sent to (`.example.fr` matches subdomains); by default
# HubEE's own, those of demarches.enums.ENVIRONMENT_URLS (a test keeps both lists equal).
# While HUBEE_SANDBOX is on, http and the loopback are accepted too (demarches.validators).
HUBEE_ALLOWED_HOSTS = env.list(
    "HUBEE_ALLOWED_HOSTS",
    default=[
        "auth.bas.hubee.numerique.gouv.fr",
        "api.bas.hubee.numerique.gouv.fr",
        "auth.basrec.hubee.numerique.gouv.fr",
        "api.basrec.hubee.numerique.gouv.fr",
        "auth.hubee.numerique.gouv.fr",
        "api.hubee.numerique.gouv.fr",
    ],
)

# Agent pages.
DOSSIERS_PER_PAGE = env.int("DOSSIERS_PER_PAGE", default=25)
# Outbox: attempts of one push before it is shown as failed (the agent may retry it).
HUBEE_OUTBOX_MAX_ATTEMPTS = env.int("HUBEE_OUTBOX_MAX_ATTEMPTS", default=8)
# Largest document an agent may return to the citizen (HubEE accepts up to 1 Go).
HUBEE_RETURN_MAX_BYTES = env.int("HUBEE_RETURN_MAX_BYTES", default=100 * 1024 * 1024)
# Audit trail of consultations, downloads and actions: kept AUDIT_RETENTION_MONTHS months
# (36 at least: the trace must outlive any dispute about a dossier), then purged daily.
AUDIT_RETENTION_MONTHS = env.int("AUDIT_RETENTION_MONTHS", default=36)
if AUDIT_RETENTION_MONTHS < 36:
    raise ImproperlyConfigured(
        "AUDIT_RETENTION_MONTHS doit valoir au moins 36 : la trace des consultations et des "
        "actions est conservée trois ans au minimum."
    )
# Absolute address of the portal, for the links in e-mail alerts.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Hour (local time) of the daily digest e-mail.
DIGEST_HOUR = env.int("DIGEST_HOUR", default=7)

# Operations: /healthz answers 503 (and administrators get one e-mail per incident) when the
# worker has not beaten for HEALTH_WORKER_SILENCE_MINUTES, an active démarche has had no
# successful sync for HEALTH_SYNC_MAX_AGE_MINUTES or failed HEALTH_FAILED_RUNS times in a row,
# or a download folder has less than HEALTH_MIN_FREE_MB free.
HEALTH_WORKER_SILENCE_MINUTES = env.int("HEALTH_WORKER_SILENCE_MINUTES", default=5)
HEALTH_SYNC_MAX_AGE_MINUTES = env.int("HEALTH_SYNC_MAX_AGE_MINUTES", default=60)
HEALTH_FAILED_RUNS = env.int("HEALTH_FAILED_RUNS", default=3)
HEALTH_MIN_FREE_MB = env.int("HEALTH_MIN_FREE_MB", default=1024)
# Anonymous /healthz answers only its status; this bearer token (or a staff session) gets the
# details. Empty: no token opens them.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")

# Antivirus (docs/installation-et-production.md, « Antivirus ») : every stored file is scanned
# by clamd before agents may open it. ANTIVIRUS=clamd or off. Production must say which (an
# administrator decides to run without one; `check --deploy` warns on off); development does not
# scan, unless CLAMD_SOCKET is set (`make run`). Empty counts as unset (a blank .env line).
CLAMD_SOCKET = env.str("CLAMD_SOCKET", default="")
ANTIVIRUS = env.str("ANTIVIRUS", default="")
if not ANTIVIRUS and not DEBUG:
    raise ImproperlyConfigured(
        "ANTIVIRUS est obligatoire quand DEBUG est désactivé (la production, par défaut) : "
        f"mettez ANTIVIRUS=clamd dans l'environnement ou dans {ENV_FILE} pour que chaque fichier "
        "reçu soit analysé par clamd (paquet clamav-daemon, voir .env.example et "
        "docs/installation-et-production.md, « Antivirus »), ou ANTIVIRUS=off pour s'en passer "
        "(déconseillé : check --deploy et la page « État du portail » le signaleront)."
    )
ANTIVIRUS = ANTIVIRUS or ("clamd" if CLAMD_SOCKET else "off")
if ANTIVIRUS not in ("clamd", "off"):
    raise ImproperlyConfigured(
        f"ANTIVIRUS vaut clamd (analyse de chaque fichier, avec CLAMD_SOCKET) ou off (aucune "
        f"analyse, déconseillé), pas {ANTIVIRUS!r}."
    )
CLAMD_SOCKET = CLAMD_SOCKET or "/run/clamav/clamd.ctl"  # Debian's clamav-daemon
# Infected files are moved here, outside every démarche folder (other tools read those).
HUBEE_QUARANTINE_DIR = Path(
    env.str("HUBEE_QUARANTINE_DIR", default=str(DATA_DIR / "quarantaine"))
).resolve()

# -- ProConnect (docs/proconnect.md): PROCONNECT_* and OIDC_*, read in proconnect_settings --------
globals().update(
    proconnect_settings.from_environment(
        env, fake=DEBUG and HUBEE_SANDBOX, base_url=PORTAL_BASE_URL, secret_key=SECRET_KEY
    )
)
AUTHENTICATION_BACKENDS += ["demarches.proconnect.backend.ProConnectBackend"]
# ProConnect's answers are no password guesses: django-axes does not count them.
AXES_WHITELIST_CALLABLE = "demarches.proconnect.logout.is_provider_answer"

# -- The installation: its identity, environment and accessibility (issue 21) -------------------
# Name and logo in the header, titles and e-mails: the one Organisation's by default;
# PORTAL_NAME and PORTAL_LOGO (a PNG or JPEG file) for an installation serving several.
PORTAL_NAME = env.str("PORTAL_NAME", default="")
PORTAL_LOGO = env.str("PORTAL_LOGO", default="")
# production, preproduction, recette or demonstration: outside production, a banner on every page
# and a tag on every e-mail subject (hubee_portal.environment).
PORTAL_ENVIRONMENT = environment.validated(
    env.str("PORTAL_ENVIRONMENT", default="demonstration" if HUBEE_SANDBOX else "production")
)
# Django's own mails (ADMINS): « [RECETTE] [Nom] … ».
EMAIL_SUBJECT_PREFIX = environment.tag(PORTAL_ENVIRONMENT) + f"[{PORTAL_NAME or PRODUCT_NAME}] "
# The mention on every page (RGAA): « non conforme » until an audit says otherwise; the rate
# (% of criteria respected) is required for « partiellement conforme ».
PORTAL_ACCESSIBILITY, PORTAL_ACCESSIBILITY_RATE = environment.accessibility(
    env.str("PORTAL_ACCESSIBILITY", default="non conforme"),
    env.int("PORTAL_ACCESSIBILITY_RATE", default=0),
)
# Contacts for the accessibility statement and the data notice, if the Organisation has none.
PORTAL_CONTACT = env.str("PORTAL_CONTACT", default="")
PORTAL_DPO_CONTACT = env.str("PORTAL_DPO_CONTACT", default="")
