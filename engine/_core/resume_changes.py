"""What changed between a run's recorded spec and the spec it is resumed with, and whether
the resume may go on.

Every key path whose effective value differs is a change, in one of three classes:

- **structural**: the checkpoint cannot be loaded into what the new spec builds (another
  backend, model shape, optimizer class): the resume is refused, naming the key;
- **numerics**: the checkpoint loads, but the data order or the arithmetic differ from an
  uninterrupted run (seed, batch size, precision, accumulation): refused unless
  ``--allow-changes``;
- anything else (limits, cadences, trackers, learning rate, ...): allowed and listed.

The core knows its own keys (:data:`CORE_RULES`); a component marks its options through attrs
field metadata, so no plugin's key is named here::

    batch_size: int = attrs.field(default=32, metadata=NUMERICS)
    optimizer: dict = attrs.field(factory=dict, metadata=by_key(use=STRUCTURAL_RULE))

A component whose ``use`` changed (another scheduler, another tracker) starts fresh: its saved
state belongs to the one it replaces. Values redacted in ``spec.toml`` never count as changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from engine._core.errors import EngineError
from engine._core.spec.toml_text import REDACTED, redact

if TYPE_CHECKING:
    from engine._core.plugins import Plugins
    from engine._core.spec.model import Spec

#: The attrs metadata key holding a field's resume rule.
RESUME_RULE = "engine.resume"
STRUCTURAL_RULE = "structural"
NUMERICS_RULE = "numerics"
#: Field metadata: a change of this option cannot resume.
STRUCTURAL: dict[str, Any] = {RESUME_RULE: STRUCTURAL_RULE}
#: Field metadata: a change of this option alters the data order or numerics (``--allow-changes``).
NUMERICS: dict[str, Any] = {RESUME_RULE: NUMERICS_RULE}


def by_key(**rules: str | dict[str, Any]) -> dict[str, Any]:
    """Field metadata for a table option (``optimizer``, ``params``): a rule per key in it,
    :data:`STRUCTURAL` or :data:`NUMERICS`; ``_any`` applies to keys not named."""
    return {RESUME_RULE: {key: rule[RESUME_RULE] if isinstance(rule, dict) else rule for key, rule in rules.items()}}


#: The core's own keys. ``<kind>.use`` of other components: the component starts fresh.
CORE_RULES: dict[str, str] = {
    "run.seed": NUMERICS_RULE,
    "backend.use": STRUCTURAL_RULE,
    "precision.use": NUMERICS_RULE,
    "strategy.use": NUMERICS_RULE,
    "cv.folds": NUMERICS_RULE,  # another split of the rows
    "cv.stratified": NUMERICS_RULE,
}
#: Keys that name the run's place, not how it trains.
IGNORED = frozenset({"run.name", "run.dir"})
_ABSENT = object()


@attrs.frozen
class Change:
    key: str
    old: Any
    new: Any
    rule: str  # structural, numerics, fresh (a component replaced) or "" (listed only)

    def describe(self) -> str:
        if self.old is _ABSENT:
            return f"{self.key} = {_show(self.new)} (added)"
        if self.new is _ABSENT:
            return f"{self.key} (removed, was {_show(self.old)})"
        return f"{self.key} {_show(self.old)} -> {_show(self.new)}"


@attrs.frozen
class Changes:
    """The changes of a resume; :meth:`check` refuses what cannot resume."""

    items: list[Change]

    @property
    def fresh(self) -> list[str]:
        """Participants (component registration names) to start fresh: their ``use`` changed."""
        return [c.key.removesuffix(".use") for c in self.items if c.rule == "fresh"]

    def check(self, *, allow: bool, where: str) -> None:
        """Raise for a structural change, or a numerics one without ``allow``."""
        for change in self.items:
            if change.rule == STRUCTURAL_RULE:
                raise EngineError(f"cannot resume: {change.describe()}; the checkpoints were made for the "
                                  "previous value", where=where,
                                  fix=f"restore {change.key}, or start a new run (another run.name or --run-dir)")
        numerics = [c for c in self.items if c.rule == NUMERICS_RULE]
        if numerics and not allow:
            raise EngineError("resuming with changes to the data order or numerics: "
                              + ", ".join(c.describe() for c in numerics), where=where,
                              fix="restore them, or pass --allow-changes to resume anyway (the result "
                                  "will differ from an uninterrupted run)")

    def notice(self) -> str:
        """One line listing every change, or ``""``."""
        if not self.items:
            return ""
        return "resuming with changes: " + ", ".join(c.describe() for c in self.items)


def compare(recorded: Path, spec: Spec, plugins: Plugins) -> Changes:
    """The changes from the run directory's ``spec.toml`` (``recorded``) to ``spec``."""
    old = _recorded(recorded, spec, plugins)
    new = effective(spec)
    if old is None:  # the recorded spec no longer structures: compare the TOML as written
        old = _flatten(_read_toml(recorded))
        new = _flatten(redact(spec.raw))
    kinds = _components(spec)
    old_heads, new_heads = _heads(old), _heads(new)
    replaced = {head for head in old_heads.keys() & new_heads.keys()
                if old.get(f"{head}.use", _ABSENT) != new.get(f"{head}.use", _ABSENT)}
    items: list[Change] = []
    for head in sorted(old_heads.keys() ^ new_heads.keys()):  # a section or component added or removed
        rule = CORE_RULES.get(f"{head}.use", "")
        items.append(Change(head, old_heads.get(head, _ABSENT), new_heads.get(head, _ABSENT), rule))
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
        head = _head(key)
        if key in IGNORED or _same(before, after) or head not in old_heads or head not in new_heads:
            continue
        if head in replaced and key != f"{head}.use":
            continue  # the options of a replaced component: its replacement says it all
        if key in CORE_RULES:
            rule = CORE_RULES[key]
        elif head in replaced:
            rule = "fresh"
        else:
            rule = _field_rule(kinds.get(head), key.split(".")[1:])
        items.append(Change(key, before, after, rule))
    return Changes(items)


