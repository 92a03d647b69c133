"""Fail when a Python module of the portal is over 500 lines (migrations and tests aside).

Long modules are split along seams a reader can name, never into `_part2` modules. The listed
exceptions wait for their own restructuring; the list only shrinks.
"""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 500
ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hubee_portal", "demarches", "dossiers", "tools")
EXCEPTIONS = {
    "demarches/config_import.py",  # the official script's configuration formats
    "demarches/services.py",
}


def oversized(root: Path = ROOT) -> list[tuple[str, int]]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if "/migrations/" in relative or relative in EXCEPTIONS:
                continue
            with path.open(encoding="utf-8") as handle:
                count = sum(1 for _ in handle)
            if count > LIMIT:
                found.append((relative, count))
    return found


def main() -> int:
    found = oversized()
    for relative, count in found:
        sys.stderr.write(f"{relative} : {count} lignes (au plus {LIMIT}) : découpez-le.\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
