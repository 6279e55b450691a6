"""``load_model`` never imports or calls code named by the file it reads, unless the caller opts
in with ``trust_code=True``: a crafted safetensors file cannot run a command."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torchtoy
from engine_torch.export import save_model
from torch_helpers import assert_bit_identical

HERE = Path(__file__).resolve().parent


def load_in_subprocess(tmp_path: Path, call: str) -> subprocess.CompletedProcess[str]:
    """``engine_torch.load_model`` as a user's script calls it, in a fresh process."""
    script = textwrap.dedent(f"""
        import sys
        from engine._core.errors import EngineError
        from engine_torch import load_model
        try:
            model = {call}
        except EngineError as exc:
            print(f"refused: {{exc}}")
            sys.exit(2)
        print(f"loaded: {{type(model).__name__}}")
    """)
    return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(HERE)}, check=False)


def crafted_file(tmp_path: Path) -> Path:
    """Real weights whose metadata names ``subprocess:getoutput`` with a shell command."""
    marker = tmp_path / "pwned"
    return save_model(torchtoy.Tiny(), tmp_path / "crafted.safetensors", model="subprocess:getoutput",
                      model_args={"cmd": f"touch {marker}"})


def test_crafted_metadata_runs_nothing_without_trust_code(tmp_path: Path) -> None:
    path = crafted_file(tmp_path)

    result = load_in_subprocess(tmp_path, f"load_model({str(path)!r})")

    assert result.returncode == 2, result
    assert not (tmp_path / "pwned").exists()
    refused = result.stdout.strip()
    assert refused.startswith("refused:") and "'subprocess:getoutput'" in refused, result
    assert "model=" in refused and "trust_code=True" in refused, result


def test_model_argument_loads_the_weights_and_imports_nothing(tmp_path: Path) -> None:
    path = crafted_file(tmp_path)

    result = load_in_subprocess(tmp_path, f"load_model({str(path)!r}, model=__import__('torchtoy').Tiny())")

    assert result.returncode == 0 and result.stdout.strip() == "loaded: Tiny", result
    assert not (tmp_path / "pwned").exists()


def test_trust_code_rebuilds_the_model_from_its_import_path(tmp_path: Path) -> None:
    module = torchtoy.Tiny(hidden=16)
    path = save_model(module, tmp_path / "m.safetensors", model="torchtoy:Tiny", model_args={"hidden": 16})

    result = load_in_subprocess(tmp_path, f"load_model({str(path)!r}, trust_code=True)")

    assert result.returncode == 0 and result.stdout.strip() == "loaded: Tiny", result
    from engine_torch import load_model

    loaded = load_model(path, trust_code=True)
    assert_bit_identical(loaded.state_dict(), module.state_dict())
    assert not loaded.training
