"""Scripts run in separate processes against a file database (never the test database)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from pathlib import Path

from tools.bench import harness

PROCESS_CODES = ["EtatCivil", "recensementCitoyen", "CERTDC"]
environment = harness.environment
manage = harness.manage
SandboxServer = harness.SandboxServer


def script(env: dict[str, str], call: str, timeout: int = 300):
    return harness.python(env, f"from tests.integration import live\n{call}", timeout=timeout)


# -- run inside the child processes ---------------------------------------------------------------


def setup(base_url: str, cases_per_demarche: int, seed: int = 7) -> None:
    from demarches.models import Demarche, HubEEConnection, Organisation
    from hubee_portal.sandbox import content
    from hubee_portal.sandbox import services as sandbox

    rng = random.Random(seed)
    organisation = Organisation.objects.create(name="Commune test", siret="21060088800015")
    connection = HubEEConnection.objects.create(
        name="Bac à sable",
        environment="autre",
        token_url=f"{base_url}/sandbox/oauth2/token",
        api_url=f"{base_url}/sandbox",
    )
    data_dir = Path(os.environ["DATA_DIR"])
    for code in PROCESS_CODES:
        rules = {"allows_messages": code != "CERTDC"}
        subscription = sandbox.create_subscription(code, f"id-{code}", f"secret-{code}", **rules)
        demarche = Demarche(
            name=code,
            process_code=code,
            organisation=organisation,
            connection=connection,
            client_id=f"id-{code}",
            download_folder=str(data_dir / "telechargements" / code),
            automatic_status="IN_PROGRESS" if code == "CERTDC" else "SI_RECEIVED",
            allows_messages=code != "CERTDC",
            enabled=True,
        )
        demarche.client_secret = f"secret-{code}"
        demarche.full_clean()
        demarche.save()
        for _ in range(cases_per_demarche):
            applicant = content.random_applicant(rng)
            external_id = content.new_external_id(code, rng)
            files = content.generate_files(code, applicant, external_id, rng)
            count = rng.randint(1, min(4, len(files)))
            sandbox.deposit_case(
                subscription,
                applicant={
                    "firstName": applicant.first_name,
                    "lastName": applicant.last_name,
                    "email": applicant.email,
                },
                files=[(f.file_name, f.type, f.mime_type, f.content) for f in files[:count]],
            )


def citizen_events(seed: int = 11) -> None:
    """After a first sync: complements, messages, closures and acknowledgements."""
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.models import Case, Event

    rng = random.Random(seed)
    for index, case in enumerate(Case.objects.order_by("external_id")):
        kind = index % 4
        if kind == 0:
            sandbox.osl_attach_deposit(
                case, [("complement.pdf", "jf", "application/pdf", rng.randbytes(3000))]
            )
        elif kind == 1 and case.subscription.allows_messages:
            sandbox.osl_message(case, "Voici une précision sur ma demande.")
        elif kind == 2:
            sandbox.osl_close(case)
        else:
            for event in Event.objects.filter(case=case, transmitter_type="SI"):
                sandbox.osl_acknowledge(event)


def report() -> None:
    """Print, as JSON, what a human would check: files identical, nothing left pending."""
    from dossiers.models import Dossier, PieceJointe
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.models import Attachment, Case, Subscription

    mismatches = []
    for attachment in Attachment.objects.filter(status="RECEIVED"):
        piece = PieceJointe.objects.filter(hubee_attachment_id=attachment.id).first()
        if piece is None:
            mismatches.append(f"missing {attachment.id}")
            continue
        data = piece.absolute_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            mismatches.append(f"different {attachment.id}")
    pending = sum(sandbox.pending_si_notifications(s) for s in Subscription.objects.all())
    pushes = {str(case.id): sandbox.status_pushes(case) for case in Case.objects.all()}
    temp_files = [
        str(p) for p in Path(os.environ["DATA_DIR"]).rglob(".hubee-part-*") if p.is_file()
    ]
    sys.stdout.write(
        json.dumps(
            {
                "cases": Case.objects.count(),
                "dossiers": Dossier.objects.count(),
                "files": PieceJointe.objects.filter(state="stored").count(),
                "mismatches": mismatches,
                "pending_notifications": pending,
                "status_pushes": pushes,
                "temp_files": temp_files,
            }
        )
        + "\n"
    )
