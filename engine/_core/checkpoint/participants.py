"""The key each checkpoint participant's state is stored under, and which states a resume needs.

A participant is anything registered for a run (a component, a per-run plugin) with
``state_dict()`` and ``load_state_dict(state)``, plus the loop's own state. Its state is
stored under its ``state_key`` when it declares one (a class attribute or a property, a
non-empty string), else under its registration name (``backend``, ``tracker[0]``,
``run:early-stop``): that default is the key every checkpoint written before ``state_key``
existed uses, so those checkpoints still load. Declare a ``state_key`` to keep your state
loadable when the name you are registered under may change (a tracker moved in the
``[[tracker]]`` list, a per-run plugin renamed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine._core.checkpoint.state import file_stem
from engine._core.errors import PluginError

#: Registration names whose state a resume cannot go on without: the loop's (the run's step,
#: epoch and data position) and the backend's (model and optimizer). Any other participant
#: the checkpoint holds nothing for starts fresh, with a notice naming it.
REQUIRED = ("loop", "backend")
#: The file stem the manager keeps the list of saved keys under.
RESERVED = "_participants"


def state_key(name: str, participant: Any) -> str:
    """``participant.state_key`` if it declares one, else its registration ``name``."""
    key = getattr(participant, "state_key", None)
    if key is None:
        return name
    if not isinstance(key, str) or not key.strip() or file_stem(key) == RESERVED:
        raise PluginError(f"{name}: state_key must be a non-empty string other than {RESERVED!r}, got {key!r}",
                          fix="declare state_key = 'a-stable-name' on the class, or leave it out")
    return key


def by_state_key(participants: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """``state key -> (registration name, participant)``.

    Two participants whose keys are equal, or would be stored in the same files, are one
    :class:`PluginError` naming both: their states would overwrite each other.
    """
    keyed: dict[str, tuple[str, Any]] = {}
    stems: dict[str, str] = {}
    for name, participant in participants.items():
        key = state_key(name, participant)
        other = keyed[key][0] if key in keyed else stems.get(file_stem(key))
        if other is not None:
            raise PluginError(
                f"{other} and {name} both keep their checkpoint state under state_key "
                f"{key!r}: each would overwrite the other's",
                fix="give one of them another state_key")
        keyed[key] = (name, participant)
        stems[file_stem(key)] = name
    return keyed


def describe(name: str, key: str) -> str:
    """``tracker[0]``, or ``tracker[0] (state_key 'tb')`` when the key is not the name."""
    return name if key == name else f"{name} (state_key {key!r})"
