"""Any XML flux as « field : value » rows: French labels, no empty row, French dates.

A row's label is its element's name made readable; a group row (an element holding others)
names the block its rows belong to. Elements an extractor already showed can be left out, so
that under a summary the page lists only the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from dossiers.web.request.dates import humanize
from dossiers.web.request.labels import humanize_name

SEPARATOR = " › "


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    depth: int
    group: bool = False


def _has_value(element: Element, skip: Collection[int]) -> bool:
    for node in element.iter():
        if id(node) in skip:
            continue
        if (node.text or "").strip() or any(v.strip() for v in node.attrib.values()):
            return True
    return False


# Blocks never listed here, wherever they sit: CERTDC's médico-légal indications show only in
# the dossier page's « Informations sensibles », whose opening is audited.
SENSITIVE = {"InformationsFuneraires"}
MASKED = "masquées ici : voir « Informations sensibles » sur la page du dossier"


def rows(root: Element, skip: Collection[int] = ()) -> list[Row]:
    """The rows of `root`, in document order, without the elements whose id is in `skip` and
    without the sensitive blocks (one row says where they are).

    The parser bounds the tree and counts attributes (xmlparse.MAX_ELEMENTS): rows are bounded.
    """
    out: list[Row] = []
    stack: list[tuple[Element, str, int]] = [(root, humanize_name(root.tag), 0)]
    while stack:
        element, name, depth = stack.pop()
        if id(element) in skip:
            continue
        if element.tag in SENSITIVE:
            out.append(Row("Informations sensibles", MASKED, depth))
            continue
        if not _has_value(element, skip):
            continue
        children = list(element)
        text = (element.text or "").strip()
        if children:
            out.append(Row(name, "", depth, group=True))
        for attribute, value in element.attrib.items():
            if value.strip():
                out.append(Row(f"{humanize_name(attribute)} (attribut)", humanize(value), depth))
        if text:
            out.append(Row(name if not children else "Texte", humanize(text), depth))
        counts = Counter(child.tag for child in children)
        seen: Counter[str] = Counter()
        pushed = []
        for child in children:
            seen[child.tag] += 1
            suffix = f" n°{seen[child.tag]}" if counts[child.tag] > 1 else ""
            pushed.append((child, humanize_name(child.tag) + suffix, depth + 1))
        stack.extend(reversed(pushed))  # document order
    return _name_groups(out)


def _name_groups(found: list[Row]) -> list[Row]:
    # A group row carries its whole path, so the short labels under it stay clear.
    path: list[str] = []
    named = []
    for row in found:
        if row.group:
            del path[row.depth :]
            path.append(row.label)
            named.append(Row(SEPARATOR.join(path), "", row.depth, group=True))
        else:
            named.append(row)
    return named
