import pytest

from loadgen.commands.options.argtypes import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("2m", 120),
        ("1h30m", 5400),
        ("250ms", 0.25),
        ("12", 12),
        ("1.5", 1.5),
        ("1m30s", 90),
        (" 5S ", 5),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "10x", "s", "-5", "5 s", "1m-3s", "inf"])
def test_bad_durations_say_what_is_expected(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_an_out_directory_may_not_be_a_file_or_under_one(tmp_path):
    import argparse

    import pytest

    from loadgen.commands.options.argtypes import out_dir

    (tmp_path / "file").write_text("x")
    assert out_dir(str(tmp_path / "new" / "deeper")) == tmp_path / "new" / "deeper"
    for bad in (tmp_path / "file", tmp_path / "file" / "under"):
        with pytest.raises(argparse.ArgumentTypeError, match="not a directory"):
            out_dir(str(bad))


def test_a_start_time_not_understood_names_an_example_that_would_be_taken():
    import argparse
    import re

    from loadgen.commands.options.argtypes import start_time

    with pytest.raises(argparse.ArgumentTypeError) as info:
        start_time("yesterday")
    [example] = re.findall(r"\d{4}-\d\d-\d\dT12:00:00Z", str(info.value))
    assert start_time(example) > 0  # neither past nor more than a year ahead