def effective(spec: Spec) -> dict[str, Any]:
    """Every effective value of ``spec`` by key path (defaults included, secrets redacted)."""
    from engine._core.spec.convert import converter

    unstructure = converter().unstructure
    nested: dict[str, Any] = {}
    for name in ("run", "loop", "checkpoint", "early_stop", "cv"):
        value = getattr(spec, name)
        if value is not None:
            nested[name] = unstructure(value)
    for kind, selected in spec.components.items():
        if kind == "storage" or selected is None:
            continue
        if isinstance(selected, list):
            for index, item in enumerate(selected):
                nested[f"{kind}[{index}]"] = {"use": item.name, **unstructure(item.options)}
        else:
            nested[kind] = {"use": selected.name, **unstructure(selected.options)}
    for name, section in spec.sections.items():
        nested[name] = unstructure(section)
    return _flatten(redact(nested))


def _recorded(path: Path, spec: Spec, plugins: Plugins) -> dict[str, Any] | None:
    from engine._core.spec.load import RawSpec, structure_spec

    try:
        data = _read_toml(path)
        # the recorded run.name came from the same file name when it was not written
        raw = RawSpec(data, path.read_text(encoding="utf-8"), spec.source)
        return effective(structure_spec(raw, plugins))
    except (EngineError, OSError):
        return None


def _read_toml(path: Path) -> dict[str, Any]:
    from engine._core.spec.toml_text import parse_toml

    try:
        return parse_toml(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise EngineError(f"cannot read {path}: {exc.strerror or exc}",
                          fix="restore the run directory's spec.toml, or start a new run") from None


def _head(key: str) -> str:
    return key.split(".", 1)[0]


def _heads(flat: dict[str, Any]) -> dict[str, Any]:
    """Sections and components present, each shown by its ``use`` where it has one."""
    heads: dict[str, Any] = {}
    for key in flat:
        head = _head(key)
        heads.setdefault(head, flat.get(f"{head}.use", f"[{head}]"))
    return heads


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, Mapping):  # an empty table has no keys: {} and {"a": 1} differ in "a"
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{index}]"))
    else:
        out[prefix] = value
    return out


def _components(spec: Spec) -> dict[str, type]:
    """Options class of each selected component, by its key path head (``backend``, ``tracker[0]``)."""
    out: dict[str, type] = {}
    for kind, selected in spec.components.items():
        if isinstance(selected, list):
            out.update({f"{kind}[{i}]": item.component.options for i, item in enumerate(selected)})
        elif selected is not None:
            out[kind] = selected.component.options
    return out


def _field_rule(options: type | None, parts: list[str]) -> str:
    if options is None or not parts or not attrs.has(options):
        return ""
    field = attrs.fields_dict(options).get(parts[0])
    if field is None:
        return ""
    rule = field.metadata.get(RESUME_RULE, "")
    if isinstance(rule, Mapping):
        return str(rule.get(parts[1], rule.get("_any", ""))) if len(parts) > 1 else \
            (STRUCTURAL_RULE if STRUCTURAL_RULE in rule.values() else str(rule.get("_any", "")))
    return str(rule)


def _same(old: Any, new: Any) -> bool:
    if old == new:
        return True
    return REDACTED in (old, new) or (isinstance(old, str) and REDACTED in old
                                      and isinstance(new, str) and REDACTED in new)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
