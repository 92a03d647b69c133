"""The import contracts of pyproject.toml cover what issue 12 asks of them."""


def test_import_contracts_forbid_cycles_inside_the_dossiers_packages():
    """Issue 12: « inside dossiers: models ← records ← exchange ← operations, web, tasks; no
    cycles ». The acyclic_siblings contract names only dossiers, demarches and the protocol,
    alone check the children of `dossiers` against each other, not the modules inside
    records/, exchange/, operations/, web/, models/ (`from dossiers.records import access` in
    records/audit.py, where access imports audit, was not caught): every package is listed."""
    import tomllib
    from pathlib import Path

    import dossiers

    config = tomllib.loads(
        (Path(dossiers.__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    )
    covered = set()
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "acyclic_siblings":
            covered.update(contract["ancestors"])
    root = Path(dossiers.__file__).parent
    packages = {
        "dossiers." + ".".join(init.parent.relative_to(root).parts)
        for init in root.glob("*/**/__init__.py")
        if not {"migrations", "management", "__pycache__"} & set(init.parts)
    }
    assert sorted(packages - covered) == []
