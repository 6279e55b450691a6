"""A section no installed plugin provides names who would: a known plugin's install command
(``[tune]``), else the ``engine-<section>`` convention (``[throughput]``); a typo only the
section it is close to."""

from __future__ import annotations

import pytest

SPEC = '[loop]\nmax_steps = 2\n[backend]\nuse = "testing"\n\n[{section}]\n{body}\n'


@pytest.mark.parametrize(("section", "body", "hint"), [
    ("throughput", "every = 16", "throughput: unknown section — no known plugin provides it; by convention it "
                                 "would be engine-throughput: pip install engine-throughput; valid sections: "),
    ("tune", "n_trials = 3", "tune: unknown section — it is provided by engine-optuna"),
])
def test_a_plugin_section_names_the_plugin_to_install(cli, tmp_path, section, body, hint):
    (tmp_path / "s.toml").write_text(SPEC.format(section=section, body=body))
    for command in ("check", "run"):
        result = cli(command, "s.toml", "-p", f"no:{section}", "-p", "no:optuna")
        assert result.code == 2 and len(result.error_lines) == 1, result
        assert f"engine: error: s.toml:6: {hint}" in result.error_lines[0], result
    assert not (tmp_path / "runs").exists()


def test_a_typo_of_a_section_is_never_answered_with_pip_install(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC.format(section="tun", body="n_trials = 3"))
    result = cli("check", "s.toml", "-p", "no:optuna")
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert "pip install" not in result.err and "unknown section" in result.err, result
