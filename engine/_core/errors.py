"""Errors a user can cause, each rendered as one clear line with an exit status."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class EngineError(Exception):
    """A problem the user can fix: printed as one line, no traceback.

    ``where`` names the place (file, key path, line), ``fix`` says what to do.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.fix:
            text += f" — {self.fix}"
        return text


class SpecError(EngineError):
    """The spec (file, ``--set`` override or section) is invalid.

    Holds every problem found in one pass; ``str()`` joins them one per line.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


class PluginError(EngineError):
    """A plugin failed to load, registered a clashing name, or misdeclared a hook."""


class CheckpointError(EngineError):
    """No usable checkpoint where one was required, or storage refused a write."""


class TrainingError(EngineError):
    """Training stopped on a failure (non-finite loss, a raising component)."""

    exit_code = EXIT_FAILED


class UserCodeError(EngineError):
    """User code (a factory, a model, a data function) raised.

    The user's own traceback is kept in ``user_traceback`` and shown, marked as theirs.
    """

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, user_traceback: str = "", **kwargs: str | None):
        super().__init__(message, **kwargs)
        self.user_traceback = user_traceback
