"""Redaction: the one place that decides what a secret is and hides it wherever a value leaves.

A value is secret when its key names a secret (:data:`SECRET_WORDS`, matched case-insensitively
at any depth of the spec, whatever the value's type: a number, a list or a whole table under
such a key is hidden whole), and a URL's user-info (``scheme://user:password@host``, any
characters in it) is secret wherever it appears.

Structured data (the recorded ``spec.toml``, trackers' params, tags and hparams) goes through
:func:`redact`. Free text (log lines, warnings, errors, tracebacks, exception messages from
libraries, the recorded command line) goes through :func:`redact_text`, which also hides every
secret value seen in a spec of this process (:func:`remember`, called when a spec is loaded),
so a library that echoes a password or token in its own words does not leak it either.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

REDACTED = "***"

#: A key is secret when one of its words (split at ``_``, ``-``, ``.``, spaces and camelCase,
#: lower-cased) is one of these: ``db_password``, ``Authorization``, ``x-api-key`` ...
SECRET_WORDS = frozenset({
    "password", "passwd", "pass", "pwd", "passphrase", "secret", "secrets", "token", "auth",
    "authorization", "bearer", "credential", "credentials", "creds", "sas", "private", "cookie",
    "cookies", "apikey", "dsn",
})
#: ... or its last word is one of these (``access_key``, ``api_key``, ``request_signature``; not
#: ``keep_last``, ``key_column`` or ``signature_version``) ...
SECRET_LAST_WORDS = frozenset({"key", "signature", "sig"})
#: ... or its words run together contain one of these (``SessionToken``, ``aws_access_key_id``).
SECRET_FRAGMENTS = ("password", "passwd", "passphrase", "secret", "credential", "apikey", "accesskey",
                    "privatekey", "accountkey", "secretkey", "authtoken", "accesstoken", "sessiontoken",
                    "refreshtoken", "bearer", "authorization", "cookie", "connectionstring", "sastoken")

#: Secrets shorter than this are hidden in structured data but not searched for in free text.
MIN_TEXT_SECRET = 4

_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*://"
#: User-info of a URL inside free text: up to the last ``@`` before whitespace or a quote.
_TEXT_USERINFO = re.compile(rf"({_SCHEME})[^\s'\"<>`]*@")
#: A string that is a URL: its user-info runs to the last ``@`` before any whitespace (a
#: password may hold ``/ @ : ' "``).
_URL_VALUE = re.compile(rf"^(\s*{_SCHEME})(\S*)@")

_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None


def key_words(key: str) -> list[str]:
    """``"aws_secretAccessKey"`` -> ``["aws", "secret", "access", "key"]``."""
    return [word for word in _WORD_SPLIT.split(_CAMEL.sub(r"\1_\2", str(key)).lower()) if word]


def is_secret_key(key: str) -> bool:
    """Whether values under ``key`` are secret (see :data:`SECRET_WORDS`)."""
    words = key_words(key)
    if not words:
        return False
    if words[-1] in SECRET_LAST_WORDS or any(word in SECRET_WORDS for word in words):
        return True
    joined = "".join(words)
    return any(fragment in joined for fragment in SECRET_FRAGMENTS)


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` (TOML-like data) with secrets replaced by ``***``.

    Everything under a secret key is replaced whole, whatever its type; strings elsewhere lose
    URL user-info and any secret value remembered from the spec.
    """
    if key and is_secret_key(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(redact_url(value))
    return value


def redact_url(value: str) -> str:
    """``value`` with the user-info of a URL it starts with replaced by ``***``."""
    match = _URL_VALUE.match(value)
    if match is None:
        return value
    return f"{match.group(1)}{REDACTED}@{value[match.end():]}"


def redact_text(text: str) -> str:
    """Free text with every remembered secret value and every URL's user-info replaced by ``***``."""
    if not text:
        return text
    if _known_pattern is not None:
        text = _known_pattern.sub(REDACTED, text)
    if "@" in text and "://" in text:
        text = _TEXT_USERINFO.sub(rf"\1{REDACTED}@", text)
    return text


def redact_argv(argv: Iterable[str]) -> list[str]:
    """A command line with ``--set a.secret=...`` (also ``--set=...``) values and every secret hidden."""
    out = []
    for arg in argv:
        assignment = arg.split("=", 1)[1] if arg.startswith("--set=") else arg
        path, sep, _ = assignment.partition("=")
        if sep and not path.startswith("-") and is_secret_key(_last_key(path)):
            out.append(f"{arg[: len(arg) - len(assignment)]}{path}={REDACTED}")
        else:
            out.append(redact_text(arg))
    return out


def _last_key(path: str) -> str:
    return re.split(r"[.\[\]]", path.strip().rstrip("]"))[-1].strip("\"' ")


# ---------------------------------------------------------------------- remembered secrets

def remember(data: Any, key: str = "") -> None:
    """Remember the secret values in ``data`` (a spec), so :func:`redact_text` hides them anywhere."""
    found: list[str] = []
    _collect(data, bool(key and is_secret_key(key)), found)
    _add(found)


def remember_overrides(overrides: Iterable[str]) -> None:
    """Remember the values of ``--set`` assignments to secret keys, before they are parsed."""
    found = []
    for override in overrides:
        path, sep, value = override.partition("=")
        if sep and is_secret_key(_last_key(path)):
            found.append(value.strip())
            found.append(value.strip().strip("\"'"))
    _add(found)


def _collect(value: Any, secret: bool, found: list[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _collect(v, secret or is_secret_key(str(k)), found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, secret, found)
    elif isinstance(value, bool) or value is None:
        return
    elif secret:
        found.append(str(value))
    elif isinstance(value, str):
        found.extend(_userinfo_secrets(value))


def _userinfo_secrets(text: str) -> list[str]:
    """The user-info of URLs in ``text``, its password, and the password's pieces between
    ``/``, ``@`` and ``:`` (a library that misreads such a URL quotes a piece)."""
    out = []
    match = _URL_VALUE.match(text)
    infos = [match.group(2)] if match else []
    infos += [m.group(0)[len(m.group(1)):-1] for m in _TEXT_USERINFO.finditer(text)]
    for info in infos:
        out.append(info)
        if ":" in info:
            password = info.split(":", 1)[1]
            out.append(password)
            out.extend(re.split(r"[/@:]", password))
    return out


def _add(values: Iterable[str]) -> None:
    global _known_pattern
    before = len(_known)
    for value in values:
        for variant in (value, unquote(value), quote(value, safe=""), quote(value),
                        json.dumps(value)[1:-1], repr(value)[1:-1]):
            if len(variant) >= MIN_TEXT_SECRET and variant != REDACTED:
                _known.add(variant)
    if len(_known) != before:
        ordered = sorted(_known, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(value) for value in ordered))


def forget() -> None:
    """Forget every remembered secret (for tests running several specs in one process)."""
    global _known_pattern
    _known.clear()
    _known_pattern = None


# ---------------------------------------------------------------------- process output

class _RedactingStream:
    """A text stream that hides secrets in what is written and passes everything else to ``inner``."""

    def __init__(self, inner: Any):
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(redact_text(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def redact_process_output() -> None:
    """Hide secrets in everything this process writes to stdout, stderr and the logging system.

    The command line calls this once: library warnings, log records and tracebacks (from
    MLflow, boto, urllib3 ...) then pass through :func:`redact_text` like engine's own lines.
    """
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _RedactingStream):
            setattr(sys, name, _RedactingStream(stream))
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacting", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would
            return record
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return record

    redacting_factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
