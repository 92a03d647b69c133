"""CERTDC: the electronic death certificate. Schéma supposé: no real flux is available here,
so this reads the two shapes the sandbox generates (hubee_portal/sandbox/content/certdc.py):
the declaration (InsermDeclarationDeces) and the administrative part
(InsermCertificatAdministrative), whose InformationsFuneraires are the médico-légal
indications: a sensitive section, shown only on request. Any other shape gives what is
recognised, and the page lists the rest.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from dossiers.web.request import labels
from dossiers.web.request.dates import time_of_day
from dossiers.web.request.summary import Reader, RequestSummary, join, unrecognised

_FUNERAL = (
    ("ObstacleMedicoLegal", "Obstacle médico-légal"),
    ("MiseEnBiereImmediate/CercueilHermetique", "Mise en bière immédiate en cercueil hermétique"),
    ("MiseEnBiereImmediate/CercueilSimple", "Mise en bière immédiate en cercueil simple"),
    ("ObstacleSoinsConservation", "Obstacle aux soins de conservation"),
    ("ObstacleDonCorps", "Obstacle au don du corps"),
    ("RechercheCauseDeces", "Recherche de la cause du décès demandée"),
    ("PresenceProthesePile", "Prothèse à pile présente"),
    ("RetraitProthesePile", "Prothèse à pile retirée"),
)


def _funeral(reader: Reader, root: Element) -> int:
    """Every InformationsFuneraires block, wherever it sits, as a sensitive section."""
    blocks = list(root.iter("InformationsFuneraires"))
    for number, block in enumerate(blocks, 1):
        reader.section(
            "Informations sensibles" + (f" ({number})" if len(blocks) > 1 else ""),
            *((label, reader.coded(path, labels.BOOLEANS, block)) for path, label in _FUNERAL),
            sensitive=True,
        )
        # Everything medical stays out of the open list, even what is not recognised.
        reader.mark(block)
    return len(blocks)


def _address(reader: Reader, block: Element | None) -> str:
    if block is None:
        return ""
    street = join(reader.text("NumeroRue", block), reader.text("Adresse", block))
    town = join(reader.text("CodePostal", block), reader.text("Commune", block))
    return join(street, town, reader.text("Departement", block), sep=", ")


def extract(root: Element) -> RequestSummary:
    kinds = {
        "InsermDeclarationDeces": "Déclaration de décès",
        "InsermCertificatAdministrative": "Certificat de décès — volet administratif",
    }
    if root.tag not in kinds and root.find("Defunt") is None:
        # Unknown shape: what it holds goes to the field view, but never the indications.
        reader = Reader(root)
        if not _funeral(reader, root):
            return unrecognised(root, assumed_schema=True)
        return reader.summary("Certificat de décès", assumed_schema=True)
    reader = Reader(root)
    dead = root.find("Defunt")
    if dead is not None:
        reader.section(
            "Personne décédée",
            ("Nom", reader.text("Nom", dead)),
            ("Nom de naissance", reader.text("NomJeuneFille", dead)),
            ("Prénoms", reader.text("Prenoms", dead)),
            ("Date de naissance", reader.date("DateNaissance", dead)),
            ("Sexe", reader.coded("Sexe", labels.SEXES, dead)),
            ("Domicile", _address(reader, dead.find("AdresseDomicile"))),
        )
    death = root.find("DateDeces")
    place = root.find("LieuDeces")
    reader.section(
        "Décès",
        ("Date", reader.date("Date", death) if death is not None else ""),
        ("Heure", time_of_day(reader.text("Heure", death)) if death is not None else ""),
        (
            "Lieu",
            join(reader.text("CodePostal", place), reader.text("Commune", place))
            if place is not None
            else reader.text("Ville"),
        ),
        ("Établissement", reader.text("Etablissement")),
        ("Domicile du défunt", _address(reader, root.find("AdresseDomicile"))),
    )
    reader.text("Annee")
    reader.text("CodeFinessEtablissement")
    validators = root.find("InformationsValidateurs")
    if validators is not None:
        reader.section(
            "Intervenants",
            ("Déclarant", reader.text("NomDeclarant", validators)),
            ("Officier d'état civil", reader.text("NomOfficier", validators)),
            ("Médecin", reader.text("NomMedecin", validators)),
            ("Rédigé le", reader.date("DateRedaction")),
        )
    validation = root.find("Validation")
    if validation is not None:
        reader.section(
            "Certificat",
            ("Numéro", reader.text("NNC", validation)),
            ("Médecin", reader.text("Medecin", validation)),
            ("Établi à", reader.text("Lieu", validation)),
            ("Établi le", reader.date("Date", validation)),
        )
        # Technical references, not for the agent's reading.
        reader.text("CodeFinessOrganisme", validation)
        reader.text("CodeDepot", validation)
    reader.text("DoublonVolontaire")
    _funeral(reader, root)
    return reader.summary(kinds.get(root.tag, "Certificat de décès"), assumed_schema=True)
