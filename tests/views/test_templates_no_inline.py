"""Styles and scripts come from static files only (a strict Content-Security-Policy holds), the
portal's style sheet and icon are served, and the narrow-screen layout of tables has what it
needs: every cell of a stacked table is labelled by its column's header (RGAA 10.11)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from dossiers.models import NotificationFailure, OutgoingEvent, SyncRun
from tests.conftest import log_in
from tests.factories import AdminFactory, agent_for
from tests.views.conftest import received_dossier

TEMPLATES = Path(settings.BASE_DIR) / "templates"
TAG = r"<[a-zA-Z][^<>]*?"
FORBIDDEN = {
    "style attribute": re.compile(TAG + r"\sstyle\s*=", re.S),
    "style element": re.compile(r"<style\b", re.I),
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I),
    "event handler attribute": re.compile(TAG + r"\son[a-z]+\s*=", re.S | re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def template_files():
    return sorted(TEMPLATES.rglob("*.html"))


def test_there_are_templates_to_check():
    names = {str(path.relative_to(TEMPLATES)) for path in template_files()}
    assert {"base.html", "home.html", "admin/operations.html", "sandbox/case.html"} <= names


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_inline_style_script_or_handler(path):
    text = path.read_text(encoding="utf-8")
    found = [
        f"{name}: {match.group(0)[:80]!r}"
        for name, pattern in FORBIDDEN.items()
        for match in pattern.finditer(text)
    ]
    assert not found, found


def test_the_patterns_catch_what_they_forbid():
    samples = {
        "style attribute": '<svg viewBox="0 0 1 1" style="max-width: 1px">',
        "style element": "<style>p{}</style>",
        "inline script": "<script>alert(1)</script>",
        "event handler attribute": '<button type="button" onclick="go()">',
        "javascript: URL": '<a href="javascript:void(0)">',
    }
    for name, sample in samples.items():
        assert FORBIDDEN[name].search(sample), name
    # What is allowed: a script file, SVG presentation attributes, template blocks.
    allowed = '<script src="/static/x.js"></script> <rect x="1" fill="#000"> {% block extrastyle %}'
    assert not any(pattern.search(allowed) for pattern in FORBIDDEN.values())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("portal/portal.css", "text/css"),
        ("portal/admin.css", "text/css"),
        ("portal/favicon.svg", "image/svg+xml"),
    ],
)
def test_static_files_are_found_and_served(client, settings, tmp_path, path, content_type):
    # Development (runserver, DEBUG): whitenoise finds them in STATICFILES_DIRS.
    settings.WHITENOISE_USE_FINDERS = True
    assert finders.find(path)
    response = client.get(static(path))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    # Production: collectstatic copies them to STATIC_ROOT, which whitenoise serves.
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / path).is_file()


@pytest.mark.django_db
def test_pages_link_the_style_sheet_and_the_icon(client):
    page = client.get(reverse("login")).content.decode()
    assert f'<link rel="stylesheet" href="{static("portal/portal.css")}">' in page
    assert f'<link rel="icon" href="{static("portal/favicon.svg")}" type="image/svg+xml">' in page
    log_in(client, AdminFactory())
    admin_page = client.get(reverse("admin:index")).content.decode()
    assert f'href="{static("portal/admin.css")}"' in admin_page
    assert f'<link rel="icon" href="{static("portal/favicon.svg")}"' in admin_page


class StackedTables(HTMLParser):
    """The header texts and the cells' data-label of every table.stack of a page."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self.depth = 0  # inside a table.stack
        self.in_head = False
        self.header: list[str] | None = None
        self.hidden = 0  # inside an aria-hidden element (the sort arrows)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "stack" in (attrs.get("class") or "").split():
            self.tables.append({"headers": [], "labels": []})
            self.depth = 1
        elif not self.depth:
            return
        elif tag == "thead":
            self.in_head = True
        elif tag == "th" and self.in_head:
            self.header = []
        elif tag == "td":
            self.tables[-1]["labels"].append(attrs.get("data-label"))
        if attrs.get("aria-hidden") == "true":
            self.hidden += 1

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth = 0
        elif tag == "thead":
            self.in_head = False
        elif tag == "th" and self.header is not None:
            self.tables[-1]["headers"].append(" ".join("".join(self.header).split()))
            self.header = None
        elif tag == "span" and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if self.header is not None and not self.hidden:
            self.header.append(data)


def stacked_tables(html: str) -> list[dict]:
    parser = StackedTables()
    parser.feed(html)
    return parser.tables


def assert_cells_labelled(html: str) -> int:
    tables = stacked_tables(html)
    for table in tables:
        assert table["labels"], table
        assert set(table["labels"]) <= set(table["headers"]), table
    return len(tables)


@pytest.mark.django_db
def test_every_cell_of_a_stacked_table_says_its_column(portal, login):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED")
    _case, dossier = received_dossier(portal, demarche)
    OutgoingEvent.objects.create(
        dossier=dossier,
        action_type="SENDING_MESSAGE",
        message="m",
        author="a",
        state="failed",
        last_error="HubEE refused the request",
    )
    now = timezone.now()
    SyncRun.objects.create(
        demarche=demarche, started_at=now - timedelta(minutes=1), status="ok", finished_at=now
    )
    NotificationFailure.objects.create(
        demarche=demarche,
        notification_id="11111111-1111-1111-1111-111111111111",
        kind="transient",
        error="HubEE server error",
        attempts=2,
    )
    client = login(agent_for(demarche))
    tables = 0
    tables += assert_cells_labelled(client.get(reverse("home")).content.decode())
    tables += assert_cells_labelled(client.get(reverse("dossiers:list")).content.decode())
    detail = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    tables += assert_cells_labelled(detail)
    # Failures; the list; attachments (the sends are in the conversation now, the sync log
    # on « État du portail »).
    assert tables == 3


@pytest.mark.django_db
def test_favicon_ico_points_to_the_svg_icon_without_login(client, settings):
    # Browsers ask for /favicon.ico on JSON answers and downloads too.
    settings.WHITENOISE_USE_FINDERS = True
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.svg")
    assert client.get(response["Location"]).status_code == 200
