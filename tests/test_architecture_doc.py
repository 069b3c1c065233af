"""docs/architecture.md names every module of loadgen/, and none that is not there.

Its package table is what a newcomer reads to find a concept's home: a module
moved or added without it, or a name left behind by a rename, misleads them.
In each row, the names in backticks outside parentheses are the package's
modules (`name`) and sub-packages (`name/`); a sub-package's modules are the
names in the parentheses that follow it (`findings/` (… `generator`, …)).
Names deeper inside a module's parentheses may be anything (its classes,
functions, options), so only the forward check sees them.
"""

import re
from pathlib import Path

import pytest

from tests.support.cli import ROOT

PAGE = (ROOT / "docs" / "architecture.md").read_text()
PACKAGE = ROOT / "loadgen"
NAME = re.compile(r"[a-z_][a-z0-9_]*/?")


def rows() -> dict[str, str]:
    """The package table: a layer's package (`core`) → what its row says is in it."""
    table = {}
    for line in PAGE.splitlines():
        m = re.match(r"\| `(\w+)/` \|[^|]*\| (.*) \|$", line)
        if m:
            table[m.group(1)] = m.group(2)
    return table


def named(row: str) -> tuple[set[str], set[str]]:
    """The names a row gives as modules (a sub-package's as `sub/name`), and every
    name in backticks in it."""
    modules: set[str] = set()
    everything: set[str] = set()
    depth, sub = 0, None
    for token in re.findall(r"`[^`]*`|[()]", row):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            sub = sub if depth else None
        else:
            name = token.strip("`")
            everything.add(name.rstrip("/"))
            if not NAME.fullmatch(name):
                continue
            if depth == 0:
                modules.add(name)
                sub = name if name.endswith("/") else None
            elif depth == 1 and sub is not None:
                modules.add(sub + name)
    return modules, everything


def on_disk(layer: str) -> set[str]:
    """The modules and sub-packages of loadgen/<layer>/, as a row names them."""
    root = PACKAGE / layer
    found = set()
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if path.name == "__init__.py":
            if rel.parent != Path("."):
                found.add(f"{rel.parent.as_posix()}/")
            continue
        found.add(rel.with_suffix("").as_posix())
    return found


LAYERS = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def test_the_table_has_a_row_for_each_layer():
    assert sorted(rows()) == LAYERS


@pytest.mark.parametrize("layer", LAYERS)
def test_every_module_is_named_in_its_layers_row(layer):
    _, everything = named(rows().get(layer, ""))
    missing = {m for m in on_disk(layer) if m.rstrip("/").rsplit("/", 1)[-1] not in everything}
    assert not missing, f"docs/architecture.md's {layer}/ row does not name {sorted(missing)}"


@pytest.mark.parametrize("layer", LAYERS)
def test_every_module_the_row_names_exists(layer):
    modules, _ = named(rows().get(layer, ""))
    gone = modules - on_disk(layer)
    assert not gone, f"docs/architecture.md's {layer}/ row names {sorted(gone)}: not in loadgen/"


def test_every_file_the_page_names_exists():
    files = re.findall(r"`(?:loadgen/)?((?:\w+/)*\w+\.py)", PAGE)
    modules = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    assert files, "the page names no file: the pattern no longer reads it"
    gone = {
        f
        for f in files
        if f not in modules and not any(m.endswith("/" + f) for m in modules)
        and not (ROOT / f).is_file()  # bench/'s
        and f != "file.py"  # `file.py:Class`: how a scenario file is named
    }  # fmt: skip
    assert not gone, f"docs/architecture.md names {sorted(gone)}: not in loadgen/"


def test_the_checks_can_fail():
    """A module left out, and a name that is no module, are each seen."""
    modules, everything = named("`a` (x `f`), `sub/` (of: `b`, `c` (`d`)), `e`")
    assert modules == {"a", "sub/", "sub/b", "sub/c", "e"}
    assert "f" in everything and "d" in everything and "f" not in modules
