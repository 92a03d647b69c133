import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium: no browser download works here.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def admin_user(db):
    from tests.factories import AdminFactory

    return AdminFactory()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture(autouse=True)
def _fresh_portal_identity():
    # The installation's name is cached per process (demarches.installation), refreshed when an
    # Organisation is saved: each test starts from an empty database's, without a query.
    from django.core.cache import cache

    from demarches.installation import CACHE_KEY, CACHE_SECONDS, product_identity

    cache.set(CACHE_KEY, product_identity(), CACHE_SECONDS)
