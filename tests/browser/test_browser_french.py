"""French wherever an agent looks (issue 16): the sandbox is driven through each fault switch and
refusal, a sync and an agent's action run under it, then no agent page — nor the agents' and
administrators' e-mails — may show a technical word: an HTTP code, a path, HubEE's own text, a
Python value.

Each fault is its own test; a failure names the fault, the page and the word, with the text
around it, and says when the text is a push's last_error (OutgoingEvent.last_error, shown by
the dossier page's sends).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core import mail
from playwright.sync_api import Page

from dossiers.enums import AlertMode, AttachmentState, OutgoingState, RunFailure, RunStatus
from dossiers.models import Dossier, OutgoingEvent, PieceJointe, SyncRun
from dossiers.operations import health, incidents
from dossiers.records.alerts import set_alert_mode
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.models import Subscription
from tests.browser.test_browser_agent import LivePortal, live_portal, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The words, with word boundaries, case as written.
# The words, the English ones in any case (« Error », « Failed »…).
TECHNICAL = re.compile(
    r"\b(HTTP|Traceback|None)\b|GET /|POST /|\b(?i:error|rejected|invalid|failed)\b"
)
# The mails of Django's AdminEmailHandler (the log of a server error), not the portal's own.
LOG_MAIL = re.compile(r"^(\[[^]]+\] )+(CRITICAL|ERROR|WARNING) ")
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused
ACTION = "prendre-en-charge"  # a status push: what HubEE refuses on a closed case


@dataclass
class Leak:
    fault: str
    page: str
    word: str
    around: str
    last_error: bool  # the text is a push's OutgoingEvent.last_error

    def __str__(self) -> str:
        whose = " [OutgoingEvent.last_error des envois]" if self.last_error else ""
        return f"{self.fault} — {self.page} : « {self.word} » dans « {self.around} »{whose}"


# -- the faults: each prepares the sandbox (or the connection) after the first good sync -------


def closed_case(portal: LivePortal, case) -> None:
    # The operator closes the case on HubEE's side; the portal does not know yet.
    sandbox.osl_close(case)


def expired_token(portal: LivePortal, case) -> None:
    sandbox.set_faults(token_lifetime=1)
    sandbox.expire_tokens()


def revoked_secret(portal: LivePortal, case) -> None:
    Subscription.objects.filter(pk=portal.demarche.subscription.pk).update(
        client_secret="secret-revoque"
    )
    sandbox.expire_tokens()


def server_errors(portal: LivePortal, case) -> None:
    sandbox.set_faults(error_rate=1, faults_per_resource=0)


def throttled(portal: LivePortal, case) -> None:
    sandbox.set_faults(throttle_rate=1, throttle_retry_after=0, faults_per_resource=0)


def wrong_digest(portal: LivePortal, case) -> None:
    portal.deposit()  # a new case: its files are downloaded under the fault
    sandbox.set_faults(wrong_digest=True, faults_per_resource=0)


def lost_answers(portal: LivePortal, case) -> None:
    sandbox.set_faults(drop_response_after_post=True, faults_per_resource=0)


def unreachable(portal: LivePortal, case) -> None:
    connection = portal.demarche.connection
    connection.token_url = f"{UNREACHABLE}/oauth2/token"
    connection.api_url = UNREACHABLE
    connection.save()


def last_run_failed(kind: str) -> Callable[[], str | None]:
    def check() -> str | None:
        run = SyncRun.objects.order_by("-started_at", "-pk").first()
        if run and (run.status, run.failure_kind) == (RunStatus.FAILED, kind):
            return None
        return f"dernière synchronisation {run and (run.status, run.failure_kind)}"

    return check


def push_refused() -> str | None:
    states = set(OutgoingEvent.objects.filter(created_by__isnull=False).values_list("state"))
    return None if (OutgoingState.FAILED,) in states else f"envois de l'agent : {states}"


def last_run_ok() -> str | None:
    run = SyncRun.objects.order_by("-started_at", "-pk").first()
    return None if run and run.status == RunStatus.OK else f"dernière synchronisation {run}"


def push_sent() -> str | None:
    states = set(OutgoingEvent.objects.filter(created_by__isnull=False).values_list("state"))
    return None if (OutgoingState.SENT,) in states else f"envois de l'agent : {states}"


def file_corrupt() -> str | None:
    corrupt = PieceJointe.objects.filter(state=AttachmentState.CORRUPT).exists()
    return None if corrupt else "aucune pièce corrompue"


# Each fault, and what proves it hit (None: it did).
FAULTS: dict[str, tuple[Callable[[LivePortal, object], None], Callable[[], str | None]]] = {
    "dossier clos côté usager": (closed_case, push_refused),
    "jeton expiré": (expired_token, last_run_ok),
    "secret révoqué": (revoked_secret, last_run_failed(RunFailure.CREDENTIALS)),
    "HubEE en erreur (5xx)": (server_errors, last_run_failed(RunFailure.HUBEE)),
    "HubEE limite les appels (429)": (throttled, last_run_failed(RunFailure.HUBEE)),
    "empreinte fausse": (wrong_digest, file_corrupt),
    "HubEE injoignable": (unreachable, last_run_failed(RunFailure.HUBEE)),
    # Beyond the list: the lost answer of an event's creation.
    "réponse perdue après un envoi": (lost_answers, push_sent),
}


# -- what the agent does and sees ----------------------------------------------------------------


def act(page: Page, portal: LivePortal, dossier: Dossier) -> None:
    """Take the dossier in charge from its action page: whatever its fields and labels, fill
    the text, tick the confirmation, submit. A refused action (a pending or closed dossier)
    leaves its page, without a form, to be looked at."""
    page.goto(f"{portal.url}/dossiers/{dossier.pk}/actions/{ACTION}/")
    forms = page.locator("main form").filter(has=page.locator("textarea, input[type=checkbox]"))
    if not forms.count():
        return
    form = forms.last
    for area in form.locator("textarea").all():
        area.fill("Votre dossier est pris en charge.")
    for box in form.locator("input[type=checkbox]").all():
        box.check()
    form.locator("button[type=submit]").last.click()
    page.wait_for_load_state()


def sync_now(page: Page, portal: LivePortal) -> None:
    page.goto(f"{portal.url}/")
    page.get_by_role("button", name="Synchroniser maintenant").click()
    page.wait_for_load_state()


def leaks_in(text: str, fault: str, name: str, last_errors: list[str]) -> list[Leak]:
    found = []
    for match in TECHNICAL.finditer(text):
        start, end = match.start(), match.end()
        around = " ".join(text[max(0, start - 60) : end + 60].split())
        line_end = text.find("\n", end)
        line = text[text.rfind("\n", 0, start) + 1 : line_end if line_end >= 0 else len(text)]
        # A push's error names its case (/cases/<id>/…): its first 80 characters on the line
        # tell it from a run's message, which names no case.
        from_push = any(match.group(0) in error and error[:80] in line for error in last_errors)
        found.append(Leak(fault, name, match.group(0), around, from_push))
    return found


@pytest.mark.parametrize("fault", list(FAULTS))
def test_no_technical_word_reaches_an_agent_page(page, live_server, tmp_path, settings, fault):
    settings.ADMINS = [("Informatique", "informatique@mairie.example")]
    portal = live_portal(live_server, tmp_path)
    portal.agent.email = "agent@mairie.example"
    portal.agent.save()
    set_alert_mode(portal.agent, AlertMode.IMMEDIATE)
    # A client that gives up at once: the faults hit every attempt, retries would only wait.
    connection = portal.demarche.connection
    connection.http_retries = 0
    connection.save()
    case = portal.deposit()
    portal.sync()
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    log_in(page, portal.url)

    prepare, hit = FAULTS[fault]
    prepare(portal, case)
    leaks: list[Leak] = []

    def look(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(f"{portal.url}{path}")
        last_errors = [
            e for e in OutgoingEvent.objects.values_list("last_error", flat=True) if e.strip()
        ]
        text = page.evaluate("document.body.innerText")
        leaks.extend(leaks_in(text, fault, name, last_errors))

    act(page, portal, dossier)
    look("dossier, juste après l'action")
    sync_now(page, portal)
    look("tableau de bord, juste après « Synchroniser maintenant »")
    # The agent comes back later: the sends have been tried again meanwhile.
    act(page, portal, dossier)
    look("page d'action ou dossier, à la seconde action")
    look("tableau de bord", "/")
    look("liste des dossiers", "/dossiers/")
    look("dossier", f"/dossiers/{dossier.pk}/")
    for other in Dossier.objects.exclude(pk=dossier.pk):
        look(f"dossier {other.external_id}", f"/dossiers/{other.pk}/")
    look("mes alertes", "/mes-alertes/")
    # The e-mails: the agents' alerts, and the administrators' incident mails.
    health.beat()
    incidents.evaluate()
    for sent in mail.outbox:
        if LOG_MAIL.match(sent.subject):
            continue  # Django's error report of the sandbox's own 5xx: the log, for the IT person
        name = f"courriel « {sent.subject} »"
        leaks.extend(leaks_in(f"{sent.subject}\n{sent.body}", fault, name, []))
    missed = hit()
    assert missed is None, f"la panne « {fault} » n'a pas eu lieu : {missed}"

    if leaks:
        lead = [leak for leak in leaks if leak.last_error]
        summary = (
            f"{len(leaks)} mot(s) technique(s) sous la panne « {fault} », dont {len(lead)} "
            "venant du seul OutgoingEvent.last_error des envois (page du dossier) :"
        )
        pytest.fail("\n".join([summary, *(f"- {leak}" for leak in leaks)]), pytrace=False)
