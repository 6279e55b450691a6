"""A local plugin with a precision mode whose dtype no CPU computes in (float8 matmuls are unsupported)."""

from __future__ import annotations

from typing import Any

import torch
from engine_precision.modes import Mode

from engine import hookimpl


class Float8True(Mode):
    name = "fp8-test"
    param_dtype = torch.float8_e4m3fn
    needs = torch.float8_e4m3fn


@hookimpl
def engine_register_components(registry: Any) -> None:
    registry.add("precision", "fp8-test", Float8True)
