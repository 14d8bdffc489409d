"""Taking template updates: a project made by `cruft create` from an older template is updated
to a newer one by `cruft update`, offline and without a question. The template's changes arrive,
and the user's edit to config.yaml, their DVC remote and their data survive. The post-generation
hook sets up no repository in cruft's scratch renders, which would be diffed into the user's."""

import json
import shutil

import pytest
import yaml

from conftest import BIN, TEMPLATE, bake, project_env, run

TEMPLATE_FILES = ["cookiecutter.json", "hooks", "local_extensions.py", "LICENSE", "{{cookiecutter.project_slug}}"]
SLUG_DIR = "{{cookiecutter.project_slug}}"


def commit(repo, message):
    for command in (["git", "add", "--all"], ["git", "commit", "--quiet", "-m", message]):
        result = run(command, cwd=repo, env=project_env(repo))
        assert result.returncode == 0, result.stderr
    return run(["git", "rev-parse", "HEAD"], cwd=repo).stdout.strip()


def cruft(*args, cwd):
    result = run([str(BIN / "cruft"), *args], cwd=cwd, env=project_env(cwd), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def template(tmp_path):
    """The template as a git repository of two commits: (older, newer). The older one has no
    `serve` section in config.yaml and no docs/serving.md; the newer one is the current template."""
    template = tmp_path / "template"
    template.mkdir()
    for name in TEMPLATE_FILES:
        copy = shutil.copytree if (TEMPLATE / name).is_dir() else shutil.copy
        copy(TEMPLATE / name, template / name)
    run(["git", "init", "--quiet"], cwd=template)
    config = template / SLUG_DIR / "config.yaml"
    current, docs = config.read_text(encoding="utf-8"), (template / SLUG_DIR / "docs/serving.md").read_text()
    start = current.index("\nserve:")
    config.write_text(current[:start] + current[current.index("\n\n", start + 1) :], encoding="utf-8")
    (template / SLUG_DIR / "docs/serving.md").unlink()
    old = commit(template, "older template")
    config.write_text(current, encoding="utf-8")
    (template / SLUG_DIR / "docs/serving.md").write_text(docs)
    return template, old, commit(template, "newer template")


def test_cruft_update_brings_the_templates_changes_and_keeps_the_users(template, tmp_path):
    template, old, new = template
    cruft("create", str(template), "--checkout", old, "--no-input", "--output-dir", str(tmp_path / "out"),
          cwd=tmp_path)  # fmt: skip
    project = tmp_path / "out" / "issue-triage"
    assert (project / ".git").is_dir() and (project / ".dvc/config").is_file()  # create sets the repository up
    assert "serve" not in yaml.safe_load((project / "config.yaml").read_text())

    # the user's work: a value in config.yaml, their own DVC remote, their data
    text = (project / "config.yaml").read_text(encoding="utf-8")
    (project / "config.yaml").write_text(text.replace("  target_precision: 0.8 ", "  target_precision: 0.9 "))
    assert run([str(BIN / "dvc"), "remote", "add", "mine", str(tmp_path / "remote")], cwd=project).returncode == 0
    (project / "data/raw").mkdir(parents=True, exist_ok=True)
    (project / "data/raw/issues.jsonl").write_text('{"number": 1}\n')
    commit(project, "my changes")
    dvc_config = (project / ".dvc/config").read_text()

    result = cruft("update", "--checkout", new, "--skip-apply-ask", "--allow-untracked-files", cwd=project)
    assert "Good work! Project's cruft has been updated" in result.stdout
    data = yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))
    assert data["serve"]["port"] == 8000  # the template's change arrived
    assert data["label"]["target_precision"] == 0.9  # the user's survived
    assert (
        (project / "docs/serving.md").read_text().startswith("# Serving the models over HTTP\n\n`issue-triage serve`")
    )
    assert (project / ".dvc/config").read_text() == dvc_config
    assert (project / "data/raw/issues.jsonl").read_text() == '{"number": 1}\n'
    changed = run(["git", "status", "--porcelain"], cwd=project).stdout.split("\n")
    assert sorted(line[3:] for line in changed if line) == [
        ".cruft.json",
        "config.yaml",
        "docs/serving.md",
        "src/issue_triage/reference_config.yaml",
    ]
    assert not list(project.rglob("*.rej"))


def test_a_project_made_by_cookiecutter_links_to_the_template_with_its_answers(template, tmp_path):
    """.cookiecutter.json holds the answers, for `cruft link` (and `cookiecutter --replay-file`)."""
    template, _, new = template
    result = bake(tmp_path, project_name="Triage Bot", cloud="gcp", labels="bug, area/editor")
    assert result.returncode == 0, result.stderr
    project = tmp_path / "triage-bot"
    answers = json.loads((project / ".cookiecutter.json").read_text())
    assert answers["cloud"] == "gcp" and answers["labels"] == "bug, area/editor"
    assert not any(key.startswith("_") for key in answers)  # no private keys, no paths of this machine
    cruft("link", str(template), "--checkout", new, "--no-input", "--extra-context", json.dumps(answers), cwd=project)
    linked = json.loads((project / ".cruft.json").read_text())
    assert {k: v for k, v in linked["context"]["cookiecutter"].items() if k[0] != "_"} == answers
    assert "up to date" in cruft("check", "--checkout", new, cwd=project).stdout
