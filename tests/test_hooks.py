"""Bad answers are rejected before anything is written, with a message naming the variable."""

import os
import sys

import pytest

from conftest import TEMPLATE, bake, git_identity, run

BAD_ANSWERS = [
    ({"project_slug": "My Project"}, "project_slug: expected lowercase letters"),
    ({"project_slug": "9lives"}, "project_slug: expected lowercase letters"),
    ({"package_name": "my-package"}, "package_name: expected a Python identifier"),
    ({"package_name": "class"}, "package_name: expected a Python identifier"),
    ({"github_repo": "just-a-name"}, "github_repo: expected owner/name"),
    ({"github_repo": "a/b/c"}, "github_repo: expected owner/name"),
    ({"labels": " , ,"}, "labels: expected at least one label name"),
    ({"labels": "bug, 🐛 bug"}, "labels: 'bug' and '🐛 bug' both map to the slug 'bug'"),
    ({"labels": "area/editor, area editor"}, "both map to the slug 'area-editor'"),
    ({"labels": "🐛"}, "labels: '🐛' has no letter or digit"),
    ({"cloud": "gcp", "dvc_remote_url": "s3://bucket"}, "dvc_remote_url: expected a gs://... URL for cloud 'gcp'"),
    ({"dvc_remote_url": "gs://bucket"}, "dvc_remote_url: expected empty with cloud 'none'"),
    ({"cloud": "self-hosted", "dvc_remote_url": "ssh://host/dvc"},
     "dvc_remote_url: expected a gs://... or azure://... or s3://... URL for cloud 'self-hosted'"),
    ({"cloud": "self-hosted", "dvc_remote_url": ""}, "dvc_remote_url: expected a gs://... or azure://..."),
    ({"cloud": "self-hosted", "runner_labels": "gpu"}, "runner_labels: expected comma-separated labels"),
    ({"cloud": "self-hosted", "runner_labels": "self-hosted, gpu box"}, "including 'self-hosted' (e.g. self-"),
    ({"cloud": "self-hosted", "runner_labels": ""}, "runner_labels: expected comma-separated labels"),
    ({"cloud": "aws", "runner_labels": "self-hosted,gpu"}, "runner_labels: used only with cloud 'self-hosted'"),
    ({"cloud": "gcp", "cloud_region": ""}, "cloud_region: expected a name of letters, digits, '.', '_' or '-'"),
    ({"cloud": "azure", "cloud_machine_type": "Standard NC6"}, "cloud_machine_type: expected a name of letters"),
    ({"cloud": "aws", "cloud_gpu": "t4'; rm -rf /"}, "cloud_gpu: expected a name of letters"),
    ({"author_name": " "}, "author_name: expected the copyright holder the LICENSE names"),
]  # fmt: skip


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[str(a) for a, _ in BAD_ANSWERS])
def test_bad_answer_is_rejected_and_nothing_written(tmp_path, answers, message):
    result = bake(tmp_path, **answers)
    assert result.returncode != 0
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_cloud_is_rejected(tmp_path):
    result = bake(tmp_path, cloud="digitalocean")
    assert result.returncode != 0
    assert "cloud" in result.stderr and "digitalocean" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failing_dvc_step_is_reported_with_what_to_run(tmp_path):
    """`dvc init` failing in the post-generation hook (here a `dvc` that always fails, first on the
    path) is not ignored: the hook names the step, its error, and the commands still to run."""
    fake = tmp_path / "fake" / "dvc"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("import sys\nprint('ERROR: no space for .dvc', file=sys.stderr)\nsys.exit(1)\n")
    out = tmp_path / "out"
    out.mkdir()
    env = git_identity(dict(os.environ)) | {"PYTHONPATH": str(fake.parent)}
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(out), str(TEMPLATE)]
    result = run(command + ["cloud=gcp"], cwd=out, env=env)
    assert result.returncode == 0, result.stderr
    assert (
        "still to do: dvc init failed (ERROR: no space for .dvc); run: dvc init --quiet && "
        "dvc config core.autostage true && dvc remote add --default storage gs://issue-triage-dvc"
    ) in result.stdout
