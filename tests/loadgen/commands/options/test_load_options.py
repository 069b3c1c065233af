"""The options every load-sending command shares, checked before any load is sent;
and --data and --targets, end to end."""

import base64
import re
from pathlib import Path

import pytest

from loadgen.commands.options.argtypes import UsageError
from loadgen.commands.options.load_options import check_url
from tests.support.cli import loadgen, summary
from tests.support.http_server import server_process


def test_a_url_is_kept_without_its_trailing_slash():
    assert check_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_url("https://example.org/api") == "https://example.org/api"


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://x", "http:// or https://"), ("http://", "http:// or https://"),
     ("http://h:99999", "invalid port"), ("127.0.0.1:8000", "http:// or https://")],
)  # fmt: skip
def test_a_bad_url_is_misuse(url, message):
    with pytest.raises(UsageError, match=message):
        check_url(url)


# -- --data and --targets: misuse before any load, then real runs -----------------------

ROWS_SCENARIO = """\
from loadgen import Request, Scenario, task


class Rows(Scenario):
    @task
    def row(self) -> Request:
        return Request("GET", f"/?user={self.data.next()['name']}")
"""


def misuse(*argv):
    """`loadgen ARGV` in this process, meant to stop before any load: its exit status.
    (Short, should it not stop: a second against the bundled server.)"""
    from loadgen.commands.main import main

    return main(["--rps", "5", "--duration", "1s", *map(str, argv)])


@pytest.fixture
def rows_scenario(tmp_path):
    path = tmp_path / "rows.py"
    path.write_text(ROWS_SCENARIO)
    return f"{path}:Rows"


