"""`--targets FILE`: Vegeta's http targets format read into an ordinary scenario."""

import base64
import collections
import json
import random
import tracemalloc

import pytest

from loadgen.scenario.base import new_scenario
from loadgen.scenario.picker import TaskPicker
from loadgen.scenario.targets_file import (
    Target,
    TargetsError,
    TargetsScenario,
    from_plain,
    parse_targets,
    targets_scenario,
)
from loadgen.transports.models import Request

HOST = "http://127.0.0.1:8000"

# Vegeta's README examples (simple, headers, bodies, comments), pointed at one origin.
VEGETA_FILE = """\
GET http://127.0.0.1:8000/path/to/dragon?item=ball
GET http://user:password@127.0.0.1:8000/path/to
HEAD http://127.0.0.1:8000/path/to/success

GET http://127.0.0.1:8000/path/to
X-Account-ID: 8675309

DELETE http://127.0.0.1:8000/path/to/remove
Confirmation-Token: 90215
Authorization: Token DEADBEEF

POST http://127.0.0.1:8000/things
X-Account-ID: 99
@bodies/newthing.json

# get a dragon ball
GET http://127.0.0.1:8000/path/to/dragon?item=ball
# specify a test account
X-Account-ID: 99
"""


@pytest.fixture
def bodies(tmp_path):
    (tmp_path / "bodies").mkdir()
    (tmp_path / "bodies" / "newthing.json").write_bytes(b'{"name": "thing"}\n')
    return tmp_path


def parse(text, base_dir=None, host=HOST, source="t.txt"):
    return parse_targets(text, source, base_dir, host)


def test_vegeta_s_own_examples_are_read_as_vegeta_reads_them(bodies):
    targets = parse(VEGETA_FILE, bodies)
    assert [(t.method, t.path, t.line) for t in targets] == [
        ("GET", "/path/to/dragon?item=ball", 1),
        ("GET", "/path/to", 2),
        ("HEAD", "/path/to/success", 3),
        ("GET", "/path/to", 5),
        ("DELETE", "/path/to/remove", 8),
        ("POST", "/things", 12),
        ("GET", "/path/to/dragon?item=ball", 17),
    ]
    basic = base64.b64encode(b"user:password").decode()
    assert targets[1].headers == {"Authorization": f"Basic {basic}"}
    assert targets[3].headers == {"X-Account-ID": "8675309"}
    assert targets[4].headers == {"Confirmation-Token": "90215", "Authorization": "Token DEADBEEF"}
    assert targets[5].headers == {"X-Account-ID": "99"}
    assert targets[5].body == b'{"name": "thing"}\n'
    assert targets[6].headers == {"X-Account-ID": "99"}  # the comment between is skipped
    assert [t.weight for t in targets] == [1] * 7
    assert all(t.body is None for i, t in enumerate(targets) if i != 5)


def test_a_weight_comment_weighs_the_next_target():
    targets = parse("# weight: 3\nGET /a\n\n# a comment\n#Weight:2\n\nPOST /b\nX-A: 1\n\nGET /c\n")
    assert [(t.path, t.weight) for t in targets] == [("/a", 3), ("/b", 2), ("/c", 1)]


def test_paths_alone_are_relative_to_the_host_or_the_bundled_server():
    for host in (HOST, None):
        [t] = parse("POST /computeFib?x=1#frag\nContent-Type: application/json\n", host=host)
        assert (t.method, t.path, t.headers) == ("POST", "/computeFib?x=1", {
            "Content-Type": "application/json"})  # fmt: skip


def test_the_host_s_own_path_is_its_prefix():
    targets = parse("GET http://127.0.0.1:8000/api/users?id=1\nGET /users\n", host=f"{HOST}/api")
    assert [t.path for t in targets] == ["/users?id=1", "/users"]  # the client adds /api
    [root] = parse("GET http://127.0.0.1:8000/api\n", host=f"{HOST}/api/")
    assert root.path == "/"
    with pytest.raises(TargetsError, match=r"t\.txt line 1: .* is not under --host's path /api"):
        parse("GET http://127.0.0.1:8000/apix/users\n", host=f"{HOST}/api")


def test_one_origin_per_run():
    same = parse("GET http://127.0.0.1:8000/\nGET HTTP://127.0.0.1:8000/x\n", host=HOST)
    assert [t.path for t in same] == ["/", "/x"]
    assert parse("GET https://example.org:443/\n", host="https://example.org")[0].path == "/"
    for line, host in [
        ("GET http://127.0.0.1:9000/", HOST),
        ("GET https://127.0.0.1:8000/", HOST),
        ("GET http://localhost:8000/", HOST),
    ]:
        with pytest.raises(TargetsError, match=r"line 2: .* is not the --host origin"):
            parse(f"GET /\n{line}\n", host=host)


def test_without_a_host_a_target_with_an_origin_says_what_to_do():
    with pytest.raises(TargetsError) as info:
        parse("GET /\n\nGET http://user:pw@10.0.0.1:8000/x\n", host=None)
    assert str(info.value) == (
        "t.txt line 3: a target at http://10.0.0.1:8000 needs `--host http://10.0.0.1:8000` "
        "(without --host, loadgen loads the bundled server, and targets are paths like `GET /`)"
    )


def test_headers_are_joined_and_the_ones_the_client_computes_dropped():
    [t] = parse(
        "POST /x\nX-Tag: a\nX-Tag: b\nCookie: a=1\nCookie: b=2\nContent-Length: 999\n"
        "Transfer-Encoding: chunked\nHost: api.example.org\nAuthorization: Bearer t\n"
    )
    assert t.headers == {"X-Tag": "a, b", "Cookie": "a=1; b=2", "Host": "api.example.org",
                         "Authorization": "Bearer t"}  # fmt: skip
    # A target's own Authorization wins over its URL's user:password.
    [t] = parse("GET http://u:p@127.0.0.1:8000/\nauthorization: Bearer mine\n")
    assert t.headers == {"authorization": "Bearer mine"}


