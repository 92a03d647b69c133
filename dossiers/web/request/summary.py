"""What an extractor returns, and the reader that remembers which elements it showed."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from dossiers.web.request import labels
from dossiers.web.request.dates import humanize


@dataclass(frozen=True)
class Item:
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Item, ...]
    sensitive: bool = False  # shown only on request, and the opening is audited


@dataclass(frozen=True)
class RequestSummary:
    title: str
    sections: tuple[Section, ...]
    assumed_schema: bool = False  # no real flux seen: the shape is the sandbox's
    shown: frozenset[int] = field(default=frozenset(), repr=False)  # ids of elements shown
    rest: bool = False  # some values were not recognised: the page lists them below

    @property
    def recognised(self) -> bool:
        return bool(self.sections)


class Reader:
    """Reads values by path and records the elements it read (their id in the tree)."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.shown: set[int] = set()
        self.sections: list[Section] = []

    def find(self, path: str, base: Element | None = None) -> Element | None:
        start = self.root if base is None else base
        return start if path == "." else start.find(path)

    def all(self, path: str, base: Element | None = None) -> list[Element]:
        return (self.root if base is None else base).findall(path)

    def text(self, path: str, base: Element | None = None) -> str:
        element = self.find(path, base)
        if element is None:
            return ""
        self.shown.add(id(element))
        return " ".join((element.text or "").split())

    def coded(self, path: str, table: dict[str, str], base: Element | None = None) -> str:
        value = self.text(path, base)
        return labels.label(table, value) if value else ""

    def date(self, path: str, base: Element | None = None) -> str:
        return humanize(self.text(path, base))

    def mark(self, element: Element | None) -> None:
        """The whole block is shown (or deliberately left out of the list below)."""
        if element is not None:
            self.shown.update(id(node) for node in element.iter())

    def section(self, title: str, *pairs: tuple[str, str], sensitive: bool = False) -> None:
        items = tuple(Item(label, value) for label, value in pairs if value and value.strip())
        if items:
            self.sections.append(Section(title, items, sensitive))

    def summary(self, title: str, *, assumed_schema: bool = False) -> RequestSummary:
        shown = frozenset(self.shown)
        # Attributes (versions, channels) are technical: the full field view still has them.
        rest = any(id(node) not in shown and (node.text or "").strip() for node in self.root.iter())
        return RequestSummary(title, tuple(self.sections), assumed_schema, shown, rest)


def join(*parts: str, sep: str = " ") -> str:
    return sep.join(part for part in parts if part and part.strip())


def unrecognised(root: Element, *, assumed_schema: bool = False) -> RequestSummary:
    """Nothing recognised: the page shows the field view only."""
    return Reader(root).summary("", assumed_schema=assumed_schema)


def street_address(reader: Reader, block: Element | None) -> str:
    """The address blocks of recensementCitoyen (real) and of the sandbox's FluxSIV."""
    if block is None:
        return ""
    street = join(
        reader.text("NumeroVoie", block),
        reader.text("Extension", block),
        reader.text("TypeVoie", block),
        reader.text("NomVoie", block),
    )
    lines = (
        reader.text("PointDeRemise", block),
        reader.text("Complement", block),
        street,
        reader.text("LieuDit", block),
        join(reader.text("CodePostal", block), reader.text("Localite", block)),
        reader.coded("Pays", labels.COUNTRIES, block),
    )
    reader.text("CodeINSEE", block)
    return join(*lines, sep=", ")