@pytest.mark.parametrize(
    ("files", "argv", "says"),
    [
        ({}, ("--data", "{tmp}/none.csv"), "--data {tmp}/none.csv: no such file"),
        ({"empty.csv": "name\n"}, ("--data", "{tmp}/empty.csv"),
         "--data {tmp}/empty.csv has no rows"),
        ({}, ("--data", "{tmp}"), "is a directory"),
        ({"bad.jsonl": '{"a": 1}\n{oops\n'}, ("--data", "{tmp}/bad.jsonl"),
         "bad.jsonl line 2: not JSON"),
        ({"three.csv": "name\na\nb\nc\n"}, ("--data", "{tmp}/three.csv", "--processes", 4),
         "--data {tmp}/three.csv has 3 rows: too few for 4 shards"),
        ({"three.csv": "name\na\nb\nc\n"}, ("--data", "{tmp}/three.csv", "--shard", "0/4",
         "--out", "{tmp}/out"), "too few for 4 shards"),
        ({}, ("--targets", "{tmp}/none.txt"), "--targets {tmp}/none.txt: no such file"),
        ({"t.txt": "GET /\nX-Oops\n"}, ("--targets", "{tmp}/t.txt"),
         "{tmp}/t.txt line 2: expected a header `Name: value`"),
        ({"t.txt": "\n# nothing\n"}, ("--targets", "{tmp}/t.txt"), "{tmp}/t.txt has no targets"),
        ({"t.txt": "GET /\n"}, ("--targets", "{tmp}/t.txt", "--scenario", "a.py:B"),
         "argument --scenario: not allowed with argument --targets"),
        ({"t.txt": "GET http://127.0.0.1:9/\n"}, ("--targets", "{tmp}/t.txt"),
         "line 1: a target at http://127.0.0.1:9 needs `--host http://127.0.0.1:9`"),
        ({"t.txt": "GET /\n\nGET http://10.9.9.9:80/\n"},
         ("--targets", "{tmp}/t.txt", "--host", "http://127.0.0.1:9"),
         "line 3: http://10.9.9.9:80 is not the --host origin http://127.0.0.1:9"),
        ({"t.txt": "GET /\n\nHEAD /\n"}, ("--targets", "{tmp}/t.txt"),
         "line 3: HEAD targets need --client httpx"),
        ({"t.txt": "GET /\n", "d.csv": "a\n1\n"},
         ("--targets", "{tmp}/t.txt", "--data", "{tmp}/d.csv"),
         "--data gives rows to a scenario's tasks: --targets has none to give"),
    ],
)  # fmt: skip
def test_data_and_targets_misuse_is_one_line_and_exit_2(tmp_path, capsys, files, argv, says):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    argv = [str(a).format(tmp=tmp_path) for a in argv]
    assert misuse(*argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("loadgen: error: ") and captured.err.count("\n") == 1
    assert says.format(tmp=tmp_path) in captured.err, captured.err
    assert not (tmp_path / "out").exists()


def test_a_scenario_that_reads_rows_without_data_is_refused_before_any_load(rows_scenario, capsys):
    # An __init__ reading rows fails when the scenario is loaded; a task, when it runs.
    init = rows_scenario.replace("rows.py:Rows", "init.py:Init")
    reads_in_init = (
        "class Init(Scenario):\n"
        "    def __init__(self, rng):\n"
        "        super().__init__(rng)\n"
        "        self.first = self.data.next()\n"
    )
    Path(init.partition(":")[0]).write_text(
        ROWS_SCENARIO.replace("class Rows(Scenario):", reads_in_init)
    )
    assert misuse("--scenario", init) == 2
    assert "self.data has no rows: run with --data FILE" in capsys.readouterr().err


def access_lines(out, marker):
    """The bundled server's access.log lines of requests whose path holds `marker`."""
    lines = (out / "server-logs" / "access.log").read_text().splitlines()
    return [ln for ln in lines if marker in ln]


@pytest.mark.slow
def test_data_rows_reach_the_bundled_server_in_order(tmp_path, rows_scenario):
    data = tmp_path / "users.csv"
    data.write_text("name,password\n" + "".join(f"u{i},pw{i}\n" for i in range(10)))
    out = tmp_path / "run"
    # One worker: the access log's order is the order the requests came in.
    proc = loadgen("--rps", 10, "--duration", "1.5s", "--server-workers", 1, "--data", data,
                   "--scenario", rows_scenario, "--seed", 1, "--out", out, "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    users = [re.search(r"user=(u\d+) ", ln)[1] for ln in access_lines(out, "GET /?user=")]
    assert users == [f"u{i % 10}" for i in range(15)]  # in the file's order, then again
    s = summary(out)
    assert s["errors"]["total"] == 0 and s["requests"] == 15
    assert s["run"]["data"] == {"file": str(data), "rows": 10}


@pytest.mark.slow
def test_shards_of_a_run_send_disjoint_rows_each_row_once(tmp_path, rows_scenario):
    data = tmp_path / "users.jsonl"
    data.write_text("".join(f'{{"name": "u{i}"}}\n' for i in range(20)))
    heads = tmp_path / "heads"
    with server_process(record=heads) as url:
        proc = loadgen("--host", url, "--rps", 10, "--duration", "2s", "--processes", 2,
                       "--data", data, "--scenario", rows_scenario, "--seed", 2,
                       "--out", tmp_path / "run", "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    users = re.findall(rb"GET /\?user=(u\d+) HTTP/1.1", heads.read_bytes())
    # 20 arrivals, 10 per shard, each shard walking its own 10 rows: every row exactly once.
    assert sorted(users) == sorted(f"u{i}".encode() for i in range(20))
    assert summary(tmp_path / "run")["run"]["shard_count"] == 2


TARGETS = """\
# The bundled server's three endpoints, a Vegeta file's way.
GET /

# weight: 2
POST /addNumbers
Content-Type: application/json
@bodies/add.json

POST /computeFib
Content-Type: application/json
@bodies/fib.json
"""


@pytest.mark.slow
def test_a_targets_file_with_body_files_runs_against_the_bundled_server(tmp_path):
    (tmp_path / "bodies").mkdir()
    (tmp_path / "bodies" / "add.json").write_text('{"a": 40, "b": 2}\n')
    (tmp_path / "bodies" / "fib.json").write_text('{"iteration": 10}\n')
    (tmp_path / "api.txt").write_text(TARGETS)
    out = tmp_path / "run"
    proc = loadgen("--rps", 40, "--duration", "1s", "--targets", tmp_path / "api.txt",
                   "--seed", 4, "--out", out, "--slo", "task:POST /addNumbers:p99<1s")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = summary(out)
    # Every body arrived whole: a body the server could not read is a 422, an error here.
    assert s["errors"]["total"] == 0 and s["requests"] == 40
    assert set(s["tasks"]) == {"GET /", "POST /addNumbers", "POST /computeFib"}
    assert s["tasks"]["POST /addNumbers"]["requests"] > s["tasks"]["GET /"]["requests"]
    assert s["run"]["targets"] == {"file": str(tmp_path / "api.txt"), "targets": 3}
    assert s["run"]["scenario"] == f"targets:{tmp_path / 'api.txt'}"
    for name in ("response-POST_addNumbers.hgrm", "service-GET_.hgrm"):
        assert (out / name).is_file()
    added = access_lines(out, '"POST /addNumbers HTTP/1.1" 200')
    assert len(added) == s["tasks"]["POST /addNumbers"]["requests"]
    assert "POST /computeFib" in proc.stdout
    # The files read back as one run.
    assert loadgen("report", out, "--no-html").returncode == 0


VEGETA_TARGETS = """\
GET {url}/path/to/dragon?item=ball
X-Account-ID: 8675309

POST {url}/things
Content-Type: application/json
Authorization: Token DEADBEEF
@newthing.json

GET http://user:password@{host}/private
"""


@pytest.mark.slow
def test_a_vegeta_file_with_headers_and_a_body_runs_scaled_out_and_from_stdin(tmp_path):
    (tmp_path / "newthing.json").write_bytes(b'{"name": "thing"}')
    heads = tmp_path / "heads"
    with server_process(record=heads) as url:
        text = VEGETA_TARGETS.format(url=url, host=url.removeprefix("http://"))
        (tmp_path / "vegeta.txt").write_text(text)
        scaled = loadgen("--host", url, "--targets", tmp_path / "vegeta.txt", "--processes", 2,
                         "--rps", 30, "--duration", "1s", "--out", tmp_path / "a",
                         "--quiet")  # fmt: skip
        assert scaled.returncode == 0, scaled.stderr
        # Standard input: a body file's path is then relative to the current directory.
        piped = loadgen("--host", url, "--targets", "-", "--rps", 30, "--duration", "1s",
                        "--out", tmp_path / "b", "--quiet", input=text, cwd=tmp_path)  # fmt: skip
        assert piped.returncode == 0, piped.stderr
    requests = heads.read_bytes().split(b"\r\n\r\n")[:-1]
    assert len(requests) == 60
    by_path = {}
    for head in requests:
        by_path.setdefault(head.split(b" ")[1], []).append(head)
    assert set(by_path) == {b"/path/to/dragon?item=ball", b"/things", b"/private"}
    assert all(b"\r\nX-Account-ID: 8675309" in h for h in by_path[b"/path/to/dragon?item=ball"])
    for head in by_path[b"/things"]:
        for line in (b"Authorization: Token DEADBEEF", b"Content-Length: 17",
                     b"Content-Type: application/json"):  # fmt: skip
            assert b"\r\n" + line + b"\r\n" in head + b"\r\n"
    basic = b"Basic " + base64.b64encode(b"user:password")
    assert all(b"\r\nAuthorization: " + basic in h for h in by_path[b"/private"])
    for run, shards in (("a", 2), ("b", 1)):
        s = summary(tmp_path / run)
        assert s["errors"]["total"] == 0 and s["requests"] == 30
        assert set(s["tasks"]) == {"GET /path/to/dragon", "POST /things", "GET /private"}
        assert s["run"].get("shard_count", 1) == shards
    assert summary(tmp_path / "b")["run"]["targets"]["file"] == "standard input"


# -- --max-body and --header: what a response may hold, what a request may carry --------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--max-body", "lots"), "argument --max-body: invalid size 'lots'"),
        (("--max-body", "0"), "argument --max-body: a size is at least 1 byte"),
        (("--max-body=-5MiB",), "argument --max-body: invalid size '-5MiB'"),
        (("--header", "Content-Length: 5"), "--header Content-Length: loadgen writes it"),
        (("--header", "transfer-encoding: chunked"), "--header transfer-encoding: loadgen"),
    ],
)
def test_max_body_and_framing_header_misuse_is_one_line_and_exit_2(capsys, argv, says):
    assert misuse("--host", "http://127.0.0.1:9", *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("loadgen: error: ") and err.count("\n") == 1
    assert says in err, err


@pytest.mark.parametrize(
    ("text", "size"),
    [("16MiB", 16 << 20), ("512KiB", 512 << 10), ("1000000", 10**6), ("10MB", 10**7),
     ("1.5k", 1500), ("2 GiB", 2 << 30)],
)  # fmt: skip
def test_sizes_read_as_people_write_them(text, size):
    from loadgen.commands.options.argtypes import byte_size

    assert byte_size(text) == size


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_body_past_max_body_is_body_too_large_and_a_host_header_goes_once(tmp_path):
    import asyncio
    import contextlib

    from tests.support.http_server import raw_server, read_request

    heads = []
    body = b"z" * 10240

    async def ten_kib(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                heads.append((await read_request(reader))[0])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10240\r\n\r\n" + body)
                await writer.drain()

    async with raw_server(ten_kib) as url:
        proc = await asyncio.to_thread(
            loadgen, "--host", url, "--rps", 5, "--duration", "1s", "--scenario",
            "tests/support/scenarios.py:Get", "--max-body", "1KiB", "--header",
            "Host: example.test", "--out", tmp_path / "out", "--quiet",
        )  # fmt: skip
    s = summary(tmp_path / "out")
    assert s["errors"]["by_kind"] == {"body_too_large": s["requests"]}, proc.stderr
    assert "1KiB (--max-body)" in s["errors"]["first"]["body_too_large"]
    assert s["run"]["max_body"] == 1024
    assert heads and all(
        [ln for ln in h.split(b"\r\n") if ln.lower().startswith(b"host:")]
        == [b"Host: example.test"]
        for h in heads
    )


# -- --http2 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [(("--http2=fallback",), "--http2=fallback is for an https:// --host"),
     (("--http2=h3",), "argument --http2: invalid choice: 'h3'")],
)  # fmt: skip
def test_http2_misuse_is_one_line_and_exit_2(capsys, argv, says):
    try:
        status = misuse("--host", "http://127.0.0.1:9", *argv)
    except SystemExit as e:  # argparse's own errors exit themselves
        status = e.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("loadgen: error: ") and err.count("\n") == 1
    assert says in err, err


@pytest.mark.slow
def test_a_run_over_http2_says_so_and_times_every_request(tmp_path):
    from tests.support.certs import make_certs
    from tests.support.hypercorn_server import hypercorn

    certs = make_certs(tmp_path)
    targets = tmp_path / "targets.txt"
    targets.write_text("GET /\n")
    with hypercorn(certs) as url:
        proc = loadgen("run", "--host", url, "--ca-cert", certs.ca_pem, "--http2",
                       "--rps", 1000, "--duration", "2s", "--targets", targets,
                       "--out", tmp_path / "run")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = summary(tmp_path / "run")
    assert s["run"]["http_version"] == "2" and s["run"]["http2"] == "on"
    assert s["run"]["connections"] == 4  # --http2's default: few connections
    assert "HTTP/2" in proc.stdout
    # Every arrival sent was answered (one left unsent is this machine's stall,
    # said in generator.unsent), each latency recorded from its intended time.
    assert s["errors"]["total"] == 0 and s["requests"] == s["arrivals"]
    assert s["arrivals"] + s["generator"]["unsent"] == 2000 and s["arrivals"] >= 1900
    assert s["latency_ms"]["response"]["max"] >= s["latency_ms"]["service"]["p50"]
    assert s["generator"]["connections_opened"] <= 4
