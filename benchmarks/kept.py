"""A project `quality.py --keep` left, opened for an experiment (cross_fit.py, ensembles.py): its
package importable as `bench`, its config, splits and labels, and the baseline's documents."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Kept:
    config: object
    train: list[dict]
    val: list[dict]
    test: list[dict]
    slugs: list[str]
    unsupervised: list[str]  # the masked-LM phase's texts: train and unlabelled, no label read
    title_ngrams: bool  # the baseline's text rules, as the project chose them
    _text: object
    _raw: dict[int, dict]

    def documents(self, rows: list[dict]) -> list[str]:
        """`rows` as the project's baseline reads them (its chosen text rules)."""
        from bench.baseline import document

        return [document(self._raw[r["number"]].get("title") or "", self._raw[r["number"]].get("body") or "",
                         self._text, self.title_ngrams) for r in rows]  # fmt: skip


def open_kept(project: Path) -> Kept:
    """Work in `project` (its relative paths hold) with its package importable as `bench`."""
    os.chdir(project)
    sys.path.insert(0, str(project.resolve() / "src"))
    from bench.baseline import TEXT_RULES
    from bench.core import files
    from bench.core.config import TextConfig, load_config
    from bench.dataset import UNLABELLED, Processed, texts

    config = load_config(Path("config.yaml"))
    data = Processed(config.paths.processed)
    rules = files.read_json(Path(config.paths.baseline) / TEXT_RULES)
    return Kept(
        config, *(data.split(split) for split in ("train", "val", "test")), data.labels(),
        texts([row for row in data.rows if row["split"] in ("train", UNLABELLED)]),
        rules.get("title_ngrams", False), TextConfig(**rules["text"]),
        {issue["number"]: issue for issue in files.read_jsonl(config.paths.raw)},
    )  # fmt: skip
