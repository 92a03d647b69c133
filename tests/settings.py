"""Test settings: the real settings, with a throw-away data folder."""

import os
import tempfile

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="hubee-test-data-"))
os.environ.setdefault("DEBUG", "true")

from hubee_portal.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Whatever the shell exports for `make run`: tests/antivirus turns clamd on with its own.
ANTIVIRUS = "off"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
# The in-process sandbox answers on the caller's thread, and the test database is the main
# thread's: polls run one démarche after the other. The fleet tests with real processes
# (tests/reliability) run the thread pool.
HUBEE_POLL_THREADS = 1
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = "INVALID_TEMPLATE_VARIABLE(%s)"  # noqa: F405

# A file, not the in-memory database: threads and other processes (sandbox server, workers)
# must see the same data, with WAL and busy timeouts as in production.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405

# HubEE's OpenAPI contract (public reference material beside the repository, never copied into
# it): when present, the sandbox validates every request and answer against it, as HubEE's
# gateway does. CI has it; without it the contract tests say why they did not run.
_HUBEE_OPENAPI = BASE_DIR.parent / "shared" / "hubee" / "openapi" / "api_folder_v1.2.7.yaml"  # noqa: F405
HUBEE_SANDBOX_OPENAPI = str(_HUBEE_OPENAPI) if _HUBEE_OPENAPI.is_file() else ""

# The in-process sandbox transport's host (hubee_portal/sandbox/transport.py): a name that never
# resolves, allowed like a HubEE host so that démarches on it pass the URL policy.
HUBEE_ALLOWED_HOSTS = [*HUBEE_ALLOWED_HOSTS, "sandbox.test"]  # noqa: F405
