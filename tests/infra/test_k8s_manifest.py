"""The Kubernetes Indexed Job example: valid YAML, and a command loadgen accepts (no cluster)."""

import re
import shlex
import time
from pathlib import Path

import yaml

from loadgen.commands.options.scale_options import check_scale_options
from loadgen.commands.run import parser

K8S = Path(__file__).resolve().parents[2] / "infra" / "k8s"


def test_indexed_job_runs_one_shard_per_pod_into_the_shared_volume():
    docs = list(yaml.safe_load_all((K8S / "loadgen-indexed-job.yaml").read_text()))
    claim = next(d for d in docs if d["kind"] == "PersistentVolumeClaim")
    job = next(d for d in docs if d["kind"] == "Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    n = spec["completions"]
    assert spec["parallelism"] == n  # every shard at once
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    script = container["command"][-1]
    assert f'--shard "$JOB_COMPLETION_INDEX/{n}"' in script
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    mount = container["volumeMounts"][0]["mountPath"]

    # What pod 2 would run, once the shell and envsubst have done their part.
    start = str(time.time() + 3600)
    line = script.replace("$JOB_COMPLETION_INDEX", "2").replace("$START_AT", start)
    argv = shlex.split(line)
    assert argv[:4] == ["exec", "python", "-m", "loadgen"]
    args = parser().parse_args(argv[4:])
    scale = check_scale_options(args)
    assert scale.shard == (2, n) and scale.start_at == float(start)
    assert str(args.out).startswith(mount + "/")
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["START_AT"] == "${START_AT}"  # filled in by envsubst when applied


def test_merge_job_merges_every_shard_directory():
    (job,) = yaml.safe_load_all((K8S / "loadgen-merge-job.yaml").read_text())
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert re.search(r"python -m loadgen merge /reports/merged /reports/shard-\*", script)
