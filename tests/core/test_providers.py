"""Who provides a component, a section, a command or an option comes from each plugin's
``engine.provides`` entry points (read without importing it), never from a table in the core."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO

SPEC = '[loop]\nmax_steps = 2\n[backend]\nuse = "{backend}"\n'


def fake_distribution(root: Path, name: str, entry_points: str) -> Path:
    """An installed distribution's metadata only: its modules do not exist, so importing it would fail."""
    info = root / "site" / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    return root / "site"


def test_nproc_is_not_a_core_option_and_names_the_plugin_that_adds_it(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC.format(backend="testing"))
    assert "--nproc" not in cli("run", "--help").out
    for args in (("s.toml", "--nproc", "2"), ("--nproc=2", "s.toml")):
        result = cli("run", *args)
        assert result.code == 2 and len(result.error_lines) == 1, result
        assert result.error_lines[0] == (
            "engine: error: engine run: unrecognized option --nproc — it is provided by engine-distributed: "
            "pip install 'engine-distributed[torch]'"), result
        assert "Traceback" not in result.err
    assert not (tmp_path / "runs").exists()


def test_an_unknown_option_of_no_plugin_is_still_argparse_s_error(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC.format(backend="testing"))
    result = cli("run", "s.toml", "--bogus", "3")
    assert result.code == 2 and result.error_lines == [
        "engine: error: unrecognized arguments: --bogus 3 (see engine --help)"], result


def test_a_command_of_a_plugin_not_installed_names_it(cli):
    result = cli("tune", "s.toml")
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert "unknown command 'tune' — it is provided by engine-optuna: pip install engine-optuna" \
        in result.error_lines[0], result


def test_an_installed_plugin_that_is_not_loaded_is_named_from_its_metadata(cli, tmp_path):
    site = fake_distribution(tmp_path, "acme-trainers", (
        "[engine]\nacme = acme_trainers_missing.plugin\n\n"
        "[engine.provides]\nbackend.acme = acme_trainers_missing.backend\n"
        "option.run.gpus = acme_trainers_missing.plugin:main [cuda]\n"))
    (tmp_path / "s.toml").write_text(SPEC.format(backend="acme"))
    env = {"PYTHONPATH": f"{site}:{tmp_path}"}
    result = cli("-p", "no:acme", "run", "s.toml", env=env)
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert "unknown backend 'acme'" in result.error_lines[0], result
    assert "it is provided by acme-trainers, which is installed but not loaded (blocked with -p no:acme" \
        in result.error_lines[0], result
    result = cli("-p", "no:acme", "run", "s.toml", "--gpus", "2", env=env)
    assert result.code == 2 and "unrecognized option --gpus — it is provided by acme-trainers" \
        in result.error_lines[0], result
    assert not (tmp_path / "runs").exists()


def test_a_component_nobody_declares_follows_the_naming_convention(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC.format(backend="jax"))
    result = cli("check", "s.toml")
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert "unknown backend 'jax'" in result.error_lines[0]
    assert "by convention it would be engine-jax: pip install engine-jax" in result.error_lines[0], result
    (tmp_path / "s.toml").write_text(SPEC.format(backend="xgbost"))
    result = cli("check", "s.toml")
    assert result.code == 2 and "did you mean 'xgboost'?" in result.error_lines[0], result
    assert "pip install" not in result.err, result  # a typo is never answered with an install command


def test_the_core_code_names_no_plugin_of_this_project():
    """No string in the core's code (documentation aside) names a plugin, torchrun or --nproc."""
    import ast
    import re

    plugins = "|".join(path.name.removeprefix("engine-") for path in (REPO / "plugins").glob("engine-*"))
    named = re.compile(rf"engine[-_]({plugins})\b|torchrun|--nproc")
    found = []
    for path in (REPO / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        found += [f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docstrings and named.search(node.value)]
    assert found == []


def test_the_index_of_this_project_s_plugins_is_their_own_declarations():
    from engine._core import providers

    pyprojects = sorted((REPO / "plugins").glob("*/pyproject.toml"))
    index = providers.index_from(pyprojects)
    assert {"backend.xgboost", "section.tune", "option.run.nproc", "strategy.ddp"} <= set(index)
    installed = Path(providers.__file__).with_name(providers.INDEX_FILE)
    assert installed.exists(), f"{installed} is not installed: list it in [tool.setuptools.package-data]"
    shipped = installed.read_text()
    assert shipped == providers.dump_index(index), \
        "regenerate it: python -m engine._core.providers plugins/*/pyproject.toml"
