"""Issue 19, finding 5: the `page` fixture (tests/browser/conftest.py) fails a test on any
Content-Security-Policy violation; this shows that it sees one, and that the policy is enforced
(an inline script does not run). Every other browser test then proves its pages clean."""

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="le navigateur seul compte : passe SQLite"
    ),
]


def test_an_inline_script_is_refused_and_reported(live_server, page: Page, csp_violations):
    page.goto(f"{live_server.url}{reverse('login')}")
    page.evaluate("0")
    assert csp_violations == []  # the login page itself is clean
    with pytest.raises(Exception):  # noqa: B017, PT011  (Playwright's error for a refused tag)
        page.add_script_tag(content="window.__ran = true;")
    assert page.evaluate("window.__ran === undefined")
    page.evaluate("0")
    assert any("script-src" in v and "inline" in v for v in csp_violations), csp_violations
    csp_violations.clear()  # provoked on purpose: the fixture must not fail this test
