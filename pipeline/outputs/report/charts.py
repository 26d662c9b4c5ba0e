"""The report's charts as PNG bytes, drawn with matplotlib's object API on the Agg canvas.

No pyplot: a `Figure` per chart, so nothing global is touched and charts can be drawn from
worker threads. Text is set in DejaVu Sans (bundled with matplotlib), which has every
Vietnamese glyph; the same font file serves the PDF (`font_path`).
"""
from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FONT_FAMILY = "DejaVu Sans"
DPI = 150
# Red to green, one colour per level of a five-level scale (ColorBrewer RdYlGn).
LEVEL_COLOURS = ("#d7191c", "#fdae61", "#e0e0a0", "#a6d96a", "#1a9641")
RATE_COLOUR = "#2b6cb0"
LABEL_WIDTH = 38  # characters per line of a question's label beside its bar


def font_path(bold: bool = False) -> Path:
    """The DejaVu Sans TTF shipped inside matplotlib (always present where matplotlib is)."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def _colours(n: int) -> tuple[str, ...]:
    if n == len(LEVEL_COLOURS):
        return LEVEL_COLOURS
    cmap = matplotlib.colormaps["RdYlGn"]
    return tuple(matplotlib.colors.to_hex(cmap(0.1 + 0.8 * i / max(n - 1, 1))) for i in range(n))


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _percent(value: float | None) -> str:
    # Vietnamese decimal comma, as in the report's tables.
    return "—" if value is None else f"{value:.1f}%".replace(".", ",")


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, LABEL_WIDTH)) or text


def distribution_chart(
    labels: list[str],
    shares: list[list[float]],
    level_labels: list[str],
    rates: list[float | None],
    title: str = "",
) -> bytes:
    """Horizontal 100 % stacked bars: one bar per question (`labels`), one segment per
    scale level (`shares[i][j]`: percent of question i's valid answers at level j), the
    satisfaction rate written at the end of each bar. Returns PNG bytes."""
    rows = len(labels)
    figure = Figure(figsize=(7.2, 1.0 + 0.6 * max(rows, 1)))
    figure.set_layout_engine("constrained")
    axes = figure.add_subplot()
    colours = _colours(len(level_labels))
    positions = list(range(rows))[::-1]  # first question on top
    lefts = [0.0] * rows
    for level, (name, colour) in enumerate(zip(level_labels, colours)):
        widths = [shares[i][level] for i in range(rows)]
        axes.barh(positions, widths, left=lefts, color=colour, label=name, height=0.62,
                  edgecolor="white", linewidth=0.5)
        lefts = [left + width for left, width in zip(lefts, widths)]
    for position, rate in zip(positions, rates):
        axes.text(101.5, position, _percent(rate), va="center", ha="left", fontsize=10,
                  fontfamily=FONT_FAMILY, fontweight="bold")
    axes.set_yticks(positions, [_wrap(label) for label in labels], fontsize=9,
                    fontfamily=FONT_FAMILY)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% câu trả lời hợp lệ (số bên phải: tỷ lệ hài lòng)", fontsize=8,
                    fontfamily=FONT_FAMILY)
    axes.tick_params(axis="x", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    if title:
        axes.set_title(title, fontsize=11, fontfamily=FONT_FAMILY, loc="left")
    axes.legend(ncols=min(len(level_labels), 5), fontsize=7, loc="upper center",
                bbox_to_anchor=(0.5, -0.18 if rows > 2 else -0.35), frameon=False,
                prop={"family": FONT_FAMILY, "size": 8})
    return _png(figure)


def rate_chart(labels: list[str], rates: list[float | None], title: str,
               highlight_last: bool = True) -> bytes:
    """Vertical bars of satisfaction rates (percent), one per criteria group, the last one
    (the overall index) in a darker colour when `highlight_last`. Returns PNG bytes."""
    figure = Figure(figsize=(7.2, 3.4))
    figure.set_layout_engine("constrained")
    axes = figure.add_subplot()
    values = [0.0 if r is None else r for r in rates]
    colours = [RATE_COLOUR] * len(values)
    if highlight_last and colours:
        colours[-1] = "#1a365d"
    bars = axes.bar(range(len(values)), values, color=colours, width=0.6)
    for bar, rate in zip(bars, rates):
        axes.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 1.5,
                  _percent(rate), ha="center", fontsize=10,
                  fontfamily=FONT_FAMILY, fontweight="bold")
    axes.set_xticks(range(len(values)), ["\n".join(textwrap.wrap(label, 16)) for label in labels],
                    fontsize=9, fontfamily=FONT_FAMILY)
    axes.set_ylim(0, 110)
    axes.set_ylabel("Tỷ lệ hài lòng (%)", fontsize=8, fontfamily=FONT_FAMILY)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_title(title, fontsize=11, fontfamily=FONT_FAMILY, loc="left")
    return _png(figure)


def ranked_chart(labels: list[str], rates: list[float | None], title: str) -> bytes:
    """Horizontal bars of satisfaction rates, one per unit, highest first (the order the
    caller gives: already ranked). Units without a rate show an empty bar and `—`."""
    height = 1.0 + 0.38 * max(len(labels), 1)
    figure = Figure(figsize=(7.2, height))
    figure.set_layout_engine("constrained")
    axes = figure.add_subplot()
    values = [0.0 if r is None else r for r in rates]
    positions = list(range(len(values)))[::-1]  # the first (best) at the top
    bars = axes.barh(positions, values, color=RATE_COLOUR, height=0.6)
    for bar, rate in zip(bars, rates, strict=True):
        axes.text(bar.get_width() + 1.0, bar.get_y() + bar.get_height() / 2, _percent(rate),
                  va="center", fontsize=8.5, fontfamily=FONT_FAMILY, fontweight="bold")
    axes.set_yticks(positions, [textwrap.shorten(label, 42, placeholder="…") for label in labels],
                    fontsize=8.5, fontfamily=FONT_FAMILY)
    axes.set_xlim(0, 112)
    axes.set_xlabel("Tỷ lệ hài lòng (%)", fontsize=8, fontfamily=FONT_FAMILY)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_title(title, fontsize=11, fontfamily=FONT_FAMILY, loc="left")
    return _png(figure)
