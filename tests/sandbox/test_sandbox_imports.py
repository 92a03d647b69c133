"""The sandbox judges the portal's HubEE client: from the protocol it takes only the vocabulary's
enums and labels, never the client, the payload classes or the portal's rules (`moves_forward`).

import-linter forbids the client and payload modules; it cannot forbid one name of the
vocabulary, which the sandbox may import, hence this walk of the sandbox's own source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hubee_portal.sandbox

SANDBOX = Path(hubee_portal.sandbox.__file__).parent
PACKAGE = "hubee_portal.sandbox"
ENUMS = {"CaseStatus", "EventStatus", "AttachmentStatus", "ActionType"}
# Module of the protocol (or its Django derivation) → the names the sandbox may take from it.
ALLOWED = {
    "hubee_portal.choices": ENUMS,
    "hubee_portal.hubee.vocabulary": ENUMS | {"label_of"},
    # Not the protocol: the fake ProConnect keeps its RSA key like the development keys.
    "hubee_portal.keys": {"load_or_create"},
}
FORBIDDEN_WORDS = ("payloads", "client", "data", "moves_forward")


def _module_of(path: Path) -> str:
    parts = path.relative_to(SANDBOX).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    # `from . import x` in a module is relative to its package; in a package, to itself.
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


def _protocol_imports() -> list[tuple[str, str, list[str] | None]]:
    """(file, imported module, imported names or None for `import x`) outside the sandbox."""
    found = []
    for path in sorted(SANDBOX.rglob("*.py")):
        module = _module_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _absolute(node, module, path.name == "__init__.py")
                targets = [(target, [alias.name for alias in node.names])]
            else:
                continue
            for target, names in targets:
                if target.startswith("hubee_portal") and not (
                    target == PACKAGE or target.startswith(PACKAGE + ".")
                ):
                    found.append((str(path.relative_to(SANDBOX)), target, names))
    return found


def test_the_walk_sees_the_sandbox_enums_import():
    # The walk works: the sandbox's enums come from the one derivation of the vocabulary.
    assert ("enums.py", "hubee_portal.choices", sorted(ENUMS)) in [
        (file, target, sorted(names or [])) for file, target, names in _protocol_imports()
    ]


def test_the_sandbox_takes_only_the_vocabulary_enums_from_the_protocol():
    for file, target, names in _protocol_imports():
        assert names is not None, f"{file} : « import {target} » donne accès à tout le module"
        assert target in ALLOWED, f"{file} importe {target}"
        assert set(names) <= ALLOWED[target], f"{file} importe {names} de {target}"
        for word in FORBIDDEN_WORDS:
            assert word not in target.split("."), f"{file} importe {target}"
            assert word not in names, f"{file} importe {word}"


def test_the_sandbox_never_names_moves_forward():
    for path in SANDBOX.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert "moves_forward" not in names, path
