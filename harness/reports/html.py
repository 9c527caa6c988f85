"""The HTML report: one self-contained file (inline CSS, no external assets) a person opens in a browser."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATE_DIR = Path(__file__).parent / "templates"
MAX_BODY_CHARS = 100_000  # per body in the page; longer ones are cut with a note


def pretty_body(text: str | None) -> str:
    """A body for display: pretty-printed when it is JSON, cut when huge."""
    if text is None or text == "":
        return ""
    try:
        shown = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        shown = text
    if len(shown) > MAX_BODY_CHARS:
        shown = shown[:MAX_BODY_CHARS] + f"\n… ({len(shown) - MAX_BODY_CHARS} more characters not shown)"
    return shown


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pretty_body"] = pretty_body
    return env


def render_html(document: dict[str, Any]) -> str:
    return _environment().get_template("report.html.j2").render(summary=document["summary"], run=document["run"])


def write_html(document: dict[str, Any], path: Path) -> Path:
    path.write_text(render_html(document), encoding="utf-8")
    return path
