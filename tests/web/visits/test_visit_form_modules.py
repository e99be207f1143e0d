"""The visit form's scripts are ES modules (static/visit_form/, main.js the entry) with
no build step. The page preloads every module main.js imports, directly or not: that
is also the list it hands the service worker on its first visit, so a module left
out would be missing from an offline reload."""

import re
from pathlib import Path

import pytest

from tests.conftest import login
from tests.web.worlds.visit_form import build_world, url

STATIC = Path(__file__).resolve().parents[3] / "auditapp" / "static"
IMPORT = re.compile(r"""^\s*import\s+(?:[^'";]*?\sfrom\s+)?["'](\./[\w-]+\.js)["']""", re.MULTILINE)
PRELOAD = re.compile(r'<link rel="modulepreload" href="/static/(visit_form/[\w-]+\.js)">')
MODULE = re.compile(r'<script type="module" src="/static/([\w/-]+\.js)"></script>')


@pytest.fixture
def world(make_client, make_region, make_store, make_shopper):
    """Ann's accepted visit of the retail starter."""
    return build_world(make_client, make_region, make_store, make_shopper)


def imported_by(entry: str) -> set[str]:
    """``entry`` and every module it imports, directly or not (static/ relative)."""
    found, waiting = set(), [entry]
    while waiting:
        name = waiting.pop()
        if name in found:
            continue
        found.add(name)
        folder = str(Path(name).parent)
        text = (STATIC / name).read_text(encoding="utf-8")
        waiting += [f"{folder}/{relative[2:]}" for relative in IMPORT.findall(text)]
    return found


def test_the_form_page_preloads_every_module_its_entry_imports(client, world):
    login(client, world.ann.user)
    page = client.get(url(world.visit, "form")).text

    assert MODULE.findall(page) == ["visit_form/main.js"]
    needed = imported_by("visit_form/main.js")
    assert "visit_form/conditions.js" in needed
    assert set(PRELOAD.findall(page)) == needed
    # No module lies in the folder unused.
    assert {f"visit_form/{p.name}" for p in (STATIC / "visit_form").glob("*.js")} == needed


def test_the_visit_page_loads_the_check_in_module_alone(client, world):
    login(client, world.ann.user)
    page = client.get(f"/my/visits/{world.visit.id}").text

    assert MODULE.findall(page) == ["visit_form/checkin.js"]
    assert imported_by("visit_form/checkin.js") == {"visit_form/checkin.js"}
