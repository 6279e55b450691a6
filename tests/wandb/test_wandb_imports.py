"""``engine --help`` and ``engine plugins`` must not import wandb."""

from __future__ import annotations

import subprocess
import sys


def test_cli_start_does_not_import_wandb():
    code = ("import sys, contextlib, io\n"
            "from engine._core.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    main(['plugins'])\n"
            "assert 'wandb' in out.getvalue(), out.getvalue()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('wandb', 'google', 'pydantic')))\n")
    done = subprocess.run([sys.executable, "-m", "engine", "--help"], capture_output=True, text=True, check=True)
    assert "usage" in done.stdout
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
