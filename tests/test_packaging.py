"""`pip install .` must carry what mailbot reads at run time: templates, migrations, example catalog, fonts."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_templates_migrations_catalog_and_fonts(tmp_path):
    # built from a clean copy: setuptools would reuse a build/ directory left in the tree
    src = tmp_path / "src"
    for name in ("mailbot", "templates"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(src)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(tmp_path.glob("mailbot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_mail = {f"mailbot/templates/mail/{p.name}" for p in (ROOT / "templates" / "mail").glob("*.txt")}
    assert shipped_mail and shipped_mail <= names
    assert {"mailbot/templates/invoice.toml", "mailbot/templates/kuitansi.toml",
            "mailbot/data/katalog-contoh.csv", "mailbot/adapters/migrations/script.py.mako",
            "mailbot/adapters/migrations/env.py", "mailbot/__main__.py"} <= names
    versions = {p.name for p in (ROOT / "mailbot" / "adapters" / "migrations" / "versions").glob("*.py")}
    assert {f"mailbot/adapters/migrations/versions/{v}" for v in versions} <= names
    assert not any(n.startswith(("tests/", "bench/", "templates/")) for n in names)
    # the fonts every invoice and receipt is drawn with, and their licence
    from mailbot.outbound.fonts import PACKAGED_FONTS
    fonts = {f"mailbot/data/fonts/{f}" for f in PACKAGED_FONTS.values()}
    assert fonts | {"mailbot/data/fonts/LICENSE"} <= names
    wheel_zip = zipfile.ZipFile(wheel)
    for font in fonts:
        assert wheel_zip.read(font) == (ROOT / font).read_bytes()
    assert b"SIL OPEN FONT LICENSE Version 1.1" in wheel_zip.read("mailbot/data/fonts/LICENSE")
