import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM beside it must work.
# Set before any fixture touches the database (pytest-django sets the test database up lazily).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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
