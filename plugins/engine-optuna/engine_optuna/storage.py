"""Where a study lives: the default in the run directory, RDB URLs and journal files."""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine import EngineError, redact_url

DB_FILE = "study.db"
JOURNAL_FILE = "study.journal"
#: What opening an RDB storage imports: SQLAlchemy and Optuna's tables, Alembic's schema check.
PRELOADED = ("engine_optuna.rdb_storage", "alembic.migration", "alembic.script")


def default_storage(tune_dir: Path) -> str:
    """SQLite in the run directory, in write-ahead-log mode (:func:`write_ahead`), for one
    worker or several on this machine.

    A study started in a journal file (the default for several workers before write-ahead
    logging) keeps it.
    """
    db, journal = tune_dir / DB_FILE, tune_dir / JOURNAL_FILE
    if journal.exists() and not db.exists():
        return str(journal.resolve())
    return f"sqlite:///{db.resolve()}"


def is_rdb(url: str) -> bool:
    return "://" in url


def preload_storage(url: str | None) -> None:
    """Import what opening ``url`` needs (``None``: the default, SQLite): SQLAlchemy, Optuna's
    tables and Alembic's schema check, some 0.4 s. A worker does this while the command opens
    the study, instead of after it."""
    if url is not None and not is_rdb(url):
        return
    for module in PRELOADED:
        with contextlib.suppress(ImportError):  # opening the storage says what is missing
            importlib.import_module(module)


def open_storage(url: str, *, heartbeat: int, retries: int) -> Any:
    """An Optuna storage; RDB storages record heartbeats so a killed worker's trial ends FAIL."""
    import optuna

    if not is_rdb(url):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        Path(url).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(url))
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=retries) if retries else None
    kwargs: dict[str, Any] = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    try:
        from engine_optuna.rdb_storage import EngineRDBStorage

        storage = _create_rdb(lambda: EngineRDBStorage(
            url, engine_kwargs=kwargs, heartbeat_interval=heartbeat, heartbeat_stale_trial_callback=retry))
    except ModuleNotFoundError as exc:
        raise EngineError(f"the storage {redact_url(url)} needs the Python module {exc.name!r}",
                          where="--storage / tune.storage",
                          fix="pip install 'engine-optuna[postgres]' for PostgreSQL") from None
    except Exception as exc:
        raise EngineError(f"cannot open the storage {redact_url(url)}: {_first_line(exc)}",
                          where="--storage / tune.storage",
                          fix="check the URL, that the server is up and the database exists") from None
    if url.startswith("sqlite"):
        write_ahead(storage.engine)
    return storage


def write_ahead(engine: Any) -> None:
    """Put a SQLite study in write-ahead-log mode with ``synchronous = NORMAL``.

    In SQLite's default mode every commit waits for the disk (an fsync: 9 ms here), and a trial
    commits a dozen times (its parameters, attributes, every intermediate value for the pruner),
    so storage, not training, bounded short trials and made pruning cost more than it saved. In
    WAL mode a commit is an append, readers never block the writer, and several workers on one
    machine share the file without "database is locked". A killed process loses nothing; a
    power cut may lose the last commits (a trial then runs again). The mode stays with the file.
    """
    from sqlalchemy import event

    def pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections opened while the tables were made reconnect with the pragmas


def _create_rdb(create: Callable[[], Any], attempts: int = 5) -> Any:
    """Open an RDB storage, retrying when another worker is creating the same schema right now.

    Two workers starting together on an empty database both run Optuna's ``CREATE TABLE`` /
    ``CREATE TYPE``; the loser gets a unique-violation error although the schema is then fine.
    """
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(attempts):
        try:
            return create()
        except (IntegrityError, ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
