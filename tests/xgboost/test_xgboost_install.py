"""Installing engine-xgboost installs XGBoost, and an XGBoost that cannot be imported is named
by ``engine check`` and ``engine run`` in one line with the command that reinstalls it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from engine_tabular.testing import write_breast_cancer

from engine.session import dump_toml
from engine.testing import cli

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "engine-xgboost"


def test_the_default_install_depends_on_xgboost() -> None:
    dependencies = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.split(">")[0].split("=")[0].strip() == "xgboost" and ";" not in d for d in dependencies), dependencies


def test_an_xgboost_that_fails_to_import_is_one_line_with_the_pip_command(tmp_path: Path) -> None:
    shim = tmp_path / "shim" / "xgboost"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text('raise ImportError("libxgboost.so: cannot open shared object file")\n')
    work = tmp_path / "work"
    work.mkdir()
    train, _ = write_breast_cancer(work)
    spec = {"loop": {"max_steps": 2}, "backend": {"use": "xgboost", "data": {"train": train.name}}}
    (work / "spec.toml").write_text(dump_toml(spec))
    for command in (["check", "spec.toml"], ["run", "spec.toml", "--run-dir", "run"]):
        result = cli(*command, cwd=work, env={"PYTHONPATH": str(tmp_path / "shim")})
        assert result.code == 2 and "Traceback" not in result.err, result
        assert len(result.error_lines) == 1 and len(result.err.strip().splitlines()) == 1, result
        line = result.error_lines[0]
        assert "backend 'xgboost' cannot import 'xgboost'" in line and "libxgboost.so" in line, line
        assert "pip install xgboost" in line, line
    assert sorted(p.name for p in work.iterdir()) == ["spec.toml", "train.csv", "valid.csv"]
