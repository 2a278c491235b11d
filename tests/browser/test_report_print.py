"""The HTML report as an organiser uses it: a file opened from disk, styled without the
server, with no policy violation, printed on the paper chosen at export."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import LAPTOP, ConsoleGuard

pytestmark = pytest.mark.browser

# PDF page sizes in points.
PAGES = {"a4": (595, 842), "letter": (612, 792)}


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_report_file_is_styled_and_prints_on_its_paper(
    tmp_path: Path, runner: Any, new_context: Callable[..., Any], console: ConsoleGuard,
    paper: str,
) -> None:
    report = tmp_path / f"report-{paper}.html"
    result = runner.invoke(args=["export", "smartcities", "--format", "html",
                                 "--paper", paper, "-o", str(report)])
    assert result.exit_code == 0, result.output
    # A violated Content-Security-Policy is a console error, which fails the test.
    page = new_context(LAPTOP, label="report").new_page()
    page.goto(report.as_uri())
    styled = page.evaluate("""() => {
        const h1 = getComputedStyle(document.querySelector('.cover h1'));
        const body = getComputedStyle(document.body);
        return {font: h1.fontFamily, width: body.maxWidth, sheets: document.styleSheets.length};
    }""")
    assert styled["sheets"] == 1
    assert styled["width"] == "768px"  # 48rem: report.css applied, from the file itself
    assert "Georgia" in styled["font"] or "serif" in styled["font"]
    pdf = page.pdf(prefer_css_page_size=True)
    sizes = {tuple(round(float(n)) for n in box.split()[2:])
             for box in re.findall(rb"/MediaBox \[([^\]]+)\]", pdf)
             for box in [box.decode()]}
    assert sizes == {PAGES[paper]}, sizes
