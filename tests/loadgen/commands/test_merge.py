"""`loadgen merge OUT DIR...`: files and report of one run from shard directories."""

import json

import pytest

from loadgen.commands.main import main
from loadgen.scale.shard import write_state
from tests.support.shard_states import job, latencies, recorder, state


def shard_dir(tmp_path, name, shard_state):
    write_state(tmp_path / name, shard_state)
    return str(tmp_path / name)


def test_complete_shards_merge_into_a_run_s_files(tmp_path, capsys):
    a = shard_dir(tmp_path, "a", state(job(0, 2), recorder([latencies(100, 1)])))
    b = shard_dir(tmp_path, "b", state(job(1, 2), recorder([latencies(100, 2)])))
    assert main(["merge", str(tmp_path / "out"), a, b]) == 0
    out = capsys.readouterr().out
    assert "Response time" in out and "merged 2 shard(s)" in out
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["requests"] == 200 and s["run"]["merged_from"] == [a, b]
    assert (tmp_path / "out" / "intervals.hlog").is_file()
    assert (tmp_path / "out" / "response.hgrm").is_file()


def test_missing_and_overlapping_shards_are_warned_about_and_exit_1(tmp_path, capsys):
    a = shard_dir(tmp_path, "a", state(job(0, 3), recorder([latencies(50, 1)])))
    again = shard_dir(tmp_path, "again", state(job(0, 3), recorder([latencies(50, 1)])))
    assert main(["merge", str(tmp_path / "out"), a, again, "--quiet"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "shard 1/3 is missing" in err and "shard 2/3 is missing" in err
    assert "appears twice" in err
    s = json.loads((tmp_path / "out" / "summary.json").read_text())  # written all the same
    assert s["requests"] == 50 and s["run"]["missing_shards"] == [1, 2]


def test_misuse(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["merge", str(tmp_path / "out"), str(empty)]) == 2
    assert "no shard-state.json" in capsys.readouterr().err
    a = shard_dir(tmp_path, "a", state(job(0, 1), recorder([latencies(5, 1)])))
    assert main(["merge", a, a]) == 2
    assert "also one of the shard directories" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "out")]) == 2


def broken_state(tmp_path, how):
    s = state(job(0, 2), recorder([latencies(20, 1)]))
    if how == "[]":
        s = []
    elif how == "no meta":
        del s["job"]["meta"]
    elif how == "count 0":
        s["job"]["count"] = 0
    elif how == "damaged histogram":
        s["recorder"]["tasks"]["get"]["response"] = "HISTFAAAABtubGUgbm90IGEgaGlzdG9ncmFt"
    elif how == "no recorder":
        del s["recorder"]
    elif how == "elapsed NaN":
        s["elapsed"] = float("nan")  # json.dumps writes it as NaN, json.loads reads it back
    elif how == "arrivals Infinity":
        s["recorder"]["arrivals"] = float("inf")
    elif how == "negative unsent":
        s["unsent"] = -5
    path = tmp_path / "bad"
    path.mkdir()
    (path / "shard-state.json").write_text(json.dumps(s))
    return str(path)


@pytest.mark.parametrize(
    ("how", "says"),
    [("[]", "not a loadgen shard state"), ("count 0", "does not exist"),
     ("damaged histogram", "recorder:"), ("no recorder", "recorder is missing"),
     ("elapsed NaN", "elapsed is nan"), ("arrivals Infinity", "recorder.arrivals is inf"),
     ("negative unsent", "unsent is -5")],
)  # fmt: skip
def test_a_broken_shard_state_is_one_line_naming_the_file(tmp_path, capsys, how, says):
    good = shard_dir(tmp_path, "good", state(job(1, 2), recorder([latencies(20, 2)])))
    bad = broken_state(tmp_path, how)
    assert main(["merge", str(tmp_path / "out"), good, bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}/shard-state.json: " in err and says in err, err
    assert not (tmp_path / "out").exists()


def test_a_state_without_the_run_parameters_still_merges(tmp_path, capsys):
    a = shard_dir(tmp_path, "a", state(job(1, 2), recorder([latencies(20, 1)])))
    b = broken_state(tmp_path, "no meta")  # shard 0
    assert main(["merge", str(tmp_path / "out"), a, b, "--quiet"]) == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["requests"] == 40


def test_out_may_not_be_a_file_or_under_one(tmp_path, capsys):
    a = shard_dir(tmp_path, "a", state(job(0, 1), recorder([latencies(5, 1)])))
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "under"):
        assert main(["merge", str(out), a]) == 2
        assert "exists and is not a directory" in capsys.readouterr().err
