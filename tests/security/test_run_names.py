"""A run name is one path segment: a hostile ``[run] name`` is a one-line spec error, never a
write outside ``run.dir``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPEC = """
[run]
name = {name}

[loop]
max_steps = 2

[backend]
use = "testing"
"""

HOSTILE = {
    "parent": '"../../escaped"',
    "absolute": '"{root}/escaped"',
    "dot": '"."',
    "dot-dot": '".."',
    "slash": '"team/escaped"',
    "backslash": '"team\\\\escaped"',
    "nul": '"esc\\u0000aped"',
    "newline": '"esc\\naped"',
    "control": '"esc\\u001baped"',
    "too-long": '"' + "x" * 256 + '"',
}


def files_under(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_run_name_is_a_spec_error_and_writes_nothing(cli, tmp_path, case, command):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    name = HOSTILE[case].replace("{root}", tmp_path.as_posix())
    (work / "spec.toml").write_text(SPEC.format(name=name))
    before = files_under(tmp_path)

    result = cli(command, str(work / "spec.toml"), *(["--quiet"] if command == "run" else []))

    assert result.code == 2, result
    assert "Traceback" not in result.err, result
    assert len(result.error_lines) == 1, result
    line = result.error_lines[0]
    assert "spec.toml:3: run.name" in line, result
    assert "one folder name" in line, result
    assert files_under(tmp_path) == before


def test_hostile_name_from_the_command_line(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(name='"ok"'))
    result = cli("run", "spec.toml", "--set", 'run.name="../escaped"', "--quiet")
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and "run.name" in result.error_lines[0], result
    assert '--set run.name="../escaped"' in result.error_lines[0], result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_a_spec_file_whose_stem_is_no_folder_name(cli, tmp_path):
    (tmp_path / "...toml").write_text(SPEC.replace("[run]\nname = {name}\n", ""))
    result = cli("run", "...toml", "--quiet")
    assert result.code == 2, result
    assert "Traceback" not in result.err, result
    assert len(result.error_lines) == 1 and "run.name" in result.error_lines[0], result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["...toml"]


@pytest.mark.parametrize("name", ["digits mlp-v1.2", "café_run", ".hidden", "x" * 255])
def test_ordinary_names_still_run(cli, tmp_path, name):
    (tmp_path / "spec.toml").write_text(SPEC.format(name=json.dumps(name)))
    result = cli("run", "spec.toml", "--quiet")
    assert result.code == 0, result
    assert json.loads((tmp_path / "runs" / name / "summary.json").read_text())["status"] == "completed"
