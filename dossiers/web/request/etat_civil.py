"""EtatCivil: civil-status certificate request (AEC), read from its real flux.

Shape of the public sample (EnveloppeMetierType / DemandeActe): TypeActe and NatureActe as
Code + Libelle, DateActe, LieuActe, NombreExemplaires, MotifDemande, Demandeur (with its
QualiteDemandeur and AdresseFrancaise, the delivery address) and Titulaire. A marriage act may
have two holders: every Titulaire is read.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from dossiers.web.request import labels
from dossiers.web.request.summary import Reader, RequestSummary, join, unrecognised


def _coded(reader: Reader, block: Element | None, table: dict[str, str]) -> str:
    if block is None:
        return ""
    code = reader.text("Code", block)
    label = reader.text("Libelle", block)
    return labels.label(table, code) if code in table or not label else label


def _address(reader: Reader, block: Element | None) -> str:
    if block is None:
        return ""
    street = join(
        *(reader.text(name, block) for name in ("Voie", "Complement", "LieuDit")), sep=", "
    )
    town = join(reader.text("CodePostal", block), reader.text("Ville", block))
    return join(street, town, reader.coded("Pays", labels.COUNTRIES, block), sep=", ")


def extract(root: Element) -> RequestSummary:
    reader = Reader(root)
    request = root if root.tag == "DemandeActe" else root.find("DemandeActe")
    if request is None:
        return unrecognised(root)
    act = _coded(reader, request.find("TypeActe"), labels.ACT_TYPES)
    nature = _coded(reader, request.find("NatureActe"), labels.ACT_NATURES)
    place = request.find("LieuActe")
    place_text = ""
    if place is not None:
        place_text = join(
            reader.text("Ville", place),
            f"({reader.text('CodePostal', place)})" if place.findtext("CodePostal") else "",
        )
        reader.text("CodeINSEE", place)
    reason = request.find("MotifDemande")
    reason_text = ""
    if reason is not None:
        label, comment = reader.text("Libelle", reason), reader.text("Commentaire", reason)
        reason_text = label if comment in ("", label) else f"{label} — {comment}"
    requester = request.find("Demandeur")
    quality = ""
    if requester is not None:
        quality = _coded(reader, requester.find("QualiteDemandeur"), labels.REQUESTER_QUALITIES)
    reader.section(
        "Acte demandé",
        ("Type d'acte", act),
        ("Nature", nature),
        ("Date de l'acte", reader.date("DateActe", request)),
        ("Lieu de l'acte", place_text),
        ("Nombre d'exemplaires", reader.text("NombreExemplaires", request)),
        ("Motif", reason_text),
    )
    holders = request.findall("Titulaire")
    for number, holder in enumerate(holders, start=1):
        title = "Titulaire de l'acte" + (f" n°{number}" if len(holders) > 1 else "")
        reader.section(
            title,
            ("Civilité", reader.coded("Civilite", labels.CIVILITIES, holder)),
            ("Nom de naissance", reader.text("NomNaissance", holder)),
            ("Nom d'usage", reader.text("NomUsage", holder)),
            ("Prénoms", reader.text("Prenoms", holder)),
            ("Date de naissance", reader.date("DateDeNaissance", holder)),
            (
                "Lieu de naissance",
                join(
                    reader.text("LieuDeNaissance", holder),
                    reader.text("DepartementDeNaissance", holder),
                    reader.coded("PaysDeNaissance", labels.COUNTRIES, holder),
                    sep=", ",
                ),
            ),
            ("Nom du père", reader.text("NomPere", holder)),
            ("Nom de la mère", reader.text("NomMere", holder)),
        )
    if requester is not None:
        reader.section(
            "Demandeur",
            ("Qualité du demandeur", quality),
            (
                "Identité",
                join(
                    reader.coded("Civilite", labels.CIVILITIES, requester),
                    reader.text("Prenom", requester),
                    reader.text("Nom", requester),
                ),
            ),
            ("Adresse de délivrance", _address(reader, requester.find("AdresseFrancaise"))),
            ("Adresse à l'étranger", _address(reader, requester.find("AdresseEtrangere"))),
            ("Courriel", reader.text("Courriel", requester)),
            ("Téléphone", reader.text("Telephone", requester)),
        )
    title = "Demande d'acte d'état civil"
    if act or nature:
        kind = act.replace("Acte de ", "d'acte de ") if act.startswith("Acte de ") else act
        title = join(f"Demande {kind}" if kind else title, nature.lower(), sep=" — ")
    return reader.summary(title)
