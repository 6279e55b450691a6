"""``python -m engine`` is the ``engine`` command (also what torchrun launches)."""

from engine._core.cli.main import console_script

if __name__ == "__main__":
    console_script()
