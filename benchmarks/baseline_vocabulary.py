"""The baseline's TF-IDF on a big tracker's vocabulary (issue #16): the n-grams it keeps, its
vectorizer's size, the fit's peak memory and one label's logistic regression, with and without
`baseline.max_features`.

    .venv/bin/python benchmarks/baseline_vocabulary.py                     # 100k issues, 262144 and none
    .venv/bin/python benchmarks/baseline_vocabulary.py --issues 10000 --max-features 65536

The texts are scale.py's corpus with `--words` Zipf-drawn words an issue (150: the dev set's
count of distinct 1-2-grams at 1,200 issues). Each setting runs in its own process, so its peak
resident memory is its own; the regression is the stage's (baseline.py, `c` 10, class weights),
fitted on one label's targets: a demo kind, present in about a quarter of the issues.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from github_import import bake, clean_up  # noqa: E402
from scale import corpus  # noqa: E402


def measure(project: Path, issues: int, words: int, max_features: int | None) -> dict:
    """In this process: the corpus, the vectorizer fitted on it, one label's regression."""
    sys.path.insert(0, str(project / "src"))
    import numpy as np
    from issue_triage import baseline
    from issue_triage.core.config import load_config
    from issue_triage.issues import demo

    rows = corpus(issues, [], 42, demo.generate, words)
    texts = [f"{row['title']}\n{row['body']}" for row in rows]
    targets = {"bug": np.array(["bug" in row["labels"] for row in rows], dtype=np.int64)}
    del rows
    options = dataclasses.replace(load_config(project / "config.yaml").baseline, max_features=max_features)
    started = time.perf_counter()
    vectorizer, fitted = baseline.fit_all(options, texts, targets, 42, {})
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    [(_, model, _)] = list(fitted)
    return {
        "max_features": max_features,
        "text_mb": sum(map(len, texts)) / 1e6,
        "n_grams": len(vectorizer.vocabulary_),
        "vectorizer_mb": len(pickle.dumps(vectorizer)) / 1e6,
        "fit_seconds": fit_seconds,
        "regression_seconds": time.perf_counter() - started,
        "regression_mb": len(pickle.dumps(model)) / 1e6,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=150)
    parser.add_argument("--max-features", nargs="+", default=["262144", "none"], help="a number, or none")
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)  # one setting, in a child process
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    if args.project:
        (value,) = args.max_features
        print(json.dumps(measure(args.project, args.issues, args.words, None if value == "none" else int(value))))
        return

    scratch = Path(tempfile.mkdtemp(prefix="baseline-vocabulary-"))
    project = bake(scratch)
    print(f"{args.issues} issues, {args.words} Zipf-drawn words each:")
    for value in args.max_features:
        command = [sys.executable, __file__, "--issues", str(args.issues), "--words", str(args.words),
                   "--max-features", value, "--project", str(project)]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(result.stderr[-3000:])
        m = json.loads(result.stdout.splitlines()[-1])
        print(f"  max_features {value:>7}: {m['n_grams']:>9,} n-grams; vectorizer {m['vectorizer_mb']:.1f} MB; "
              f"fit {m['fit_seconds']:.1f} s; one label's regression {m['regression_seconds']:.1f} s, "
              f"{m['regression_mb']:.1f} MB; peak {m['peak_mb']:.0f} MB ({m['text_mb']:.0f} MB of text)")  # fmt: skip
    clean_up(scratch, args.keep)


if __name__ == "__main__":
    main()
