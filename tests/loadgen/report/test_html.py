"""report.html in real headless Chromium: it renders its plots, offline."""

import re

import pytest
from PIL import Image

from tests.support.chromium import page_requests, render


@pytest.mark.slow
def test_report_is_self_contained(saved_run):
    html = (saved_run / "report.html").read_text()
    # No scripts, stylesheets, images or fonts from anywhere: all inline.
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", html)
    assert len(html) < 200_000


@pytest.mark.browser
@pytest.mark.slow
def test_report_renders_its_plots_in_chromium_without_network(saved_run, tmp_path):
    shot = tmp_path / "report.png"
    requests, log = render(saved_run / "report.html", shot, tmp_path / "profile")
    assert page_requests(requests) == [], "the page tried to reach the network"
    assert "CONSOLE" not in log and "Uncaught" not in log, log
    image = Image.open(shot).convert("RGB")
    width, height = image.size
    # The charts' area: lines in several colours, not a blank page.
    charts = image.crop((0, 250, width, min(height, 1400)))
    colours = charts.getcolors(maxcolors=1 << 20) or []
    non_white = sum(n for n, rgb in colours if rgb != (255, 255, 255))
    assert non_white > 0.03 * charts.width * charts.height
    palette = {(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14)}
    seen = {rgb for _, rgb in colours}
    assert len(palette & seen) >= 3, "the series colours are missing: no plotted lines"


@pytest.mark.browser
@pytest.mark.slow
def test_the_browser_check_catches_a_broken_page(tmp_path):
    """The check above can fail: a bad path, a script error, a remote image are all seen."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><svg width="90" height="90"><path d="M NaN,1 L 5,5" stroke="red"/></svg>'
        '<script>console.error("boom")</script><img src="http://example.invalid/x.png">'
    )
    requests, log = render(page, tmp_path / "broken.png", tmp_path / "profile")
    assert page_requests(requests) == ["GET http://example.invalid/x.png HTTP/1.1"]
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert any("attribute d: Expected number" in line for line in console), log
    assert any('"boom"' in line for line in console), log
