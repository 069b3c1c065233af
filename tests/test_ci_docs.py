"""docs/ci.md's CI files: valid for their CI, quoted as they are, their script sound."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from loadgen.commands import compare, run
from tests.support.cli import ROOT

CI = ROOT / "docs" / "ci"
PAGE = (ROOT / "docs" / "ci.md").read_text()
# check-jsonschema's own copies of the schemas CI uses: no network needed.
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
SCHEMAS = {"github-workflow.yml": "vendor.github-workflows", "gitlab-ci.yml": "vendor.gitlab-ci"}


def validate(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("name", "schema"), SCHEMAS.items())
def test_each_ci_file_is_valid_against_the_schema_its_ci_uses(name, schema):
    proc = validate(CI / name, schema)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(("name", "mistake"), [
    ("github-workflow.yml", ("timeout-minutes: 20", "timeout-minutes: soon")),
    ("gitlab-ci.yml", ("when: always", "when: sometimes")),
])  # fmt: skip
def test_a_mistake_in_either_file_is_refused(tmp_path, name, mistake):
    """The check can fail: the same file with one value its CI would refuse."""
    bad = tmp_path / name
    bad.write_text((CI / name).read_text().replace(*mistake))
    assert validate(bad, SCHEMAS[name]).returncode == 1


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_page_quotes_each_file_as_it_is(name):
    assert f"```yaml\n{(CI / name).read_text()}```" in PAGE


def test_both_run_the_script_and_keep_the_junit_file_and_the_pages():
    for name in SCHEMAS:
        text = (CI / name).read_text()
        assert "bash docs/ci/load-test.sh" in text
        for kept in ("reports/junit-slo.xml", "reports/change/report.html"):
            assert kept in text, (name, kept)
    assert "reports:\n      junit: reports/junit-slo.xml" in (CI / "gitlab-ci.yml").read_text()


def loadgen_lines(script: str) -> list[list[str]]:
    """The script's loadgen commands, `"${load[@]}"` expanded as its array says."""
    load = re.search(r"^load=\((.*)\)$", script, re.M)[1]
    joined = re.sub(r"\\\n\s*", "", script)
    calls = [line.strip() for line in joined.splitlines() if line.strip().startswith("loadgen ")]
    words = {"$url": "http://127.0.0.1:8000", "$rps": "200", "$duration": "60s",
             "$warmup": "5s", "$out": "reports"}  # fmt: skip
    out = []
    for call in calls:
        text = call.replace('"${load[@]}"', load)
        for var, value in words.items():
            text = text.replace(var, value)
        out.append(subprocess.run(["bash", "-c", f"printf '%s\\0' {text}"], capture_output=True,
                                  text=True, check=True).stdout.split("\0")[:-1])  # fmt: skip
    return out


def test_the_script_is_bash_and_its_loadgen_commands_parse():
    script = (CI / "load-test.sh").read_text()
    subprocess.run(["bash", "-n", str(CI / "load-test.sh")], check=True)
    calls = loadgen_lines(script)
    assert [c[1] == "compare" for c in calls] == [False, False, True]
    for argv in calls:
        if argv[1] == "compare":
            args = compare.parser().parse_args(argv[2:])
            assert args.fail_if and args.json
        else:
            run.parser().parse_args(argv[1:])
    assert "--junit" in calls[1]
