"""Answer, take and decide in a real browser, for each démarche of the sandbox: the send waits
(its delivery held back on purpose), the page says so, then follows it by itself to
« Transmis à HubEE » — with no navigation after the submit's redirect."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from demarches.models import Demarche
from dossiers import tasks
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.exchange.outbound import queue
from dossiers.models import Dossier
from hubee_portal.demo.seeding import DEMARCHES
from hubee_portal.sandbox import services as sandbox
from tests.browser.test_browser_agent import action_panel, enter_totp, live_portal, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_TIMEOUT = 20_000  # ms: the page asks every 2 s
TEMPLATE_NAME = "Réponse type"
TEMPLATE_TEXT = "Bonjour {prenom} {nom}, votre demande {numero} ({demarche}) est bien traitée."


def set_up(live_server, tmp_path, process_code: str):
    """The démarche as the demo configures it (hubee_portal.demo.seeding.DEMARCHES)."""
    portal = live_portal(
        live_server,
        tmp_path,
        process_code,
        rules=DEMARCHES[process_code],
        name=f"Démarche {process_code}",
    )
    return portal.demarche, portal.demarche.subscription


def add_template(demarche: Demarche) -> bool:
    """A reply template where the démarche allows messages (none for CERTDC)."""
    if not demarche.allows_messages:
        return False
    from demarches.models import ReplyTemplate

    ReplyTemplate.objects.create(demarche=demarche, name=TEMPLATE_NAME, text=TEMPLATE_TEXT)
    return True


class Watch:
    """Counts the page's navigations; a marker in `window` proves the document was kept."""

    def __init__(self, page: Page):
        self.page = page
        self.navigations = 0
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame):
        if frame == self.page.main_frame:
            self.navigations += 1

    def mark(self) -> int:
        self.page.evaluate("window.__kept = 'même document'")
        return self.navigations

    def kept(self, since: int) -> None:
        assert self.navigations == since, "the page navigated instead of refreshing its parts"
        assert self.page.evaluate("window.__kept") == "même document"


def perform(page: Page, label: str, *, template: bool = False, message: str = "") -> None:
    panel = action_panel(page, label)
    if not panel.evaluate("element => element.open"):
        panel.locator("summary").click()
    if template:
        panel.get_by_label("Modèle de réponse").select_option(label=TEMPLATE_NAME)
        panel.get_by_role("button", name="Insérer le modèle").click()
        form = page.locator("main form[method=post]").first
        expect(form.get_by_label(re.compile("^Message à l'usager"))).to_have_value(
            re.compile(r"^Bonjour .+ votre demande .+ est bien traitée\.$")
        )
    else:
        form = panel.locator("form")
        if message:
            form.get_by_label(re.compile("^Message à l'usager")).fill(message)
    form.get_by_label(re.compile(r"^Je confirme.*\(obligatoire\)$")).check()
    form.get_by_role("button", name=label).click()


def sent_live(page: Page, watch: Watch, dossier: Dossier, title: str) -> None:
    """After the submit's redirect: waiting, then « Transmis » with no navigation."""
    expect(page.locator(".messages")).to_contain_text("en attente d'envoi à HubEE")
    expect(page.locator(".messages")).to_be_focused()
    entry = page.locator(".conversation-list > li").filter(has_text=title).last
    expect(entry).to_contain_text("En attente d'envoi")
    since = watch.mark()
    tasks.send_outgoing(dossier.pk)  # the delivery, from another thread than the server's
    expect(entry).to_contain_text("Transmis à HubEE", timeout=LIVE_TIMEOUT)
    watch.kept(since)


@pytest.mark.parametrize("process_code", list(DEMARCHES))
def test_answer_take_and_decide_each_demarche(
    page, live_server, tmp_path, monkeypatch, process_code
):
    demarche, subscription = set_up(live_server, tmp_path, process_code)
    rules = DEMARCHES[process_code]
    with_template = add_template(demarche)
    main = sandbox.deposit_generated_case(subscription, seed=11)
    other = sandbox.deposit_generated_case(subscription, seed=12)
    sync_demarche(Demarche.objects.get(pk=demarche.pk))
    dossier = Dossier.objects.get(hubee_case_id=main.id)
    held: list[int] = []
    monkeypatch.setattr(queue, "request_delivery", held.append)

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/dossiers/{dossier.pk}/")
    if rules.get("sensitive"):  # CERTDC: the second factor before the dossier opens
        enter_totp(page, demarche.agents.get())
    watch = Watch(page)
    expected = [rules["automatic_status"]]
    if rules["allows_messages"]:
        perform(page, "Écrire à l'usager", template=with_template)
        sent_live(page, watch, dossier, "Message à l'usager")
    if rules["automatic_status"] == "SI_RECEIVED":
        perform(page, "Prendre en charge")
        sent_live(page, watch, dossier, "Passage au statut « En cours »")
        expected.append("IN_PROGRESS")
    if rules["allows_add_awaiting"]:
        perform(page, "Demander un complément", template=with_template)
        sent_live(page, watch, dossier, "Passage au statut « En attente de compléments »")
        expected.append("ADD_AWAITING")
    # The decisions appeared by themselves once the status was transmitted.
    # Templates are offered for messages, complements and refusals; a decision takes text.
    perform(
        page,
        "Clore : demande traitée",
        message="Votre demande est traitée." if rules["allows_messages"] else "",
    )
    sent_live(page, watch, dossier, "Passage au statut « Traité »")
    expected.append("DONE")
    expect(page.locator("#etat-dossier")).to_contain_text("Traité")
    assert sandbox.status_pushes(main) == expected
    assert held, "every action asked for its delivery, held back here"

    if rules["allow_refused"]:
        refused = Dossier.objects.get(hubee_case_id=other.id)
        page.goto(f"{live_server.url}/dossiers/{refused.pk}/")
        watch = Watch(page)
        perform(
            page,
            "Refuser la demande",
            template=with_template,
            message="" if with_template else "Refus.",
        )
        sent_live(page, watch, refused, "Passage au statut « Refusé »")
        assert sandbox.status_pushes(other)[-1] == "REFUSED"


def test_a_case_closed_on_hubee_shows_the_reason_and_no_retry(page, live_server, tmp_path):
    demarche, subscription = set_up(live_server, tmp_path, "EtatCivil")
    case = sandbox.deposit_generated_case(subscription, seed=21)
    sync_demarche(Demarche.objects.get(pk=demarche.pk))
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    sandbox.osl_close(case)  # closed on the citizen's side, not synced yet

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/dossiers/{dossier.pk}/")
    perform(page, "Prendre en charge")
    entry = page.locator(".conversation-list > li").filter(has_text="« En cours »").last
    expect(entry).to_contain_text("Refusé par HubEE")
    expect(entry).to_contain_text(
        "Le dossier a été clos côté usager : plus aucune action n'est possible."
    )
    expect(page.get_by_role("button", name=re.compile("^Réessayer"))).to_have_count(0)
