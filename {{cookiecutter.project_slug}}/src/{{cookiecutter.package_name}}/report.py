"""reports/report.md: the summary a person reads (and the CML job posts on the commit or PR)."""

from __future__ import annotations


def _cell(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def render(metrics: dict, summary: dict, thresholds: dict, tried: list[dict]) -> str:
    """`tried`: the baseline's text options and their cross-validated scores (baseline.text)."""
    models = [name for name in ("classifier", "baseline", "blend") if name in metrics]
    weight, by_weight = thresholds["baseline_weight"], thresholds.get("weights_on_val")
    deployed = "`classifier`"
    if thresholds["model"] == "blend":
        deployed = f"`blend` ({1 - weight:g} classifier + {weight:g} baseline scores"
        deployed += ", the weight that ranked val best: see below)" if by_weight else ")"
    lines = ["# Issue label classifiers: test metrics", ""]
    lines += [
        f"Thresholds are chosen on the validation split ({thresholds['policy']}); metrics are measured "
        f"on the test split. Prediction uses {deployed}.",
        "",
        "| label | model | precision | recall | F1 | ROC-AUC | average precision | threshold | test issues |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for slug, info in summary["labels"].items():
        if info["dropped"]:
            lines.append(f"| {info['name']} | – | dropped: {info['train']} training issues | | | | | | |")
            continue
        for model in models:
            m = metrics[model]["labels"][slug]
            lines.append(
                f"| {info['name']} | {model} | {_cell(m['precision'])} | {_cell(m['recall'])} | {_cell(m['f1'])} "
                f"| {_cell(m['roc_auc'])} | {_cell(m['average_precision'])} | {_cell(m['threshold'])} "
                f"| {m['support']} |"
            )
    lines += [
        "",
        "| model | micro F1 | macro F1 | single-label accuracy | single-label macro F1 |",
        "|---|---|---|---|---|",
    ]
    for model in models:
        m = metrics[model]
        single = m.get("single_label") or {}
        lines.append(
            f"| {model} | {_cell(m['micro']['f1'])} | {_cell(m['macro']['f1'])} "
            f"| {_cell(single.get('accuracy'))} | {_cell(single.get('macro_f1'))} |"
        )
    if by_weight:
        lines += [
            "",
            "The blend weight (`evaluate.baseline_weight: auto`): each weight's mean average precision on val.",
            "",
            "| baseline weight | " + " | ".join(by_weight) + " |",
            "|---|" + "---|" * len(by_weight),
            "| val mean average precision | "
            + " | ".join(f"**{s:.3f}**" if float(w) == weight else f"{s:.3f}" for w, s in by_weight.items())
            + " |",
        ]
    if len(tried) > 1:
        lines += [
            "",
            "The baseline's text rules (`baseline.text`): each option's mean average precision out of fold on "
            "train; the chosen one in bold.",
            "",
            "| option (over preprocess.text) | cross-validated mean average precision |",
            "|---|---|",
        ]
        for option in tried:
            named = ", ".join(f"{key}: {str(value).lower()}" for key, value in option["option"].items())  # as YAML
            named = named or "preprocess.text as it is"
            cell = _cell(option["mean_average_precision"])
            lines.append(f"| {named} | {f'**{cell}**' if option['chosen'] else cell} |")
    splits = ", ".join(f"{name}: {count}" for name, count in summary["splits"].items())
    lines += ["", f"Issues per split: {splits}.", ""]
    return "\n".join(lines)
