"""The server sampler: one sample of each source (sampler_process.py runs it beside a run)."""

import json
import os

from loadgen.measure.sampler import ServerSampler
from server.launch import free_port


def test_error_lines_are_counted_as_they_are_appended_whole(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("2026-01-01 [1] [ERROR] before the run: not counted\n")
    sampler = ServerSampler(error_log=log)
    with log.open("a") as f:
        f.write("2026-01-01 [1] [INFO] fine\n2026-01-01 [1] [ERROR] Exception in ASGI app\n")
        f.write("Traceback (most recent call last):\n2026-01-01 [1] [CRITICAL] WORKER TIMEOUT\n")
        f.write("2026-01-01 [1] [ERROR] half a li")  # being written: counted once whole
    assert sampler.sample()["error_log_errors"] == 2
    with log.open("a") as f:
        f.write("ne\n")
    assert sampler.sample()["error_log_errors"] == 1
    assert sampler.sample()["error_log_errors"] == 0


def test_a_log_not_written_yet_has_no_errors(tmp_path):
    assert ServerSampler(error_log=tmp_path / "error.log").sample()["error_log_errors"] == 0


def test_a_failing_source_is_missing_with_its_reason_and_the_rest_stands(tmp_path):
    sampler = ServerSampler(metrics_url=f"http://127.0.0.1:{free_port()}/metrics", pid=os.getpid())
    entry = sampler.sample()
    assert "refused" in entry["missing"]["metrics"]
    assert str(os.getpid()) in entry["workers"]
    assert entry["generator_cpu"] >= 0


def test_a_sample_is_plain_json(tmp_path):
    entry = ServerSampler(pid=os.getpid(), error_log=tmp_path / "e.log").sample()
    assert json.loads(json.dumps(entry)) == entry
