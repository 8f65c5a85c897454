"""Writing one benchmark's section of ``bench/RESULTS.md``, leaving the other sections alone."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def write_section(heading: str, section: str, results: Path = RESULTS) -> None:
    """Replace the section whose first line starts with ``heading`` (or append it)."""
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(heading)}[^\n]*\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    results.write_text(text, encoding="utf-8")
