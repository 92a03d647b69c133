import os

import pytest
from django.db import connection

# Playwright's sync API runs an event loop in the test thread; the ORM beside it must work.
# Set before any fixture touches the database (pytest-django sets the test database up lazily).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    """The browser tests run in the SQLite pass of .ci/run: what they check (pages, keyboard,
    screen reader, French, CSP) does not depend on the database engine, which the other tests
    cover on both. Those marked `both_databases` (concurrent agents, one transaction per
    dossier of a bulk action) run in the PostgreSQL pass too."""
    if connection.vendor == "sqlite":
        return
    skip = pytest.mark.skip(
        reason="tests navigateur : passe SQLite de .ci/run, sauf ceux où le moteur compte"
    )
    for item in items:
        if "tests/browser/" in item.nodeid and not item.get_closest_marker("both_databases"):
            item.add_marker(skip)


# Runs before each document's own scripts; reports every Content-Security-Policy violation to
# the test, across navigations (an event listener alone would lose them with each new page).
REPORT_CSP = """
document.addEventListener('securitypolicyviolation', (e) => {
  const t = e.target;
  const element = t && t.nodeType === 1 ? t.localName + (t.id ? '#' + t.id : '') : '';
  window.__hubeeCspViolation(
    `${e.effectiveDirective || e.violatedDirective} refuse ${e.blockedURI || 'inline'}` +
    ` sur ${e.documentURI} (${element || (e.sample || '').slice(0, 60)})`
  );
}, true);
"""


@pytest.fixture
def csp_violations() -> list[str]:
    return []


@pytest.fixture
def page(page, csp_violations):
    """pytest-playwright's page, failing the test on any CSP violation (issue 19, finding 5).
    A test that provokes one on purpose empties `csp_violations` itself."""
    page.expose_function("__hubeeCspViolation", lambda text: csp_violations.append(text))
    page.add_init_script(REPORT_CSP)
    yield page
    if not page.is_closed():
        page.evaluate("0")  # a round trip: reports still on their way reach the test
    assert not csp_violations, "Violations de la Content-Security-Policy :\n" + "\n".join(
        csp_violations
    )
