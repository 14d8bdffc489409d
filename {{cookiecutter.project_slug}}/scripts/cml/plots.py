"""Per-label plots of the last `dvc repro` as small SVG files (no plotting library needed):
the test precision-recall curve and the training curves (loss on train and val per epoch).
Writes them into the folder given as argument and prints the markdown that shows them, with
absolute paths, which `cml comment` uploads."""

import csv
import json
import sys
from pathlib import Path

import yaml

WIDTH, HEIGHT, MARGIN = 360, 240, 40
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


def svg(title: str, x_label: str, y_label: str, series: dict[str, list[tuple[float, float]]]) -> str:
    """A line chart of each series, axes scaled to the data (y from 0)."""
    points = [point for line in series.values() for point in line] or [(0.0, 0.0)]
    x_min, x_max = min(x for x, _ in points), max(x for x, _ in points)
    y_max = max(max(y for _, y in points), 1e-9)
    x_span = (x_max - x_min) or 1.0

    def scale(x: float, y: float) -> str:
        sx = MARGIN + (x - x_min) / x_span * (WIDTH - 2 * MARGIN)
        sy = HEIGHT - MARGIN - y / y_max * (HEIGHT - 2 * MARGIN)
        return f"{sx:.1f},{sy:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
        'font-size="11"><rect width="100%" height="100%" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>',
        f'<polyline points="{MARGIN},{MARGIN} {MARGIN},{HEIGHT - MARGIN} {WIDTH - MARGIN},{HEIGHT - MARGIN}" '
        'fill="none" stroke="black"/>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(x_label)}: {x_min:g} to {x_max:g}</text>',
        f'<text x="12" y="{HEIGHT / 2}" transform="rotate(-90 12 {HEIGHT / 2})" text-anchor="middle">'
        f"{escape(y_label)}: 0 to {y_max:.2g}</text>",
    ]
    for index, (name, line) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        coordinates = " ".join(scale(x, y) for x, y in sorted(line))
        parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{WIDTH - MARGIN}" y="{MARGIN + 14 * index}" text-anchor="end" fill="{colour}">'
                     f"{escape(name)}</text>")  # fmt: skip
    return "\n".join(parts + ["</svg>"]) + "\n"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def loss_curves(folder: Path) -> dict[str, list[tuple[float, float]]]:
    """dvclive's loss curves under a label's training logs (`.../loss.tsv`, `.../val_loss.tsv`,
    whatever the layout), each by its file's path: columns `step` and the value."""
    curves = {}
    for path in sorted(folder.rglob("*loss.tsv")):
        with path.open() as file:
            rows = list(csv.DictReader(file, delimiter="\t"))
        value = next((key for key in rows[0] if key != "step"), None) if rows else None
        if value:
            name = str(path.relative_to(folder).with_suffix("")).replace("plots/metrics/", "")
            curves[name] = [(float(row["step"]), float(row[value])) for row in rows]
    return curves


def main(out: Path) -> None:
    config = yaml.safe_load(Path("config.yaml").read_text(encoding="utf-8"))
    paths = config["paths"]
    out.mkdir(parents=True, exist_ok=True)
    for slug, label in config["labels"].items():
        print(f"### {label['name']}\n")
        pr_file = Path(paths["plots"], "precision_recall", f"{slug}.json")
        charts = {
            "precision_recall": (
                "Precision-recall (test)", "recall", "precision",
                {"classifier": [(p["recall"], p["precision"]) for p in json.loads(pr_file.read_text())]}
                if pr_file.exists() else {},
            ),
            "loss": ("Training curves", "epoch", "loss", loss_curves(Path(paths["training_logs"], "labels", slug))),
        }  # fmt: skip
        for name, (title, x_label, y_label, series) in charts.items():
            series = {key: line for key, line in series.items() if line}
            if not series:
                continue
            path = (out / f"{slug}-{name}.svg").resolve()
            path.write_text(svg(f"{label['name']}: {title}", x_label, y_label, series), encoding="utf-8")
            alt = f"{label['name']}: {title}".replace("[", "(").replace("]", ")")
            print(f"![{alt}]({path})")
        print()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
