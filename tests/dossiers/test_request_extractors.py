"""« La demande »: every extractor on every sample, real and sandbox, and on hostile shapes.

The real samples are read from the reference folder beside the repository (never copied
into it); the sandbox ones are generated for several seeds.
"""

from __future__ import annotations

import io
import random

import pytest
from django.conf import settings

from dossiers.web.request import EXTRACTORS, fields, xmlparse
from dossiers.web.request.summary import RequestSummary
from hubee_portal.sandbox import content

SAMPLES = settings.BASE_DIR.parent / "shared" / "hubee" / "samples"
REAL = {
    "EtatCivil": SAMPLES / "EtatCivil" / "ActeEtatCivil-XML.xml",
    "recensementCitoyen": SAMPLES / "recensementCitoyen" / "10870-XML.xml",
    # A placeholder (an EtatCivil request with CRLF line ends), per the samples' README.
    "JeChangeDeCoordonnees": SAMPLES / "JeChangeDeCoordonnees" / "flux-siv.xml",
}
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"échantillons HubEE absents ({SAMPLES}) : lecture non testée"
)
SEEDS = (1, 2, 3, 7, 11, 42)


def sandbox_flux() -> list[tuple[str, int, str, bytes]]:
    found = []
    for code in content.SUPPORTED_PROCESS_CODES:
        for seed in SEEDS:
            rng = random.Random(seed)
            applicant = content.random_applicant(rng)
            for file in content.generate_files(
                code, applicant, content.new_external_id(code, rng), rng
            ):
                if file.file_name.endswith(".xml"):
                    found.append((code, seed, file.file_name, file.content))
    return found


SANDBOX = sandbox_flux()


def parse(data: bytes) -> xmlparse.Parsed:
    return xmlparse.parse_bytes(io.BytesIO(data))


def items(summary: RequestSummary) -> dict[str, str]:
    return {
        f"{section.title} / {item.label}": item.value
        for section in summary.sections
        for item in section.items
    }


def every_flux() -> list[tuple[str, bytes]]:
    flux = [(f"sandbox {code} {seed} {name}", data) for code, seed, name, data in SANDBOX]
    if SAMPLES.is_dir():
        flux += [(f"réel {path.name}", path.read_bytes()) for path in REAL.values()]
    return flux


@pytest.mark.parametrize("code", sorted(EXTRACTORS))
def test_every_extractor_reads_every_sample_without_raising(code):
    """Each extractor is fed every flux, of its démarche or not: it shows what it knows."""
    extract = EXTRACTORS[code]
    flux = every_flux()
    assert len(flux) >= len(SANDBOX) > 0
    for name, data in flux:
        parsed = parse(data)
        summary = extract(parsed.root)
        assert isinstance(summary, RequestSummary), name
        rest = fields.rows(parsed.root, summary.shown)
        if not summary.recognised:
            assert not summary.shown, name
        assert all(row.value or row.group for row in rest), name


@needs_samples
def test_etat_civil_real_sample():
    summary = EXTRACTORS["EtatCivil"](parse(REAL["EtatCivil"].read_bytes()).root)
    assert summary.title == "Demande d'acte de naissance — copie intégrale"
    assert not summary.assumed_schema
    found = items(summary)
    assert found["Acte demandé / Type d'acte"] == "Acte de naissance"
    assert found["Acte demandé / Nature"] == "Copie intégrale"
    assert found["Acte demandé / Date de l'acte"] == "24 août 1962"
    assert found["Acte demandé / Lieu de l'acte"] == "NICE (06000)"
    assert found["Acte demandé / Nombre d'exemplaires"] == "1"
    assert found["Acte demandé / Motif"] == "Autre"
    assert found["Titulaire de l'acte / Nom de naissance"] == "DUBOIS"
    assert found["Titulaire de l'acte / Date de naissance"] == "24 août 1962"
    assert found["Demandeur / Qualité du demandeur"] == "La personne concernée par l'acte"
    assert found["Demandeur / Adresse de délivrance"] == "20 RUE PIERRE SEGURAN, 06300 NICE"
    assert not summary.rest  # every value of the sample is shown


