"""A local fsspec storage never follows a symlink planted in its root: saving over a leftover
folder that holds one, or over a folder that is one, writes and deletes nothing outside."""

from __future__ import annotations

from pathlib import Path

from engine.testing.restarts import checkpointed_spec


def test_saving_over_planted_symlinks_touches_nothing_outside(cli, tmp_path: Path) -> None:
    root = tmp_path / "store"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    (outside / "MANIFEST.json").write_text("not yours")
    # an uncommitted leftover whose part is a link out, and a checkpoint name that is a link out
    (root / "step-000000002").mkdir(parents=True)
    (root / "step-000000002" / "backend.json").symlink_to(outside / "precious.txt")
    (root / "step-000000004").symlink_to(outside, target_is_directory=True)
    (tmp_path / "s.toml").write_text(checkpointed_spec(f"local://{root.as_posix()}"))

    result = cli("run", "s.toml", "--quiet")

    assert result.code == 0, result
    assert sorted(p.name for p in outside.iterdir()) == ["MANIFEST.json", "precious.txt"]
    assert (outside / "precious.txt").read_text() == "keep me"
    assert (outside / "MANIFEST.json").read_text() == "not yours"
    assert not (root / "step-000000004").is_symlink() and (root / "step-000000004" / "MANIFEST.json").is_file()


def test_the_run_directory_mirror_writes_through_no_planted_symlink(cli, tmp_path: Path) -> None:
    root = tmp_path / "store"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    (root / "run").mkdir(parents=True)
    (root / "run" / "summary.json").symlink_to(outside / "precious.txt")
    (root / "run" / "model").symlink_to(outside, target_is_directory=True)
    spec = checkpointed_spec(f"local://{root.as_posix()}") + "storage_options = { mirror_run_dir = true }\n"
    (tmp_path / "s.toml").write_text(spec)

    result = cli("run", "s.toml", "--quiet")

    assert result.code == 0, result
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]
    assert (outside / "precious.txt").read_text() == "keep me"
    assert '"status": "completed"' in (root / "run" / "summary.json").read_text()
    assert (root / "run" / "model" / "final.json").is_file()
