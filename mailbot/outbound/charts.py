"""The monthly report's charts as PNG bytes, drawn with matplotlib (no pyplot: no global state, any thread)."""
from __future__ import annotations

from functools import wraps
from io import BytesIO

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .formatting import thousands

# Two colours that stay apart in grey print: what came in, and what went out (or was on time).
IN, OUT, LATE = "#9db4cc", "#1f4e79", "#c0504d"
DPI = 150


STYLE = {"font.size": 8, "axes.titlesize": 8, "legend.fontsize": 8}


def _styled(draw):
    """Every chart in one small style, set for that chart only (matplotlib's settings are process-wide)."""
    @wraps(draw)
    def wrapper(*args, **kwargs):
        with rc_context(STYLE):
            return draw(*args, **kwargs)
    return wrapper


def _png(fig: Figure) -> bytes:
    out = BytesIO()
    fig.savefig(out, format="png", dpi=DPI, bbox_inches="tight")
    return out.getvalue()


def _figure(width: float, height: float) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height))
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


@_styled
def cases_per_week(weeks: list[dict]) -> bytes:
    """Grouped bars: requests received and cases delivered in each week of the month."""
    fig, ax = _figure(6.5, 2.2)
    xs = range(len(weeks))
    labels = [f"{w['from'][8:10]}–{w['to'][8:10]}" for w in weeks]
    ax.bar([x - 0.2 for x in xs], [w["opened"] for w in weeks], 0.4, label="Permintaan masuk", color=IN)
    ax.bar([x + 0.2 for x in xs], [w["delivered"] for w in weeks], 0.4, label="Terkirim", color=OUT)
    ax.set_xticks(list(xs), labels)
    ax.set_xlabel("Tanggal (minggu Senin–Minggu)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([1] + [max(w["opened"], w["delivered"]) for w in weeks]) * 1.1)
    ax.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    return _png(fig)


@_styled
def on_time(service: dict, correction: dict) -> bytes:
    """One horizontal bar per standard: the share on time, then the share late, with the counts."""
    fig, ax = _figure(6.5, 1.3)
    rows = [("Perbaikan (5 hari kerja)", correction), ("Layanan (10 hari kerja)", service)]
    for y, (_, judged) in enumerate(rows):
        total = judged["met"] + judged["missed"]
        if not total:
            ax.text(0.01, y, "tidak ada yang dinilai bulan ini", va="center", fontsize=8, color="#555555")
            continue
        met = judged["met"] / total
        ax.barh(y, met, color=OUT, height=0.55)
        ax.barh(y, 1 - met, left=met, color=LATE, height=0.55)
        ax.text(min(met, 0.98) if met else 0.01, y, f" {judged['met']} tepat / {judged['missed']} terlambat ",
                va="center", ha="right" if met > 0.5 else "left", fontsize=8,
                color="white" if met > 0.5 else "black")
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    return _png(fig)


@_styled
def revenue_by_publication(rows: list[dict], limit: int = 10) -> bytes:
    """Horizontal bars of PNBP per publication, largest on top; the rest summed in one bar."""
    paid = [r for r in rows if r["amount"] > 0]
    shown = paid[:limit]
    rest = sum(r["amount"] for r in paid[limit:])
    labels = [_short(r["judul"]) for r in shown] + ([f"{len(paid) - limit} publikasi lain"] if rest else [])
    values = [r["amount"] for r in shown] + ([rest] if rest else [])
    fig, ax = _figure(6.5, 0.45 * max(len(values), 2) + 0.8)
    ys = list(range(len(values)))[::-1]
    ax.barh(ys, values, color=OUT, height=0.6)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: thousands(int(v))))
    ax.set_xlabel("Rupiah")
    for y, v in zip(ys, values):
        ax.text(v, y, f" {thousands(v)}", va="center", fontsize=7)
    ax.margins(x=0.18)
    return _png(fig)


def _short(title: str, width: int = 45) -> str:
    return title if len(title) <= width else title[: width - 1] + "…"
