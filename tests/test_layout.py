"""The library's layering (issue 16): chapters build on the core, never the other way round."""

from pathlib import Path

import pytest

from cchlib.provenance import imported_modules as _imported_modules

ROOT = Path(__file__).resolve().parents[1] / "cchlib"


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


CHAPTERS = {name for name, path in _modules() if name.startswith("cchlib.experiments.")}


def test_the_chapter_modules_are_found():
    assert {"cchlib.experiments.tcga", "cchlib.experiments.mnist", "cchlib.experiments.unpaired"} <= CHAPTERS


@pytest.mark.parametrize("name,path", [m for m in _modules() if not m[0].startswith("cchlib.experiments")],
                         ids=lambda value: value if isinstance(value, str) else "")
def test_no_library_module_imports_a_chapter(name, path):
    assert "cchlib.experiments" not in _imported_modules(name, path), f"{name} imports cchlib.experiments"


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_no_chapter_module_imports_another(name):
    path = dict(_modules())[name]
    others = (_imported_modules(name, path) & CHAPTERS) - {name}
    assert not others, f"{name} imports {sorted(others)}"
