"""The app uses Django's public API only, so that Django's patch releases
(pinned `~=5.2.x`) can be taken without reading its internals again."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("agencies", "audit", "cases", "config", "gate", "notifications", "ops", "security")
FORBIDDEN = (
    "__new__(",
    "_state.",
    "klass_info",
    "get_related_populators",
    ".query.annotations",
    "SQLCompiler",
)


def _app_sources() -> list[Path]:
    return [
        path
        for app in APPS
        if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def test_the_apps_are_found():
    assert len(_app_sources()) > 50


@pytest.mark.parametrize("needle", FORBIDDEN)
def test_no_app_module_uses_a_private_django_api(needle):
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _app_sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if needle in line
    ]
    assert not found, f"{needle!r} in {found}"