@needs_samples
def test_recensement_real_sample():
    summary = EXTRACTORS["recensementCitoyen"](parse(REAL["recensementCitoyen"].read_bytes()).root)
    found = items(summary)
    assert summary.title == "Recensement citoyen obligatoire"
    assert found["Personne recensée / Nom de famille"] == "BUREAU"
    assert found["Personne recensée / Prénom usuel"] == "ALAIN"
    assert found["Personne recensée / Sexe"] == "Masculin"
    assert found["Personne recensée / Date de naissance"] == "4 avril 2003"
    assert found["Personne recensée / Lieu de naissance"] == "NICE (06000), France"
    assert found["Adresse et contact / Domicile"] == "25 ALLEE CAMILLE MUFFAT, 06200 NICE"
    assert found["Adresse et contact / Courriel"] == "Test.GT07@yopmail.com"
    assert found["Situation / Situation matrimoniale"] == "Célibataire"
    assert found["Formalité / Déposée le"] == "4 août 2021 à 11 h 42"
    # The parents are empty in the sample: no empty section, no empty row.
    assert all(section.title not in ("Père", "Mère") for section in summary.sections)
    assert all(item.value for section in summary.sections for item in section.items)
    assert not summary.rest


@needs_samples
def test_the_placeholder_flux_siv_is_not_taken_for_an_address_change():
    parsed = parse(REAL["JeChangeDeCoordonnees"].read_bytes())
    summary = EXTRACTORS["JeChangeDeCoordonnees"](parsed.root)
    assert not summary.recognised
    labels = [row.label for row in fields.rows(parsed.root)]
    assert "Nom naissance" in labels and "Type d'acte" not in labels


@pytest.mark.parametrize("seed", SEEDS)
def test_sandbox_flux_are_summarised(seed):
    by_code: dict[str, list[RequestSummary]] = {}
    for code, flux_seed, _, data in SANDBOX:
        if flux_seed == seed:
            by_code.setdefault(code, []).append(EXTRACTORS[code](parse(data).root))
    for code, summaries in by_code.items():
        assert all(summary.recognised for summary in summaries), code
        assumed = code in ("depotDossierPACS", "JeChangeDeCoordonnees", "CERTDC")
        assert all(summary.assumed_schema == assumed for summary in summaries), code
    etat_civil = items(by_code["EtatCivil"][0])
    assert etat_civil["Acte demandé / Nature"] in {
        "Copie intégrale",
        "Extrait avec filiation",
        "Extrait sans filiation",
        "Extrait plurilingue",
    }
    pacs = items(by_code["depotDossierPACS"][0])
    assert pacs["Partenaire 1 / Nom de naissance"] and pacs["Partenaire 2 / Nom de naissance"]
    assert " 19" in pacs["Partenaire 1 / Date de naissance"]  # « 12 juillet 1992 »
    change = items(by_code["JeChangeDeCoordonnees"][0])
    assert change["Changement d'adresse / Ancienne adresse"]
    assert change["Changement d'adresse / Nouvelle adresse"]
    assert change["Changement d'adresse / Date du changement"]
    assert change["Organismes à informer / Organisme"].startswith("Système d'immatriculation")
    certificate = by_code["CERTDC"]
    sensitive = [s for summary in certificate for s in summary.sections if s.sensitive]
    assert len(sensitive) == 1
    assert sensitive[0].title == "Informations sensibles"
    assert any(item.label == "Obstacle médico-légal" for item in sensitive[0].items)
    for summary in certificate:
        found = items(summary)
        assert found["Personne décédée / Nom"] and found["Décès / Date"]


def test_sandbox_certdc_medical_part_never_reaches_the_open_list():
    for code, _, _, data in SANDBOX:
        if code != "CERTDC":
            continue
        parsed = parse(data)
        summary = EXTRACTORS[code](parsed.root)
        labels = [row.label for row in fields.rows(parsed.root, summary.shown)]
        assert not any("médico" in label.lower() or "bière" in label for label in labels)


