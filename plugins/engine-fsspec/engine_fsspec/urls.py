"""Storage URLs as strings — never through ``pathlib``, which turns ``gs://b`` into ``gs:/b``."""

from __future__ import annotations

import importlib.util
import re

#: User-info runs to the last ``@``: a password may hold ``/``, ``@`` or ``:``.
_USERINFO = re.compile(r"(://)\S*@")
#: fsspec protocol -> the extra of engine-fsspec that installs its filesystem.
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure",
          "abfss": "azure", "adl": "azure"}


def public(url: str) -> str:
    """``url`` without credentials (``user:secret@``) or a trailing slash: safe for logs."""
    return _USERINFO.sub(r"\1", url).rstrip("/")


def join(base: str, *parts: str) -> str:
    """``base/part/...`` with single slashes, keeping ``scheme://`` intact."""
    return "/".join([base.rstrip("/"), *(part.strip("/") for part in parts)])


def protocols(url: str) -> list[str]:
    """The protocols of a (possibly chained, ``simplecache::s3://...``) URL."""
    return [part.split("://", 1)[0] if "://" in part else "file" for part in url.split("::")]


def url_problem(url: str) -> str | None:
    """Why fsspec cannot serve ``url`` (one line with the fix), or ``None`` if it can."""
    import fsspec
    from fsspec.registry import known_implementations, registry

    if "://" not in url:
        return f"{url!r} is not a URL — write it as PROTOCOL://BUCKET/PREFIX, e.g. s3://my-bucket/runs"
    available = set(fsspec.available_protocols())
    for protocol in protocols(url):
        if protocol not in available:
            return (f"fsspec has no filesystem for {protocol}:// in {public(url)!r} — use one of "
                    "s3://, gs://, az://, memory://, local:// (or install the fsspec package for it)")
        if protocol in registry:
            continue
        module = str(known_implementations[protocol]["class"]).split(".", 1)[0]
        if importlib.util.find_spec(module) is None:
            extra = EXTRAS.get(protocol)
            fix = f"pip install 'engine-fsspec[{extra}]'" if extra else f"pip install {module}"
            return f"{protocol}:// URLs need {module}, which is not installed — {fix}"
    path = url.rsplit("://", 1)[1].strip("/")
    if not path and protocols(url)[-1] not in ("memory", "file", "local"):
        return f"{public(url)!r} names no bucket or folder — write it as {protocols(url)[-1]}://BUCKET/PREFIX"
    return None
