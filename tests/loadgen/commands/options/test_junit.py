"""`--junit FILE` on run and report: exactly the broken SLO fails, as CI reads the file."""

import pytest

from tests.support.cli import GET_SCENARIO, loadgen
from tests.support.http_server import server_process
from tests.support.junit_schema import check_junit, failing

SLOS = ("p99<10s", "p90<0.001ms", "errors<1%")  # the second cannot be met over any network


@pytest.mark.slow
def test_a_run_that_breaks_one_slo_writes_junit_with_exactly_that_case_failing(tmp_path):
    junit = tmp_path / "ci" / "junit.xml"
    slos = [a for s in SLOS for a in ("--slo", s)]
    with server_process() as url:
        proc = loadgen("--host", url, "--scenario", GET_SCENARIO, "--rps", 50,
                       "--duration", "2s", "--quiet", "--out", tmp_path / "run", *slos,
                       "--junit", junit)  # fmt: skip
    assert proc.returncode == 99, proc.stderr
    root = check_junit(junit.read_text())
    assert [c.get("name") for c in root.iter("testcase")] == [*SLOS, "run"]
    assert failing(root) == ["p90<0.001ms"]
    message = root.find(".//failure").get("message")
    assert message.startswith("p90<0.001ms missed: measured ") and "threshold < 0.001ms" in message

    # Again from the saved run: by the SLOs it was run with, then by others given.
    again = loadgen("report", tmp_path / "run", "--no-html", "--junit", tmp_path / "again.xml")
    assert again.returncode == 99, again.stderr
    assert failing(check_junit((tmp_path / "again.xml").read_text())) == ["p90<0.001ms"]
    other = loadgen("report", tmp_path / "run", "--no-html", "--slo", "max<0.001ms",
                    "--slo", "p50<10s", "--junit", tmp_path / "other.xml")  # fmt: skip
    assert other.returncode == 99, other.stderr
    assert failing(check_junit((tmp_path / "other.xml").read_text())) == ["max<0.001ms"]


def test_a_junit_file_that_is_a_directory_is_misuse(tmp_path):
    proc = loadgen("--rps", 10, "--junit", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "is a directory" in proc.stderr
