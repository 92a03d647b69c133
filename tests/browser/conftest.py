import os

# Playwright's sync API runs an event loop in the test thread; the ORM beside it must work.
# Set before any fixture touches the database (pytest-django sets the test database up lazily).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
