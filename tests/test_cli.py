"""The command line as a user meets it: quiet unless asked, read-only verbs never migrate, no tracebacks."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from servers import write_config

ROOT = Path(__file__).resolve().parents[1]


class _Nowhere:
    """Just enough of a server for a config file: these verbs never connect."""

    host, port, users = "127.0.0.1", 9, {"svc": "x"}

    def settings(self, **_):
        return {"host": self.host, "port": self.port, "security": "none", "username": "svc", "password": "x"}


def _config(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "mailbot.sqlite3"
    cfg = write_config(tmp_path / "mailbot.toml", _Nowhere(), _Nowhere(), database={"url": f"sqlite:///{db}"},
                       storage={"dir": str(tmp_path / "var")})
    return cfg, db


def _cli(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mailbot.cli", "--config", str(cfg), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as con:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.parametrize("verb", [["cases"], ["case", "PUB-2026-0001"], ["status"], ["report", "--month", "2026-11"]])
def test_a_read_only_verb_on_a_schema_behind_says_run_db_upgrade_and_changes_nothing(tmp_path, verb):
    cfg, db = _config(tmp_path)
    done = _cli(cfg, *verb)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr            # one line
    assert "db upgrade" in done.stderr and "Traceback" not in done.stderr
    assert "alembic_version" not in _tables(db)                        # nothing was migrated


def test_after_db_upgrade_read_only_verbs_answer_and_libraries_say_nothing(tmp_path):
    cfg, db = _config(tmp_path)
    upgraded = _cli(cfg, "db", "upgrade")
    assert upgraded.returncode == 0 and "alembic_version" in _tables(db)
    assert "INFO" not in upgraded.stderr, upgraded.stderr               # alembic's nine INFO lines are gone
    listed = _cli(cfg, "cases", "--json")
    assert listed.returncode == 0 and listed.stdout.strip() == "[]"
    assert listed.stderr == "", listed.stderr
    verbose = _cli(cfg, "--verbose", "db", "upgrade")
    assert "alembic" in verbose.stderr                                  # --verbose still shows them


def test_db_upgrade_on_a_fresh_install_makes_the_storage_directory_the_database_lives_in(tmp_path):
    storage = tmp_path / "var" / "mailbot"
    cfg = write_config(tmp_path / "mailbot.toml", _Nowhere(), _Nowhere(), storage={"dir": str(storage)},
                       database={"url": f"sqlite:///{storage / 'mailbot.sqlite3'}"})
    done = _cli(cfg, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "alembic_version" in _tables(storage / "mailbot.sqlite3")


def test_a_demo_step_that_breaks_prints_one_line_naming_the_cause_and_the_kept_directory(monkeypatch, capsys):
    from mailbot.demo import story

    def broken(self):
        raise KeyError("langkah yang rusak")
    monkeypatch.setattr(story.Demo, "play", broken)
    assert story.run_demo() == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = next(ln for ln in err.splitlines() if "GAGAL" in ln)
    assert "KeyError" in line and "langkah yang rusak" in line
    kept = Path(err.split("(files kept): ")[1].split()[0])
    assert kept.is_dir()
    import shutil
    shutil.rmtree(kept, ignore_errors=True)
