"""Resuming a torch run with a changed spec: another optimizer class or model shape is
refused in one line naming the key (it was ``KeyError: 'momentum'``), a batch size needs
``--allow-changes``, a learning rate is listed and resumes."""

from __future__ import annotations

from pathlib import Path

from torch_helpers import base_spec, engine, toml_spec


def test_changes_that_cannot_resume_or_alter_the_numerics_are_named(tmp_path: Path) -> None:
    spec = base_spec()
    spec["loop"]["max_epochs"] = 1
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    assert engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=tmp_path).returncode == 0

    def resume(*settings: str, allow: bool = False):  # type: ignore[no-untyped-def]
        extra = [arg for setting in settings for arg in ("--set", setting)]
        return engine("run", "spec.toml", "--run-dir", "run", "--resume", "-q", "--set", "loop.max_epochs=2",
                      *extra, *(["--allow-changes"] if allow else []), cwd=tmp_path)

    for setting, shown in [('backend.optimizer={use="sgd", lr=0.01}', "backend.optimizer.use 'adamw' -> 'sgd'"),
                           ("backend.model_args.hidden=7", "backend.model_args.hidden")]:
        refused = resume(setting, allow=True)
        assert refused.returncode == 2, refused.stderr
        errors = [line for line in refused.stderr.splitlines() if line.startswith("engine: error:")]
        assert len(errors) == 1 and "cannot resume" in errors[0] and shown in errors[0], refused.stderr
        assert "Traceback" not in refused.stderr and "KeyError" not in refused.stderr

    numerics = resume("backend.batch_size=8")
    assert numerics.returncode == 2 and "--allow-changes" in numerics.stderr, numerics.stderr
    assert "backend.batch_size 16 -> 8" in numerics.stderr

    listed = resume("backend.optimizer.lr=0.02")
    assert listed.returncode == 0, listed.stderr
    assert "resuming with changes: backend.optimizer.lr 0.01 -> 0.02, loop.max_epochs 1 -> 2" in listed.stderr
