"""Draw a label's precision-recall curve as an SVG image, on the server, with matplotlib.

The image is a data: URI for an <img>, which the page's Content Security Policy allows; it
carries no script. matplotlib is imported on first use, so a worker that never draws a chart
never loads it.
"""

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

from analyzer.calibration import PrecisionRecall


@dataclass(frozen=True)
class Marker:
    name: str
    point: PrecisionRecall
    color: str


def pr_curve_svg(
    *, label: str, curve: Sequence[PrecisionRecall], markers: Sequence[Marker]
) -> bytes:
    """Return the SVG of recall against precision, with the named thresholds marked."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # Text stays text (smaller files, readable by screen readers and tests).
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": label}):
        figure = Figure(figsize=(4.2, 3.2), layout="constrained")
        axes = figure.subplots()
        recalls = [point.recall or 0.0 for point in curve]
        precisions = [point.precision or 0.0 for point in curve]
        axes.plot(recalls, precisions, color="#1f5fa8", linewidth=1.5, drawstyle="steps-post")
        for marker in markers:
            if marker.point.precision is None or marker.point.recall is None:
                continue
            axes.plot(
                [marker.point.recall],
                [marker.point.precision],
                marker="o",
                markersize=7,
                linestyle="none",
                color=marker.color,
                label=f"{marker.name} ({marker.point.threshold:.0%})",
            )
        axes.set(
            xlim=(0, 1.02),
            ylim=(0, 1.02),
            xlabel="Recall",
            ylabel="Precision",
            title=f"{label}: precision against recall",
        )
        axes.grid(True, color="#d5dbe0", linewidth=0.5)
        if markers:
            axes.legend(loc="lower left", fontsize="small")
        svg = io.BytesIO()
        figure.savefig(svg, format="svg", metadata={"Date": None})
    return svg.getvalue()


def data_uri(svg: bytes) -> str:
    """Return the SVG as a data: URI for an <img> element."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
