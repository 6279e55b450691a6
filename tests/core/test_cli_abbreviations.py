"""Argument parsing: no abbreviations (``--resum`` is not ``--resume``); a typo is one line
with a suggestion and exit status 2."""

from __future__ import annotations

SPEC = '[run]\nname = "s"\n[loop]\nmax_steps = 2\n[backend]\nuse = "testing"\n'


def test_an_abbreviated_option_is_a_typo_with_a_suggestion(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC)
    result = cli("run", "s.toml", "--resum")
    assert result.code == 2, result
    assert result.error_lines == [
        "engine: error: unrecognized arguments: --resum — did you mean --resume? (see engine run --help)"], result
    assert "Traceback" not in result.err
    assert not (tmp_path / "runs").exists()  # nothing trained, nothing written


def test_abbreviations_are_off_for_the_main_parser_and_every_command(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC)
    result = cli("--vers")
    assert result.code == 2 and result.error_lines == [
        "engine: error: unrecognized arguments: --vers — did you mean --version? (see engine --help)"], result
    result = cli("schema", "--out", "x.json")
    assert result.code == 2 and "did you mean --output?" in result.error_lines[0], result
    assert not (tmp_path / "x.json").exists()
    result = cli("check", "s.toml", "--se", "loop.max_steps=3")
    assert result.code == 2 and len(result.error_lines) == 1, result


def test_an_option_close_to_none_has_no_suggestion(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC)
    result = cli("run", "s.toml", "--zzzzzz")
    assert result.code == 2 and result.error_lines == [
        "engine: error: unrecognized arguments: --zzzzzz (see engine --help)"], result
