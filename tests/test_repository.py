"""Nothing private is committed: instance/ holds only its README and .gitkeep, and no
database file, secret key or upload is tracked anywhere."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tracked_files() -> list[str]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return out.splitlines()


def test_instance_folder_tracks_only_its_readme():
    tracked = [f for f in _tracked_files() if f.startswith("instance/")]
    assert sorted(tracked) == ["instance/.gitkeep", "instance/README.md"]


def test_no_database_secret_or_upload_is_tracked():
    suspicious = [
        f
        for f in _tracked_files()
        if f.endswith((".sqlite3", ".sqlite", ".db", "secret_key", ".env")) or "/uploads/" in f
    ]
    assert suspicious == []
