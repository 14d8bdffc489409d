"""Bake the template with a matrix of answers: exact file set, nothing left unrendered, valid
files, and answers carried where they belong."""

from __future__ import annotations

import itertools
import json
import re
import sys
import tomllib

import pytest
import yaml

from conftest import TEMPLATE, project_env, run

COOKIECUTTER = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))

PACKAGE_FILES = [
    "__init__.py", "__main__.py", "baseline.py", "checkpoint_sync.py", "classifier.py", "cli.py", "dataset.py",
    "encoder.py", "encoder_head.py", "evaluate.py", "gates.py", "head.py", "label.py", "language_model.py",
    "monitor.py", "predict.py", "preprocess.py", "promote.py", "reference_config.yaml", "report.py", "resumable.py",
    "runtime.py", "selection.py", "serve.py", "text.py", "tuning.py", "vectors.py",
    "core/__init__.py", "core/command.py", "core/config.py", "core/errors.py", "core/files.py",
    "stages/__init__.py", "stages/baseline.py", "stages/evaluate.py", "stages/finetune_lm.py",
    "stages/import_issues.py", "stages/preprocess.py", "stages/train.py",
    "issues/__init__.py", "issues/api.py", "issues/demo.py", "issues/dump.py", "issues/github.py",
    "issues/records.py", "issues/store.py",
]  # fmt: skip
TEST_FILES = [
    "conftest.py", "fake_github.py", "test_baseline.py", "test_checkpoint_sync.py", "test_cli.py", "test_config.py",
    "test_demo.py", "test_dump.py", "test_evaluate.py", "test_faults.py", "test_github_import.py",
    "test_github_resume.py", "test_head.py", "test_label.py", "test_language_model.py", "test_monitor.py",
    "test_predict.py", "test_preprocess.py", "test_promote.py", "test_resume.py", "test_resumable.py",
    "test_serve.py", "test_stage_deps.py", "test_text.py", "test_tuning.py", "tiny.yaml",
]  # fmt: skip
TOP_FILES = [
    ".dvc/.gitignore", ".dvc/config", ".dvcignore", ".gitignore", ".github/dependabot.yml", ".github/workflows/ci.yaml",
    "README.md", ".cookiecutter.json", ".dockerignore", "Dockerfile", "config.yaml", "dvc.yaml", "pyproject.toml",
    "scripts/tiny_repro.sh", "scripts/serve.sh", "scripts/pull_promoted.sh", "scripts/remote_credentials.sh",
    "docs/changelog.md", "docs/cloud.md", "docs/experiments.md", "docs/internals.md", "docs/labelling.md",
    "docs/own-data.md", "docs/serving.md",
]  # fmt: skip
# GPU training and sweeps (cml.yaml, sweep.yaml and their scripts) come with a cloud or a self-hosted runner only
CLOUD_FILES = [
    ".github/workflows/cml.yaml", "scripts/cml/check_gpu.py", "scripts/cml/launch.sh", "scripts/cml/plots.py",
    "scripts/cml/publish.sh", "scripts/cml/report.sh", "scripts/cml/target.py", "scripts/cml/train.sh",
    ".github/workflows/sweep.yaml", "scripts/cml/sweep_matrix.py", "scripts/cml/sweep_experiment.sh",
    "scripts/cml/sweep_compare.sh", "scripts/cml/git_auth.sh", "scripts/cml/pusher.sh",
    ".github/workflows/label.yaml", "scripts/label.sh", "scripts/pin_images.py",
]  # fmt: skip
SELF_HOSTED_FILES = [".github/actionlint.yaml"]


def expected_files(package: str, cloud: str = "none", license: str = "MIT") -> set[str]:
    top = set(TOP_FILES) | ({"LICENSE"} if license != "none" else set())
    if cloud != "none":
        top |= set(CLOUD_FILES)
    if cloud == "self-hosted":
        top |= set(SELF_HOSTED_FILES)
    return top | {f"src/{package}/{name}" for name in PACKAGE_FILES} | {f"tests/{name}" for name in TEST_FILES}


def project_files(project) -> set[str]:
    return {
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.relative_to(project).parts[:1]
        and "__pycache__" not in path.parts
        and not path.relative_to(project).parts[:2] == (".dvc", "tmp")
        and not path.relative_to(project).parts[:2] == (".dvc", "cache")
    }


LABEL_SETS = {
    "default": ("bug, enhancement, question, documentation", ["bug", "enhancement", "question", "documentation"]),
    "awkward": ("area/editor, good first issue, 🐛 crash, Needs Triage, ../etc, type: bug",
                ["area-editor", "good-first-issue", "crash", "needs-triage", "etc", "type-bug"]),
}  # fmt: skip
DVC_EXTRA = {"none": "dvc>=", "gcp": "dvc[gs]>=", "azure": "dvc[azure]>=", "aws": "dvc[s3]>=",
             "self-hosted": "dvc[s3]>="}  # fmt: skip


