"""Issue 19, finding 5: no Content-Security-Policy on HTML pages. The browser side (no page
violates it) is checked by the `page` fixture of tests/browser/conftest.py and the page walk."""

import pytest
from django.urls import reverse

from tests.conftest import log_in
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return dict(parts)


def test_pages_send_a_strict_content_security_policy(client):
    admin = AdminFactory()
    # Anonymous, agent, admin and sandbox pages.
    pages = [reverse("login")]
    log_in(client, admin)
    pages += [reverse("home"), reverse("admin:index"), reverse("sandbox:osl-home")]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response) == DIRECTIVES, url
    # No 'unsafe-inline', 'unsafe-eval' nor any other source anywhere.
    assert "unsafe" not in response.headers["Content-Security-Policy"]
