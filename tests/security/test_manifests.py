"""Crafted checkpoints: a manifest or a symlink that names a place outside the checkpoint root
is a damaged checkpoint, skipped with a warning; retention and resume delete, read and write
only folders they listed themselves inside the root."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from engine.testing.restarts import checkpointed_spec

CHECKPOINTS = Path("runs/s/checkpoints")


def first_run(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A finished run whose checkpoint root holds step-000000004 only; returns that root."""
    (tmp_path / "s.toml").write_text(checkpointed_spec())
    assert cli("run", "s.toml", "--quiet").code == 0
    root = tmp_path / CHECKPOINTS
    assert sorted(p.name for p in root.iterdir()) == ["step-000000004"]
    return root


def plant(root: Path, folder: str, **changes: object) -> Path:
    """A copy of step-000000004 as ``folder`` (inside ``root`` or anywhere), its manifest changed."""
    target = root / folder
    shutil.copytree(root / "step-000000004", target)
    manifest = json.loads((target / "MANIFEST.json").read_text())
    manifest.update(changes)
    (target / "MANIFEST.json").write_text(json.dumps(manifest))
    return target


def victim(tmp_path: Path) -> Path:
    """A folder outside the run with a file in it, that nothing may touch."""
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    return folder


def resume(cli) -> object:  # type: ignore[no-untyped-def]
    return cli("run", "s.toml", "--resume", "--plain", "--set", "loop.max_steps=8")


def warnings(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in result.err.splitlines() if "warning" in line.lower()]


def test_manifest_name_climbing_out_of_the_root_deletes_nothing(cli, tmp_path):
    root = first_run(cli, tmp_path)
    outside = victim(tmp_path)
    # root/step-000000001/../../../../victim is tmp_path/victim; the hidden twin is where the
    # old retention renamed the doomed folder to (".<name>.deleting-<pid>")
    plant(root, "step-000000001", name="step-000000001/../../../../victim", step=1)
    (root / ".step-000000001").mkdir()

    result = resume(cli)

    assert result.code == 0, result
    assert (outside / "precious.txt").read_text() == "keep me"
    assert [p.name for p in outside.parent.iterdir() if p.name.startswith("victim")] == ["victim"]
    assert "resumed from" in result.err and "step-000000004" in result.err, result
    damaged = [w for w in warnings(result) if "step-000000001" in w]
    assert damaged and "names another place" in damaged[0], result
    assert (root / "step-000000001").is_dir()  # not ours to delete either: it was never committed


def test_manifest_with_an_absolute_name_deletes_nothing(cli, tmp_path):
    root = first_run(cli, tmp_path)
    outside = victim(tmp_path)
    plant(root, "step-000000001", name=str(outside), step=1)
    (root / f".{outside}").parent.mkdir(parents=True)  # where a rename to ".<name>…" would land

    result = resume(cli)

    assert result.code == 0, result
    assert (outside / "precious.txt").read_text() == "keep me"
    assert any("step-000000001" in w and "names another place" in w for w in warnings(result)), result


def test_manifest_naming_another_checkpoint_is_damaged(cli, tmp_path):
    root = first_run(cli, tmp_path)
    plant(root, "step-000000009", name="step-000000004", step=9)

    result = resume(cli)

    assert result.code == 0, result
    assert "resumed from step-000000004 at step 4" in result.err.replace("runs/s/checkpoints/", ""), result
    assert any("step-000000009" in w and "names another place" in w for w in warnings(result)), result


def test_manifest_listing_a_file_outside_the_checkpoint_is_damaged(cli, tmp_path):
    root = first_run(cli, tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("not a checkpoint file")
    crafted = plant(root, "step-000000009", name="step-000000009", step=9)
    files = json.loads((crafted / "MANIFEST.json").read_text())["files"]
    files["../../../../secret.txt"] = {"size": secret.stat().st_size,
                                       "sha256": hashlib.sha256(secret.read_bytes()).hexdigest()}
    (crafted / "MANIFEST.json").write_text(json.dumps({**json.loads((crafted / "MANIFEST.json").read_text()),
                                                        "files": files}))

    result = resume(cli)

    assert result.code == 0, result
    assert "checkpoints/step-000000004 at step 4" in result.err, result
    assert any("step-000000009" in w and "secret.txt" in w for w in warnings(result)), result


def test_symlinked_checkpoint_pointing_outside_is_neither_read_nor_deleted(cli, tmp_path):
    root = first_run(cli, tmp_path)
    # a complete, valid checkpoint outside the root, linked in as the newest and as an old one
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plant(root, str(elsewhere / "new"), name="step-000000009", step=9)
    plant(root, str(elsewhere / "old"), name="step-000000001", step=1)
    (root / "step-000000009").symlink_to(elsewhere / "new", target_is_directory=True)
    (root / "step-000000001").symlink_to(elsewhere / "old", target_is_directory=True)
    before = sorted(str(p.relative_to(elsewhere)) for p in elsewhere.rglob("*"))

    result = resume(cli)

    assert result.code == 0, result
    assert "checkpoints/step-000000004 at step 4" in result.err, result  # not the linked step 9
    assert sorted(str(p.relative_to(elsewhere)) for p in elsewhere.rglob("*")) == before
    assert (root / "step-000000001").is_symlink() and (root / "step-000000009").is_symlink()
    assert sorted(p.name for p in root.iterdir() if not p.is_symlink()) == ["step-000000004", "step-000000008"]


def test_checkpoints_command_skips_crafted_manifests(cli, tmp_path):
    root = first_run(cli, tmp_path)
    plant(root, "step-000000001", name="../../../../victim", step=1)

    result = cli("checkpoints", "runs/s")

    assert result.code == 0, result
    assert "step-000000004" in result.out and "victim" not in result.out, result
    assert "names another place" in result.err, result
