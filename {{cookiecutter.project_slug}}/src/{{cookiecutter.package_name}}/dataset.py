"""The labelled data as the stages pass it on: preprocess's rows split into train, val and test
(and unlabelled text for the language model), each label's 0/1 targets, and the score files the
training stages write for evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .core import files

SPLITS = ("train", "val", "test")
UNLABELLED = "unlabelled"  # issues with none of the labels: text for the language model only
ISSUES, SUMMARY, SCORES = "issues.jsonl", "summary.json", "scores.jsonl"
TEXT_RULES = "text.json"  # the baseline's own text rules, and how each option cross-validated


class Processed:
    """preprocess's output folder: rows {number, text, labels (slugs), split} and the summary."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        self.rows: list[dict] = files.read_jsonl(folder / ISSUES)
        self.summary: dict = files.read_json(folder / SUMMARY)

    def split(self, name: str) -> list[dict]:
        return [row for row in self.rows if row["split"] == name]

    def labels(self) -> list[str]:
        """The slugs that preprocess kept (not dropped for too few training issues)."""
        return [slug for slug, info in self.summary["labels"].items() if not info["dropped"]]


def write_processed(folder: Path, rows: list[dict], summary: dict) -> None:
    files.write_jsonl(folder / ISSUES, rows)
    files.write_json(folder / SUMMARY, summary)


def targets(rows: list[dict], slug: str) -> np.ndarray:
    return np.array([slug in row["labels"] for row in rows], dtype="float32")


def texts(rows: list[dict]) -> list[str]:
    return [row["text"] for row in rows]


def numbers(rows: list[dict]) -> list[int]:
    return [row["number"] for row in rows]


def score_rows(slug: str, by_split: dict[str, list[dict]], scores: dict[str, np.ndarray]) -> list[dict]:
    """One label's scores of each split's issues, as the score files hold them: what evaluate reads
    instead of re-running a model."""
    return [
        {"label": slug, "split": split, "number": row["number"], "score": round(float(score), 8)}
        for split in scores
        for row, score in zip(by_split[split], scores[split])
    ]


def read_scores(path: Path, by_split: dict[str, list[dict]]) -> dict[tuple[str, str], np.ndarray]:
    """A score file's scores as {(label, split): array in the order of `by_split[split]`}, read line
    by line into arrays (at 100k issues and 200 labels the files hold millions of scores). A score
    the file lacks is NaN."""
    where = {split: {row["number"]: i for i, row in enumerate(rows)} for split, rows in by_split.items()}
    arrays: dict[tuple[str, str], np.ndarray] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            score = json.loads(line)
            position = where.get(score["split"], {}).get(score["number"])
            if position is not None:
                key = (score["label"], score["split"])
                if key not in arrays:
                    arrays[key] = np.full(len(by_split[score["split"]]), np.nan)
                arrays[key][position] = score["score"]
    return arrays
