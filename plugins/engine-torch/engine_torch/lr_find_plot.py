"""The range test as a PNG: loss against learning rate, the suggestion marked (matplotlib, Agg)."""

from __future__ import annotations

import math
from pathlib import Path

from engine_torch.lr_find import RangeTest

INSTALL = "pip install matplotlib"


def matplotlib_missing() -> bool:
    """Whether matplotlib cannot be imported (then no plot is written)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return True
    return False


def draw(result: RangeTest, output: Path, title: str) -> None:
    """Raw and smoothed loss against the learning rate (log scale), the lowest smoothed loss
    and the suggested rate marked; written to ``output``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(result.lrs, result.losses, color="C0", alpha=0.3, linewidth=1, label="loss")
    ax.plot(result.lrs, result.smoothed, color="C0", linewidth=2, label="smoothed loss")
    lowest = result.lowest
    ax.plot([result.lrs[lowest]], [result.smoothed[lowest]], "o", color="C1",
            label=f"lowest smoothed loss (lr {result.lrs[lowest]:.2g})")
    ax.axvline(result.suggestion, color="C3", linestyle="--", label=f"suggested lr {result.suggestion:.2g}")
    ax.set_xscale("log")
    smoothed = [value for value in result.smoothed if math.isfinite(value)]
    if smoothed:  # from the lowest loss to a little above the first: the divergence would flatten the rest
        low = min(value for value in [*smoothed, *result.losses] if math.isfinite(value))
        high = max(smoothed[0], min(smoothed))
        high += 0.25 * (high - low) + 1e-12
        ax.set_ylim(low - 0.05 * (high - low), high)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=100)
    plt.close(figure)
