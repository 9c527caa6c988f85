"""Reporters: JSON, JUnit XML and a self-contained HTML file, plus the rich console reporter.

Every artefact is built from one scrubbed document (json_report.run_to_dict), and the written text
is scrubbed once more, so no secret reaches any file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from harness.redaction import Redactor, redactor_for
from harness.reports.console import ConsoleReporter
from harness.reports.html import write_html
from harness.reports.json_report import run_to_dict, write_json
from harness.reports.junit import write_junit
from harness.results import RunResult

FILE_NAMES = {"json": "report.json", "junit": "junit.xml", "html": "report.html"}
WRITERS = {"json": write_json, "junit": write_junit, "html": write_html}


__all__ = ["ConsoleReporter", "FILE_NAMES", "run_to_dict", "write_reports"]


def write_reports(run: RunResult, report_dir: Path, formats: list[str], *, secrets: Iterable[str] = ()) -> dict[str, Path]:
    """Write the requested formats ("json", "junit", "html"; others such as "console" are ignored).

    Returns {format: path}. Raises ValueError for an unknown format name before writing anything.
    """
    wanted = [f for f in formats if f != "console"]
    unknown = [f for f in wanted if f not in WRITERS]
    if unknown:
        raise ValueError(f"unknown report format(s) {', '.join(unknown)}; use {', '.join(WRITERS)}")
    secret_list = sorted({s for s in secrets if s}, key=len, reverse=True)
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    redactor = redactor_for(secret_list)
    document = run_to_dict(run, secret_list)
    written: dict[str, Path] = {}
    for fmt in dict.fromkeys(wanted):
        path = report_dir / FILE_NAMES[fmt]
        # Written aside, then renamed over the name: a full disk never leaves a truncated report.
        temp = report_dir / f".{path.name}.tmp"
        try:
            WRITERS[fmt](document, temp)
            _rescrub(temp, redactor)
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        written[fmt] = path
    return written


def _rescrub(path: Path, redactor: Redactor) -> None:
    # Belt and braces: the document is scrubbed already, every form of every secret (scrub_value); this
    # catches a secret a renderer added raw. Its raw form only (and long secrets only: a short one only
    # where it stands alone, which the document's scrub did).
    text = path.read_text(encoding="utf-8")
    clean = redactor.raw_forms(text)
    if clean != text:
        path.write_text(clean, encoding="utf-8")
