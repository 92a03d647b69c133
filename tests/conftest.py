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


def totp_token(user) -> str:
    """A code the portal will accept now for `user`, computed like an authenticator app from a
    real TOTP device (created if the user has none usable): the verification stays real."""
    import time

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    now = int(time.time())
    for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = now
        base = totp.t()
        real = base - device.drift
        # Steps the device accepts (tolerance, never one used before), nearest to the clock.
        steps = range(max(base - device.tolerance, device.last_t + 1), base + device.tolerance + 1)
        usable = sorted((s for s in steps if abs(s - real) <= 1), key=lambda s: abs(s - real))
        if usable:
            totp.drift = device.drift + usable[0] - base
            return f"{totp.token():0{device.digits}d}"
    # Every code of this half-minute is used (several logins of one user in one test).
    TOTPDevice.objects.create(user=user, name="Application de test", confirmed=True)
    return totp_token(user)


def verify_second_factor(client, user):
    """Complete the second factor through the portal's own page, with a real code."""
    from django.urls import reverse

    response = client.post(reverse("second-factor-verify"), {"code": totp_token(user)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def login_staff(client, user):
    """Log a staff user (or an agent of a sensitive démarche) in, second factor included."""
    client.force_login(user)
    return verify_second_factor(client, user)


def log_in(client, user):
    """Log any user in; those the portal asks a second factor of on every page complete it."""
    from hubee_portal.second_factor import required

    client.force_login(user)
    return verify_second_factor(client, user) if required(user) else client


@pytest.fixture
def admin_client(client, admin_user):
    return login_staff(client, admin_user)


@pytest.fixture(autouse=True)
def _fresh_portal_identity():
    # The installation's name is cached per process (demarches.installation), refreshed when an
    # Organisation is saved: each test starts from an empty database's, without a query.
    from django.core.cache import cache

    from demarches.installation import CACHE_KEY, CACHE_SECONDS, product_identity

    cache.set(CACHE_KEY, product_identity(), CACHE_SECONDS)