@pytest.mark.parametrize("code", sorted(EXTRACTORS))
@pytest.mark.parametrize(
    "xml",
    [
        b"<Inconnu><A>1</A></Inconnu>",
        b"<DemandeActe/>",
        b"<RecensementCitoyen><Personne/></RecensementCitoyen>",
        b"<PACS><partenaire1><jourNaissance>31</jourNaissance><moisNaissance>02</moisNaissance>"
        b"<anneeNaissance>x</anneeNaissance></partenaire1></PACS>",
        b"<PACS><partenaire2><jourNaissance>1</jourNaissance><moisNaissance>1</moisNaissance>"
        b"<anneeNaissance>999999999999999999999</anneeNaissance></partenaire2></PACS>",
        b"<FluxSIV><ChangementAdresse><DateEffet>pas une date</DateEffet></ChangementAdresse>"
        b"</FluxSIV>",
        b"<InsermCertificatAdministrative><DateDeces/><InformationsFuneraires>"
        b"<Autre>1</Autre></InformationsFuneraires></InsermCertificatAdministrative>",
        b"<EnveloppeMetierType><DemandeActe><TypeActe><Code>DECES</Code></TypeActe>"
        b"<Titulaire><Prenoms>A</Prenoms></Titulaire><Titulaire><Prenoms>B</Prenoms>"
        b"</Titulaire></DemandeActe></EnveloppeMetierType>",
    ],
)
def test_extractors_never_raise_on_another_shape(code, xml):
    parsed = parse(xml)
    summary = EXTRACTORS[code](parsed.root)
    assert all(item.value for section in summary.sections for item in section.items)
    fields.rows(parsed.root, summary.shown)


def test_codes_are_shown_by_their_labels_and_two_holders_are_numbered():
    xml = (
        b"<EnveloppeMetierType><DemandeActe><TypeActe><Code>DECES</Code></TypeActe>"
        b"<NatureActe><Code>EXTRAIT-PLURILINGUE</Code></NatureActe>"
        b"<Titulaire><Prenoms>A</Prenoms></Titulaire><Titulaire><Prenoms>B</Prenoms>"
        b"</Titulaire></DemandeActe></EnveloppeMetierType>"
    )
    summary = EXTRACTORS["EtatCivil"](parse(xml).root)
    assert summary.title == "Demande d'acte de décès — extrait plurilingue"
    titles = [section.title for section in summary.sections]
    assert "Titulaire de l'acte n°1" in titles and "Titulaire de l'acte n°2" in titles


def test_an_unrecognised_value_goes_to_the_rest():
    xml = (
        b"<RecensementCitoyen><Personne><NomFamille>X</NomFamille><Nouveau>Y</Nouveau>"
        b"</Personne></RecensementCitoyen>"
    )
    parsed = parse(xml)
    summary = EXTRACTORS["recensementCitoyen"](parsed.root)
    assert summary.rest
    rows = [(row.label, row.value) for row in fields.rows(parsed.root, summary.shown)]
    assert ("Nouveau", "Y") in rows and ("Nom famille", "X") not in rows


# Element names are written without accents; these forms must never reach an agent.
UNACCENTED = {
    "libelle", "annee", "demarche", "teledossier", "depot", "metier", "francaise", "funeraires",
    "presence", "residence", "mere", "pere", "methode", "declaration", "prenom", "deces",
    "numero", "qualite", "civilite", "departement", "telephone", "nationalite", "miseenbiere",
}  # fmt: skip


def test_field_labels_of_every_flux_are_written_with_their_accents():
    seen = set()
    for name, data in every_flux():
        parsed = parse(data)
        if parsed.root is None:
            continue
        for row in fields.rows(parsed.root):
            words = {word.strip("()«»,").lower() for word in row.label.split()}
            assert not words & UNACCENTED, f"{name}: « {row.label} »"
            seen.add(row.label)
    assert len(seen) > 50  # the flux were read, not skipped
