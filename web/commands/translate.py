"""`flask translate`: extract, update and compile the Arabic and English catalogues."""

from __future__ import annotations

import subprocess
import sys

import click

from web.config import ROOT

TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


@click.group()
def translate() -> None:
    """Manage the translation catalogues."""


@translate.command()
def extract() -> None:
    """Extract every message into translations/messages.pot."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--sort-by-file",
        "--no-wrap",
        "-o",
        str(POT),
        ".",  # babel.cfg's patterns (web/**.py ...) are relative to this directory
    )


@translate.command()
def update() -> None:
    """Extract, then merge new messages into the ar and en catalogues."""
    extract.callback()
    _pybabel(
        "update",
        "-i",
        str(POT),
        "-d",
        str(TRANSLATIONS),
        "--no-wrap",
        "--ignore-obsolete",
        "--no-fuzzy-matching",  # a guessed translation of a similar text is worse than none
    )


@translate.command()
def compile() -> None:
    """Compile the catalogues to .mo files."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