def config_generator() -> list[dict]:
    """cookiecutter.json's choice variables (lists) and the label sets, every pair of values baked
    together at least once (checked): every value of the two longest lists combined, then each
    further list's value chosen per bake to cover the most pairs not yet baked (greedy, in list
    order), with a bake added for any pair left. A choice added to cookiecutter.json is baked
    without editing this test; the matrix grows with the longest lists, not with their product."""
    choices = {key: value for key, value in COOKIECUTTER.items() if isinstance(value, list) and key[0] != "_"}
    choices["label_set"] = list(LABEL_SETS)
    names = sorted(choices, key=lambda name: -len(choices[name]))
    first, second, *rest = names
    combos = [{first: a, second: b} for a in choices[first] for b in choices[second]]
    placed = [first, second]
    for name in rest:
        needed = {(other, value, mine) for other in placed for value in choices[other] for mine in choices[name]}
        for combo in combos:
            best = max(choices[name], key=lambda mine: sum((o, combo[o], mine) in needed for o in placed))
            combo[name] = best
            needed -= {(o, combo[o], best) for o in placed}
        for other, value, mine in sorted(needed, key=str):  # pairs no bake holds yet: one more bake each
            if any(combo[other] == value and combo[name] == mine for combo in combos):
                continue
            combos.append({**combos[0], other: value, name: mine})
        placed.append(name)
    for a, b in itertools.combinations(names, 2):
        covered = {(combo[a], combo[b]) for combo in combos}
        assert covered == set(itertools.product(choices[a], choices[b])), f"{a} x {b} not all baked"
    return [{name: combo[name] for name in choices} for combo in combos]


@pytest.mark.parametrize("answers", config_generator(), ids=lambda a: "-".join(a.values()))
def test_bake_matrix(baked, answers):
    answers = dict(answers)
    labels, slugs = LABEL_SETS[answers.pop("label_set")]
    cloud = answers["cloud"]
    project = baked(project_name="Triage Bot", labels=labels, **answers)
    assert project.name == "triage-bot"
    assert project_files(project) == expected_files("triage_bot", cloud, answers["license"])

    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(?<!\$)\{\{|\{%|\{#", text), f"unrendered Jinja in {path}"
            if path.suffix in (".yaml", ".yml"):
                yaml.safe_load(text)
            elif path.suffix == ".toml":
                tomllib.loads(text)
            elif path.suffix == ".json":
                json.loads(text)

    # the labels: slugged once at generation, names kept exactly as given
    config = yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))
    assert list(config["labels"]) == slugs
    assert [label["name"] for label in config["labels"].values()] == [n.strip() for n in labels.split(",")]
    assert all(set(label) == {"name", "aliases"} for label in config["labels"].values())
    # the base: its handle, and the numbers that suit it (a pretrained base: low rates, a longer
    # sequence, SetFit's logistic head on its sentence vectors)
    lm, head = config["language_model"], config["classifier"]["params"]["head"]
    if answers["encoder"] == "scratch":
        assert lm["base"] == "scratch" and lm["supervised"]["learning_rate"] == 0.001 and head == "network"
    else:
        assert lm["base"] == f"hf://sentence-transformers/{answers['encoder']}" and head == "logistic"
        assert config["encoder"]["sequence_length"] == 256 and lm["supervised"]["learning_rate"] == 1e-4
    assert (
        (project / "src/triage_bot/reference_config.yaml").read_text().endswith((project / "config.yaml").read_text())
    )
    check = run([sys.executable, "-m", "triage_bot", "check-config"], cwd=project, env=project_env(project))
    assert check.returncode == 0, check.stderr

    # the cloud: the DVC remote and the matching DVC extra
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    if answers["license"] == "none":
        assert "license" not in pyproject["project"]
    else:  # an SPDX expression, and the text whose first line names it
        assert pyproject["project"]["license"] == answers["license"]
        first = (project / "LICENSE").read_text().lstrip().splitlines()[0]
        assert first == {"MIT": "MIT License", "Apache-2.0": "Apache License",
                         "BSD-3-Clause": "BSD 3-Clause License"}[answers["license"]]  # fmt: skip
    assert any(dep.startswith(DVC_EXTRA[cloud]) for dep in pyproject["project"]["dependencies"])
    assert pyproject["project"]["scripts"] == {"triage-bot": "triage_bot.cli:main"}
    assert f'python-version: "{answers["python_version"]}"' in (project / ".github/workflows/ci.yaml").read_text()
    # the service's image: the project's Python; every file it copies by name is there
    dockerfile = (project / "Dockerfile").read_text()
    assert f"FROM python:{answers['python_version']}-slim" in dockerfile
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and not line.endswith(" . ."):
            assert all((project / source).exists() for source in line.split()[1:-1]), line
    dvc_config = (project / ".dvc/config").read_text()
    if cloud == "none":
        assert "remote" not in dvc_config
    else:
        scheme = {"gcp": "gs://", "azure": "azure://", "aws": "s3://", "self-hosted": "s3://"}[cloud]
        assert f"url = {scheme}triage-bot-dvc" in dvc_config


def test_default_bake_is_a_committed_repository(baked):
    project = baked()
    assert project.name == "issue-triage"
    status = run(["git", "status", "--porcelain"], cwd=project)
    log = run(["git", "log", "--oneline"], cwd=project)
    assert status.stdout == "" and len(log.stdout.splitlines()) == 1
    readme = (project / "README.md").read_text()
    assert "synthetic" in readme and "octo-org/octo-repo" in readme


def test_demo_aliases_match_the_demo_corpus(baked):
    """config.yaml's default aliases are the older label names the demo corpus uses."""
    project = baked()
    config = yaml.safe_load((project / "config.yaml").read_text())
    code = "from issue_triage.issues.demo import ALIASES; import json; print(json.dumps(ALIASES))"
    aliases = json.loads(run([sys.executable, "-c", code], cwd=project, env=project_env(project)).stdout)
    configured = {alias: slug for slug, label in config["labels"].items() for alias in label["aliases"]}
    assert configured == aliases
