"""The development commands say they run in development mode: production is the default."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage_commands(text: str) -> list[str]:
    """Each shell command of `text` that runs manage.py."""
    commands = re.split(r"[;\n]|&&|&(?!&)", text.replace("\\\n", " "))
    return [c.strip() for c in commands if "manage.py" in c]


@pytest.mark.parametrize("target", ["run", "lint"])
def test_make_targets_set_debug_for_each_manage_command(target):
    dry_run = subprocess.run(
        ["make", "-n", target, "PY=python", "STAMP=", "VENV=.venv"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    commands = manage_commands(dry_run.stdout)
    assert commands
    assert [c for c in commands if not c.startswith("DEBUG=true ")] == []


def test_ci_checks_migrations_in_development_mode():
    commands = manage_commands((ROOT / ".ci" / "run").read_text())
    makemigrations = [c for c in commands if "makemigrations" in c]
    assert len(makemigrations) == 1
    # A throw-away data folder, so CI never reads a developer's keys or database.
    assert makemigrations[0].startswith("DATA_DIR=$(mktemp -d) DEBUG=true ")
