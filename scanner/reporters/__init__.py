"""Reporters render a Report; they never judge or filter."""

from __future__ import annotations

import enum
from collections.abc import Callable

from scanner.models import Report

Renderer = Callable[[Report], str]


@enum.unique
class OutputFormat(str, enum.Enum):
    """The formats `--format` accepts."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    CYCLONEDX = "cyclonedx"


def renderer_for(fmt: OutputFormat) -> Renderer:
    """The renderer of one format."""
    if fmt is OutputFormat.JSON:
        from scanner.reporters.json_report import render_json

        return render_json
    if fmt is OutputFormat.TEXT:
        from scanner.reporters.text import render_text

        return render_text
    if fmt is OutputFormat.SARIF:
        from scanner.reporters.sarif import render_sarif

        return render_sarif
    if fmt is OutputFormat.MARKDOWN:
        from scanner.reporters.markdown import render_markdown

        return render_markdown
    if fmt is OutputFormat.CYCLONEDX:
        from scanner.reporters.cyclonedx import render_cyclonedx

        return render_cyclonedx
    raise AssertionError(f"unhandled format {fmt}")
