"""The scale curve's figures (bench/scale_curve.py): a size's measurements, the Markdown
table in bench/SCALE.md and the plot bench/scale_curve.png."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from scale_world import OPS

OUT_MD = ROOT / "bench" / "SCALE.md"
OUT_PNG = ROOT / "bench" / "scale_curve.png"
PG_PORT = os.environ.get("DATAVAULT_PG_PORT", "55441")


@dataclass
class Step:
    size: int  # records in the database when measured
    subjects: int
    build_seconds: float  # growing to this size (filler insert + VACUUM ANALYZE)
    ms: dict[str, float] = field(default_factory=dict)
    db_bytes: int = 0


def markdown(args: argparse.Namespace, steps: list[Step], note: str, load: str, wall: float) -> str:
    command = (
        f"`DATAVAULT_PG_PORT={PG_PORT} .venv/bin/python bench/scale_curve.py --sizes {args.sizes} "
        f"--repeat {args.repeat} --per-subject {args.per_subject} --budget {args.budget:g}`"
    )
    lines = [
        f"{command}: PostgreSQL (scripts/postgres.sh: fsync off, default shared_buffers), the API "
        f"in-process over ASGI on the in-process chain, one process; median of {args.repeat} requests per "
        f"operation and size, after two untimed rounds ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {load} at the end; {wall / 60:.0f} min in all).",
        "",
        "Median ms per operation: "
        + "; ".join(f"**{k}**: {d}" for k, d in OPS)
        + ". *Built in*: the wall time to grow from the size before (filler insert, then VACUUM ANALYZE).",
        "",
        "| records | subjects | built in | database | " + " | ".join(k for k, _ in OPS) + " |",
        "| ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in OPS) + " |",
    ]
    for s in steps:
        cells = " | ".join(f"{s.ms[k]:.1f}" for k, _ in OPS)
        lines.append(
            f"| {s.size:,} | {s.subjects:,} | {s.build_seconds:.0f} s | {s.db_bytes / 2**30:.2f} GiB | {cells} |"
        )
    if note:
        lines += ["", f"Stopped: {note}."]
    return "\n".join(lines) + "\n"


def plot(steps: list[Step], note: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=90)
    xs = [s.size for s in steps]
    for key, label in OPS:
        ax.plot(xs, [s.ms[key] for s in steps], marker="o", label=label.replace("`", ""))
    ax.set_xscale("log")
    ax.set_xlabel("records in the database (PostgreSQL)")
    ax.set_ylabel("median ms per operation")
    ax.set_ylim(bottom=0)
    ax.set_title("Per-operation cost as the vault grows" + (" (stopped early)" if note else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(OUT_PNG, pil_kwargs={"optimize": True})
    plt.close(fig)


def write(args: argparse.Namespace, steps: list[Step], note: str, started: float, *, show: bool) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    text = markdown(args, steps, note, load, time.perf_counter() - started)
    if show:
        print(text)
    if not args.no_write and steps:
        doc = OUT_MD.read_text(encoding="utf-8") if OUT_MD.exists() else ""
        begin, end = "<!-- scale_curve.py: begin -->", "<!-- scale_curve.py: end -->"
        if begin in doc:
            head, _, rest = doc.partition(begin)
            _, _, tail = rest.partition(end)
            OUT_MD.write_text(f"{head}{begin}\n{text}{end}{tail}", encoding="utf-8")
        else:
            OUT_MD.write_text(f"# Scale curve\n\n{begin}\n{text}{end}\n", encoding="utf-8")
        plot(steps, note)
