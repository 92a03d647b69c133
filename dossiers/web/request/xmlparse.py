"""The one XML parser of the agent pages: safe and bounded, whatever the file holds.

defusedxml refuses DTDs, entity declarations and external references outright: no entity
expansion (billion laughs), no file or network access (XXE). The file is read incrementally
and the work stops at the first limit reached (size, depth, element count), so a hostile file
costs at most a few megabytes: what was read before the limit is kept, and the reason of the
cut is given in French for the page to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 50
MAX_ELEMENTS = 5000


class UnreadableXml(Exception):
    """Nothing can be shown; the message is for the agent."""


@dataclass(frozen=True)
class Parsed:
    root: Element
    cut: str  # empty when the whole file was read


class _Capped:
    """A file that ends after `limit` bytes: the parser never sees more."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self.raw, self.left, self.hit, self.blank = raw, limit, False, True

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            self.hit = self.hit or bool(self.raw.read(1))
            return b""
        want = self.left if size is None or size < 0 else min(size, self.left)
        data = self.raw.read(want)
        self.left -= len(data)
        self.blank = self.blank and not data.strip()
        return data


def _local(name: str) -> str:
    # "{namespace}Name" -> "Name": namespaces mean nothing to an agent or an extractor.
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


def _prune(root: Element, accepted: set[int]) -> None:
    # The parser builds the tree a chunk ahead of the events: drop what came after the cut.
    todo = [root]
    while todo:
        element = todo.pop()
        for child in list(element):
            if id(child) in accepted:
                todo.append(child)
            else:
                element.remove(child)


def parse_bytes(source: BinaryIO) -> Parsed:
    """Parse `source` within the limits; raise UnreadableXml when nothing can be shown."""
    capped = _Capped(source, MAX_BYTES)
    stack: list[Element] = []
    root: Element | None = None
    count, cut = 0, ""
    accepted: set[int] = set()
    try:
        for event, element in SafeET.iterparse(capped, events=("start", "end"), forbid_dtd=True):
            if event == "end":
                stack.pop()
                continue
            count += 1
            if len(stack) >= MAX_DEPTH or count > MAX_ELEMENTS:
                cut = (
                    f"le fichier est imbriqué sur plus de {MAX_DEPTH} niveaux"
                    if len(stack) >= MAX_DEPTH
                    else f"le fichier compte plus de {MAX_ELEMENTS} éléments et attributs"
                )
                break
            element.tag = _local(element.tag)
            full = False
            if element.attrib:
                # Attributes count like elements: each one is a row of the field view.
                room = MAX_ELEMENTS - count
                kept = list(islice(element.attrib.items(), max(room, 0)))
                full = len(element.attrib) > len(kept)
                element.attrib = {_local(k): v for k, v in kept}
                count += len(kept)
            if root is None:
                root = element
            stack.append(element)
            accepted.add(id(element))
            if full:
                cut = f"le fichier compte plus de {MAX_ELEMENTS} éléments et attributs"
                break
    except defusedxml.DefusedXmlException as exc:
        raise UnreadableXml(
            "Ce fichier XML contient une déclaration de type de document ou des entités : "
            "par sécurité, il n'est pas affiché. Téléchargez-le pour l'ouvrir."
        ) from exc
    except (ValueError, LookupError) as exc:
        # expat refuses a multi-byte (UTF-7…) or unknown declared encoding.
        if root is None:
            raise UnreadableXml(
                "Ce fichier XML déclare un encodage que le portail ne sait pas lire : "
                "téléchargez-le pour l'ouvrir."
            ) from exc
        cut = "le fichier change d'encodage en cours de lecture"
    except ParseError as exc:
        if root is None and capped.blank:
            raise UnreadableXml("Ce fichier est vide : téléchargez-le pour vérifier.") from exc
        if root is None:
            raise UnreadableXml("Ce fichier n'est pas un XML lisible : téléchargez-le.") from exc
        if capped.hit:
            cut = f"le fichier dépasse {MAX_BYTES // (1024 * 1024)} Mo"
        else:
            line = getattr(exc, "position", (0, 0))[0]
            cut = f"le fichier est incomplet ou mal formé (ligne {line})"
    if root is None:
        raise UnreadableXml("Ce fichier est vide : téléchargez-le pour vérifier.")
    if cut:
        _prune(root, accepted)
        cut = f"Lecture arrêtée : {cut}. Seule la partie lue est montrée ; téléchargez le fichier."
    return Parsed(root, cut)


def parse(path: Path) -> Parsed:
    try:
        with path.open("rb") as raw:
            return parse_bytes(raw)
    except OSError as exc:
        raise UnreadableXml("Le fichier n'est pas lisible sur le serveur.") from exc