def test_a_non_ascii_path_is_percent_encoded_as_go_sends_it():
    [t] = parse("GET /café?q=ü\n")
    assert t.path == "/caf%C3%A9?q=%C3%BC"


def test_a_body_file_is_found_beside_the_targets_file_else_in_the_current_directory(
    tmp_path, monkeypatch
):
    (tmp_path / "here.json").write_text("beside")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "there.json").write_text("in cwd")
    (cwd / "here.json").write_text("shadowed")
    (tmp_path / "abs.json").write_text("absolute")
    monkeypatch.chdir(cwd)
    text = f"POST /a\n@here.json\n\nPOST /b\n@ there.json\n\nPOST /c\n@{tmp_path / 'abs.json'}\n"
    assert [t.body for t in parse(text, tmp_path)] == [b"beside", b"in cwd", b"absolute"]
    with pytest.raises(TargetsError, match=r"line 2: body file gone\.json not found \(looked in"):
        parse("POST /a\n@gone.json\n", tmp_path)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("get http://127.0.0.1:8000/\n", "line 1: expected a target like `GET http://host/path`"),
        ("GET\n", "line 1: expected a target like"),
        ("GET /a b\n", "line 1: expected `METHOD URL` (spaces in a URL are percent-encoded)"),
        ("GET /\nNoColon\n", "line 2: expected a header `Name: value` or `@body-file`"),
        ("GET /\nX-Empty:\n", "line 2: expected a header"),
        ("GET /\nBad Name: v\n", "line 2: invalid header name 'Bad Name': not an HTTP token"),
        ("GET ftp://127.0.0.1:8000/\n", "line 1: expected an http:// or https:// URL"),
        ("GET relative/path\n", "line 1: expected an http:// or https:// URL, or a path"),
        ("GET http://127.0.0.1:99999/\n", "line 1: invalid port"),
        ("POST /\n@\n", "line 2: `@` names no body file"),
        ("POST /\n@b.json\nX-Late: 1\n", "line 3: expected a target like `GET http://host/path` "
                                         "(after a body line, the target is over)"),
        ("# weight: 0\nGET /\n", "line 1: a weight is a whole number >= 1, got '0'"),
        ("# weight: two\nGET /\n", "line 1: a weight is a whole number >= 1, got 'two'"),
        ("# weight: 2\n# weight: 3\nGET /\n", "line 2: a second `# weight` for one target"),
        ("GET /\n# weight: 2\n", "line 2: a `# weight` with no target after it"),
        ("", "t.txt has no targets"),
        ("# only a comment\n\n", "t.txt has no targets"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_one_line_naming_the_file_and_line(tmp_path, text, says):
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(TargetsError) as info:
        parse(text, tmp_path)
    message = str(info.value)
    assert message.startswith("t.txt") and says in message and "\n" not in message, message


def test_each_name_is_a_one_shot_task_weighted_by_its_targets():
    targets = parse(
        "# weight: 2\nGET /a?x=1\n\nGET /a?x=2\n\n# weight: 3\nPOST /b\nX-A: 1\n\nGET /c,d\n"
    )
    klass = targets_scenario(targets, "t.txt")
    assert issubclass(klass, TargetsScenario) and klass.source == "t.txt"
    assert klass.task_weights() == {"GET /a": 3, "POST /b": 3, "GET /c%2Cd": 1}
    picker = TaskPicker(new_scenario(klass, random.Random(0)))
    task_of = {"/a?x=1": "GET /a", "/a?x=2": "GET /a", "/b": "POST /b", "/c,d": "GET /c%2Cd"}
    rng = random.Random(1)
    sent = collections.Counter()
    for _ in range(21_000):
        name, fn, oneshot = picker.pick(rng)
        request = fn()
        assert oneshot and isinstance(request, Request) and task_of[request.path] == name
        sent[request.path] += 1
    # Each target as often as its weight says: 2 : 1 : 3 : 1.
    for path, share in {"/a?x=1": 2 / 7, "/a?x=2": 1 / 7, "/b": 3 / 7, "/c,d": 1 / 7}.items():
        assert sent[path] / 21_000 == pytest.approx(share, abs=0.015)


def test_each_request_is_a_new_one():
    klass = targets_scenario(parse("POST /b\nX-A: 1\n"), "t.txt")
    task = getattr(new_scenario(klass, random.Random(0)), "POST /b")
    first, second = task(), task()
    first.headers["X-A"] = "changed"
    assert second.headers == {"X-A": "1"} and first is not second


def test_a_file_of_many_distinct_paths_costs_little_memory_per_target():
    text = "".join(f"GET /p/{i}\n\n" for i in range(20_000))
    tracemalloc.start()
    try:
        klass = targets_scenario(parse(text), "t.txt")
        picker = TaskPicker(new_scenario(klass, random.Random(0)))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(picker.names) == 20_000
    # The targets, their tasks and the picker: a few hundred bytes each (a
    # function and a closure per target made it over a kilobyte).
    assert held / 20_000 < 600, f"{held / 20_000:.0f} bytes per target"


def test_targets_travel_as_plain_data_to_a_shard(bodies):
    klass = targets_scenario(parse(VEGETA_FILE, bodies), "t.txt")
    plain = json.loads(json.dumps(klass.to_plain()))
    again = from_plain(plain)
    assert again.targets == klass.targets and again.source == "t.txt"
    assert again.task_weights() == klass.task_weights()
    assert Target.from_plain(Target("GET", "/").to_plain()) == Target("GET", "/")
