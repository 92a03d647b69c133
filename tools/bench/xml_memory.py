"""XML memory benchmark: peak RSS of reading a hostile XML flux for the dossier page.

A child process sets Django up, notes its RSS, then does what the page does with an XML flux
(bounded parse, every démarche's extractor, the field view, its template) on a deeply nested
file, and reports its peak RSS (ru_maxrss). The growth is what one request costs.

The figure before issue 15 (dossiers/web/xmlfields.py built the whole tree before any limit)
is recorded in docs/performance.md: that code is gone, so it is not printed here as if measured.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.bench import harness
from tools.bench.install import BenchmarkError, Progress, fmt_number, quiet

DEPTH = 200


def write_nested_xml(path: Path, size: int, depth: int = DEPTH) -> int:
    """Blocks of `depth` nested one-letter elements until `size` bytes; the element count."""
    block = "<a>" * depth + "<b/>" + "</a>" * depth
    count = 0
    with path.open("w", encoding="ascii") as out:
        out.write("<r>")
        written = len("<r></r>")
        while written + len(block) <= size:
            out.write(block)
            written += len(block)
            count += depth + 1
        out.write("</r>")
    return count + 1


def child(path: str) -> None:
    """Run in the child process: read the file as the dossier page does; print the figures."""
    import resource
    import tracemalloc

    import django

    django.setup()
    from django.template.loader import render_to_string

    from dossiers.web.request import EXTRACTORS, fields, xmlparse

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is a high-water mark since start-up: a read that stays under Django's own start
    # shows as 0. tracemalloc gives the read's own peak of Python allocations.
    tracemalloc.start()
    parsed = xmlparse.parse(Path(path))
    for extract in EXTRACTORS.values():
        extract(parsed.root)
    rows = fields.rows(parsed.root)
    html = render_to_string("dossiers/_fields.html", {"rows": rows, "caption": "banc"})
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "baseline": baseline,
        "peak": peak,
        "traced": traced,
        "rows": len(rows),
        "cut": parsed.cut,
    }
    sys.stdout.write(json.dumps({**figures, "html": len(html)}) + "\n")


@dataclass(frozen=True)
class XmlMemoryFigures:
    size: int
    elements: int
    baseline_kib: int
    peak_kib: int
    traced_bytes: int  # the read's own peak of Python allocations (tracemalloc)
    rows: int
    cut: str

    @property
    def growth_mb(self) -> float:
        return (self.peak_kib - self.baseline_kib) / 1024


def run_xml_memory(size_mb: int = 5, progress: Progress = quiet) -> XmlMemoryFigures:
    if size_mb < 1:
        raise ValueError("size_mb must be at least 1")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "imbrique.xml"
        elements = write_nested_xml(path, size_mb * 1024 * 1024)
        progress(f"Fichier de {size_mb} Mo, {elements} éléments imbriqués sur {DEPTH} niveaux…")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "hubee_portal.settings"
            ),
        }
        code = f"from tools.bench.xml_memory import child\nchild({str(path)!r})"
        try:
            result = harness.python(env, code)
        except RuntimeError as exc:
            raise BenchmarkError(f"la lecture du XML a échoué :\n{str(exc)[-2000:]}") from exc
        size = path.stat().st_size
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return XmlMemoryFigures(
        size,
        elements,
        report["baseline"],
        report["peak"],
        report["traced"],
        report["rows"],
        report["cut"],
    )


def format_xml_memory(figures: XmlMemoryFigures) -> list[str]:
    return [
        f"Mémoire — lecture d'un XML de {fmt_number(figures.size / 1024 / 1024, 1)} Mo "
        f"({figures.elements} éléments, {DEPTH} niveaux) pour la page d'un dossier",
        f"Pic RSS : {fmt_number(figures.peak_kib / 1024, 1)} Mo, "
        f"dont {fmt_number(figures.growth_mb, 1)} Mo au-dessus du démarrage ; "
        "pic des allocations de la lecture : "
        f"{fmt_number(figures.traced_bytes / 1024 / 1024, 1)} Mo",
        f"Champs affichés : {figures.rows}. {figures.cut or 'Fichier lu en entier.'}",
    ]
