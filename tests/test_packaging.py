"""A wheel of the project serves on its own: `pip install .` into a fresh virtualenv gets
the templates, static files, migrations and compiled translations, so a Spanish phone is
answered in Spanish and `flask export --lang es` writes a Spanish report.

The wheel is built from a copy of the source without build isolation (no download), and
the fresh virtualenv finds the dependencies through a .pth line to this virtualenv's
site-packages: only the project itself comes from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from babel.support import Translations

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "discussion" / "translations"
SOURCES = ("pyproject.toml", "README.md", "discussion", "templates", "static", "migrations")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the source tree."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", str(out), str(src)],
        check=True, capture_output=True, timeout=300,
    )
    (built,) = out.glob("discussion-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; returns its python."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # The dependencies, after the venv's own site-packages (so the wheel's copy wins).
    Path(purelib, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed package from a folder outside the source tree, with no
    DISCUSSION_ settings inherited from this shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCUSSION_", "FLASK_", "PYTHONPATH"))}
    result = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_wheel_holds_what_an_install_serves(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for locale in ("es", "pt_BR"):
        assert f"discussion/translations/{locale}/LC_MESSAGES/messages.mo" in names
    for path in ("templates/event.html", "templates/report.md", "static/js/participant.js",
                 "static/vendor/socket.io.min.js", "migrations/env.py",
                 "migrations/alembic.ini", "seeds/smartcities-2016.toml",
                 "export/reports.py", "rules/archive.py"):
        assert f"discussion/{path}" in names, path
    assert any(n.startswith("discussion/migrations/versions/") for n in names)


def test_installed_package_serves_spanish(installed: Path, tmp_path: Path) -> None:
    where = run(installed, "-c", "import discussion; print(discussion.__file__)", cwd=tmp_path)
    assert str(ROOT) not in where.stdout  # the wheel's copy, not the source tree
    run(installed, "-m", "flask", "--app", "discussion", "db", "upgrade", cwd=tmp_path)
    run(installed, "-m", "flask", "--app", "discussion", "seed", cwd=tmp_path)
    # Without DISCUSSION_INSTANCE_PATH an install keeps its data in <venv>/var, as Flask does.
    assert (installed.parent.parent / "var" / "discussion-instance" / "discussion.db").exists()

    spanish = Translations.load(str(TRANSLATIONS), ["es"]).gettext
    report = run(installed, "-m", "flask", "--app", "discussion", "export", "smartcities",
                 "--lang", "es", "--format", "md", cwd=tmp_path).stdout
    for heading in ("Workshop report", "Summary", "Licence of the contributions"):
        assert spanish(heading) != heading
        assert spanish(heading) in report, heading
    assert "Workshop report" not in report

    page = run(installed, "-c", (
        "from discussion import create_app\n"
        "c = create_app().test_client()\n"
        "r = c.get('/e/smartcities', headers={'Accept-Language': 'es'})\n"
        "s = c.get('/static/js/participant.js')\n"
        "print(r.status_code, s.status_code)\n"
        "print(r.get_data(as_text=True))\n"
    ), cwd=tmp_path).stdout
    status, _, html = page.partition("\n")
    assert status == "200 200"
    assert '<html lang="es"' in html
    for text in ("About this session", "Now discussing"):
        assert spanish(text) != text and spanish(text) in html, text
