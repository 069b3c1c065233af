"""The Makefile's `make run`, the README's first command: it ends with the link to
a page that exists."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_ends_with_the_link_to_its_report(tmp_path):
    # This interpreter's environment stands for .venv (-o: its stamp is not
    # rebuilt); run from a scratch folder, so the run's reports/ is made there.
    stamp = tmp_path / "installed"
    stamp.touch()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "-o", str(stamp), "run",
         f"BIN={Path(sys.executable).parent}", f"STAMP={stamp}", "DURATION=1s"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.splitlines()[-1]
    assert last.startswith("report: file://"), proc.stdout
    page = Path(unquote(urlparse(last.removeprefix("report: ")).path))
    (run,) = (tmp_path / "reports").iterdir()  # the run's own folder, made by default
    assert page == (run / "report.html").resolve() and page.is_file()
    assert "<svg" in page.read_text()
