"""XML writing for the business flows: a small element tree rendered as escaped UTF-8.

Element names and nesting follow the public samples of the "valise générique"; the values are
escaped, and characters XML 1.0 cannot carry are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Characters XML 1.0 cannot carry at all (even escaped): dropped.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_escape(value: object) -> str:
    text = _XML_ILLEGAL.sub("", str(value))
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


@dataclass(frozen=True)
class Node:
    tag: str
    text: str | None = None
    children: tuple[Node, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()


def el(tag: str, *content: Node | str | int | None, **attrs: str) -> Node:
    """An element: a single str/int argument is its text, Node arguments its children."""
    attributes = tuple((name.replace("__", ":"), value) for name, value in attrs.items())
    nodes = tuple(c for c in content if isinstance(c, Node))
    texts = [c for c in content if c is not None and not isinstance(c, Node)]
    if texts and nodes:
        raise ValueError(f"<{tag}>: mixed content is not used by these flows")
    if len(texts) > 1:
        raise ValueError(f"<{tag}>: one text value only")
    text = str(texts[0]) if texts else None
    return Node(tag, text, nodes, attributes)


def opt(tag: str, value: str | None) -> Node | None:
    """An element only when the value is known (None children are skipped by el)."""
    return None if value is None else el(tag, value)


def render_xml(root: Node) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>']

    def walk(node: Node, depth: int) -> None:
        pad = "\t" * depth
        attrs = "".join(f' {name}="{_xml_escape(value)}"' for name, value in node.attrs)
        if node.children:
            out.append(f"{pad}<{node.tag}{attrs}>")
            for child in node.children:
                walk(child, depth + 1)
            out.append(f"{pad}</{node.tag}>")
        elif node.text:
            out.append(f"{pad}<{node.tag}{attrs}>{_xml_escape(node.text)}</{node.tag}>")
        else:
            out.append(f"{pad}<{node.tag}{attrs}/>")

    walk(root, 0)
    return ("\n".join(out) + "\n").encode("utf-8")


def xml_bool(value: bool) -> str:
    return "true" if value else "false"


def iso_date(day: date) -> str:
    return day.isoformat()
