"""JeChangeDeCoordonnees: change of address. Schéma supposé: no real flux is available here
(the samples' flux-siv.xml is a placeholder holding an EtatCivil request), so this reads the
shape the sandbox generates (hubee_portal/sandbox/content/coordonnees.py): FluxSIV /
Teledossier, ChangementAdresse, Titulaire, AncienneAdresse, NouvelleAdresse, Vehicule, Contact.
Any other shape gives what is recognised, and the page lists the rest.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from dossiers.web.request import labels
from dossiers.web.request.summary import (
    Reader,
    RequestSummary,
    join,
    street_address,
    unrecognised,
)


def extract(root: Element) -> RequestSummary:
    known = ("ChangementAdresse", "AncienneAdresse", "NouvelleAdresse")
    if root.tag != "FluxSIV" and all(root.find(tag) is None for tag in known):
        return unrecognised(root, assumed_schema=True)
    reader = Reader(root)
    change = root.find("ChangementAdresse")
    reader.section(
        "Changement d'adresse",
        ("Ancienne adresse", street_address(reader, root.find("AncienneAdresse"))),
        ("Nouvelle adresse", street_address(reader, root.find("NouvelleAdresse"))),
        ("Date du changement", reader.date("DateEffet", change) if change is not None else ""),
        ("Motif", reader.text("Motif/Libelle", change) if change is not None else ""),
    )
    if change is not None:
        reader.text("Motif/Code", change)
    bodies = [reader.text(".", node) for node in root.iter("Organisme")]
    vehicle = root.find("Vehicule")
    if vehicle is not None:
        plate = reader.text("NumeroImmatriculation", vehicle)
        bodies.append(join("Système d'immatriculation des véhicules (SIV)", plate, sep=" — "))
        reader.section(
            "Véhicule",
            ("Immatriculation", plate),
            ("Numéro de formule", reader.text("NumeroFormule", vehicle)),
            ("Première immatriculation", reader.date("DatePremiereImmatriculation", vehicle)),
        )
    reader.section("Organismes à informer", *(("Organisme", body) for body in bodies if body))
    holder = root.find("Titulaire")
    if holder is not None:
        reader.section(
            "Personne",
            ("Civilité", reader.coded("Civilite", labels.CIVILITIES, holder)),
            ("Nom de naissance", reader.text("NomNaissance", holder)),
            ("Nom d'usage", reader.text("NomUsage", holder)),
            ("Prénoms", reader.text("Prenoms", holder)),
            ("Date de naissance", reader.date("DateNaissance", holder)),
            (
                "Lieu de naissance",
                join(
                    reader.text("CommuneNaissance", holder),
                    reader.coded("PaysNaissance", labels.COUNTRIES, holder),
                    sep=", ",
                ),
            ),
        )
        reader.text("Sexe", holder)
        reader.text("CodeINSEENaissance", holder)
    contact = root.find("Contact")
    if contact is not None:
        reader.section(
            "Contact",
            ("Courriel", reader.text("Courriel", contact)),
            ("Téléphone", reader.text("Telephone", contact)),
        )
    folder = root.find("Teledossier")
    if folder is not None:
        reader.section(
            "Télédossier",
            ("Numéro", reader.text("Numero", folder)),
            ("Déposé le", reader.date("DateSoumission", folder)),
        )
        reader.text("Demarche", folder)
    return reader.summary("Déclaration de changement de coordonnées", assumed_schema=True)
