"""Any XML attachment as readable « field : value » rows, parsed safely.

defusedxml refuses DTDs, entity declarations and external references outright: no entity
expansion (billion laughs), no file or network access (XXE). Size, depth and row count are
bounded so a hostile file cannot exhaust the web worker.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as SafeET

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_DEPTH = 50
SEPARATOR = " › "


class UnreadableXml(Exception):
    """The file cannot be shown; the message is for the agent."""


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    depth: int


@dataclass
class XmlFields:
    rows: list[Row]
    truncated: bool


def _local(name: str) -> str:
    # "{namespace}Name" -> "Name": namespaces mean nothing to an agent.
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


def read(path: Path) -> XmlFields:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableXml("Le fichier n'est pas lisible sur le serveur.") from exc
    if size > MAX_BYTES:
        raise UnreadableXml(
            "Ce fichier XML est trop volumineux pour être affiché ici : téléchargez-le."
        )
    try:
        root = SafeET.parse(path, forbid_dtd=True).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise UnreadableXml(
            "Ce fichier XML contient une déclaration de type de document ou des entités : "
            "par sécurité, il n'est pas affiché. Téléchargez-le pour l'ouvrir."
        ) from exc
    except SafeET.ParseError as exc:
        raise UnreadableXml("Ce fichier n'est pas un XML valide : téléchargez-le.") from exc
    return flatten(root)


def flatten(root: Element) -> XmlFields:
    rows: list[Row] = []
    truncated = False
    stack: list[tuple[Element, str, int]] = [(root, _local(root.tag), 0)]
    while stack:
        element, label, depth = stack.pop()
        if len(rows) >= MAX_ROWS or depth > MAX_DEPTH:
            truncated = True
            break
        for name, value in element.attrib.items():
            rows.append(Row(f"{label} ({_local(name)})", value, depth))
        text = (element.text or "").strip()
        children = list(element)
        if text or not (children or element.attrib):
            rows.append(Row(label, text, depth))
        names = Counter(_local(child.tag) for child in children)
        seen: Counter[str] = Counter()
        pushed = []
        for child in children:
            name = _local(child.tag)
            seen[name] += 1
            suffix = f" n°{seen[name]}" if names[name] > 1 else ""
            pushed.append((child, f"{label}{SEPARATOR}{name}{suffix}", depth + 1))
        stack.extend(reversed(pushed))  # document order
    return XmlFields(rows[:MAX_ROWS], truncated)
