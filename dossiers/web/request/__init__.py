"""« La demande »: what the dossier asks, read from the démarche's XML flux.

One small module per démarche (pure functions over the parsed tree, never raising on an
unknown shape), one bounded parser (xmlparse) and one field view (fields) for everything an
extractor does not recognise. Nothing extracted is stored: the flux is read at each display.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from xml.etree.ElementTree import Element

from dossiers.models import Dossier, PieceJointe
from dossiers.web.request import certdc, coordonnees, etat_civil, fields, pacs, recensement
from dossiers.web.request.summary import RequestSummary
from dossiers.web.request.xmlparse import UnreadableXml, parse

EXTRACTORS: dict[str, Callable[[Element], RequestSummary]] = {
    "EtatCivil": etat_civil.extract,
    "recensementCitoyen": recensement.extract,
    "depotDossierPACS": pacs.extract,
    "JeChangeDeCoordonnees": coordonnees.extract,
    "CERTDC": certdc.extract,
}
MAX_PIECES = 3  # CERTDC deposits two flux; more would be a misconfigured démarche


class XmlRow(Protocol):
    piece: PieceJointe
    is_xml: bool


@dataclass(frozen=True)
class RequestView:
    """One XML flux of the deposit: its summary, the fields it leaves, and any cut."""

    piece: PieceJointe
    summary: RequestSummary | None
    rest: list[fields.Row]
    cut: str = ""
    error: str = ""

    @property
    def recognised(self) -> bool:
        return self.summary is not None and self.summary.recognised

    @property
    def has_sensitive(self) -> bool:
        return self.summary is not None and any(s.sensitive for s in self.summary.sections)


def read_piece(process_code: str, piece: PieceJointe, path: Path) -> RequestView:
    try:
        parsed = parse(path)
    except UnreadableXml as exc:
        return RequestView(piece, None, [], error=str(exc))
    extractor = EXTRACTORS.get(process_code)
    summary = extractor(parsed.root) if extractor is not None else None
    if summary is None or not summary.recognised:
        return RequestView(piece, summary, fields.rows(parsed.root), cut=parsed.cut)
    rest = fields.rows(parsed.root, summary.shown) if summary.rest else []
    return RequestView(piece, summary, rest, cut=parsed.cut)


def read_deposit(dossier: Dossier, rows: Iterable[XmlRow]) -> list[RequestView]:
    """The XML flux of the initial deposit (stored and on disk), each read on its own."""
    folder = Path(dossier.demarche.download_folder)
    pieces = [row.piece for row in rows if row.is_xml and row.piece.evenement_id is None]
    return [
        read_piece(dossier.process_code, piece, folder / piece.stored_path)
        for piece in pieces[:MAX_PIECES]
    ]
