"""Pictures of a sweep: goodput against each swept key with a confidence band over seeds, and Mathis for loss.

The Mathis et al. model (Mathis, Semke, Mahdavi, Ott, "The Macroscopic Behavior of the TCP Congestion Avoidance
Algorithm", CCR 1997): rate = MSS / RTT * C / sqrt(p), C = sqrt(3/2) for an ACK per segment. It assumes
congestion avoidance only (no timeouts, no slow start), so it holds for small p and long transfers; at high loss
timeouts dominate and it overestimates (Padhye et al. 1998).
"""

from __future__ import annotations

import math
from typing import Any

from layersim.sweep.cell import MEASURES

__all__ = ["MATHIS_C", "grid_columns", "mathis_mbps", "mathis_table", "plot_sweep"]

MATHIS_C = math.sqrt(3 / 2)
# Student's t, two-sided 95 %, for 1..30 degrees of freedom; 1.96 beyond
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def mathis_mbps(mss_bytes: float, rtt_s: float, loss: float) -> float:
    """The Mathis model's rate in Mbit/s for segment size, round-trip time and loss probability."""
    return mss_bytes * 8 / rtt_s * MATHIS_C / math.sqrt(loss) / 1e6


def grid_columns(frame: Any) -> list[str]:
    """The table's parameter columns (those before the measures)."""
    return [c for c in frame.columns if c not in MEASURES]


def _summary(frame: Any, by: list[str]) -> Any:
    """Mean goodput over seeds per grid point, with the 95 % confidence half-width and the mean RTT and MSS."""
    ok = frame[frame["error"].isna()]
    groups = ok.groupby(by, sort=True, dropna=False)
    out = groups.agg(goodput=("goodput_mbps", "mean"), sd=("goodput_mbps", "std"), n=("goodput_mbps", "count"),
                     rtt_ms=("rtt_mean_ms", "mean"), mss=("mss", "max")).reset_index()
    t = out["n"].map(lambda n: _T95[n - 2] if 2 <= n <= 31 else 1.96)
    out["half"] = (t * out["sd"] / out["n"].pow(0.5)).fillna(0.0)
    return out


def mathis_table(frame: Any, loss: str) -> Any:
    """Per grid point of a loss sweep: mean goodput, the Mathis rate for its measured RTT and MSS, and the ratio."""
    out = _summary(frame, grid_columns(frame))
    out["mathis"] = [mathis_mbps(m, r / 1e3, p) if m == m and r == r and p > 0 else math.nan
                     for m, r, p in zip(out["mss"], out["rtt_ms"], out[loss], strict=True)]
    out["ratio"] = out["goodput"] / out["mathis"]
    return out


def plot_sweep(frame: Any, fig: Any = None) -> Any:
    """One panel per swept numeric key: mean goodput over seeds against it, a 95 % band, one line per combination
    of the other swept keys;
    a key ending in `.loss` gets the Mathis model (dashed, same colour) and log axes. Returns the figure."""
    import matplotlib.pyplot as plt
    from pandas.api.types import is_numeric_dtype

    columns = grid_columns(frame)
    swept = [c for c in columns if frame[c].nunique() > 1] or columns[:1]
    # a panel per numeric key; a key of names ("cubic") or of durations as text ("9ms") is a line per value instead
    panels = [c for c in swept if is_numeric_dtype(frame[c])] or swept[:1]
    if fig is None:
        fig = plt.figure(figsize=(7.2 * len(panels), 4.8), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, key in zip(axes, panels, strict=True):
        others = [c for c in swept if c != key]
        summary = _summary(frame, [*others, key])
        lines = summary.groupby(others, sort=True) if others else [((), summary)]
        loss = key.endswith("loss")
        for label, line in lines:
            label = label if isinstance(label, tuple) else (label,)
            name = ", ".join(f"{k}={v}" for k, v in zip(others, label, strict=True)) or "goodput"
            x = line[key].to_numpy()
            (drawn,) = ax.plot(x, line["goodput"], marker="o", label=name)
            ax.fill_between(x, line["goodput"] - line["half"], line["goodput"] + line["half"],
                            color=drawn.get_color(), alpha=0.2, linewidth=0)
            if loss:
                model = [mathis_mbps(m, r / 1e3, p) if p > 0 and m == m and r == r else math.nan
                         for m, r, p in zip(line["mss"], line["rtt_ms"], x, strict=True)]
                ax.plot(x, model, linestyle="--", color=drawn.get_color(), label=f"Mathis, {name}")
        if loss:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(key)
        ax.set_ylabel("goodput (Mbit/s), mean and 95% band over seeds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    return fig
