"""Reject bad answers before anything is written: each message names the variable and the rule."""

import keyword
import re
import sys

ANSWERS = {
    "project_slug": {{ cookiecutter.project_slug | quote }},
    "package_name": {{ cookiecutter.package_name | quote }},
    "github_repo": {{ cookiecutter.github_repo | quote }},
    "cloud": {{ cookiecutter.cloud | quote }},
    "dvc_remote_url": {{ cookiecutter.dvc_remote_url | quote }},
    "cloud_region": {{ cookiecutter.cloud_region | quote }},
    "cloud_machine_type": {{ cookiecutter.cloud_machine_type | quote }},
    "cloud_gpu": {{ cookiecutter.cloud_gpu | quote }},
    "runner_labels": {{ cookiecutter.runner_labels | quote }},
    "license": {{ cookiecutter.license | quote }},
    "author_name": {{ cookiecutter.author_name | quote }},
}

# [name, slug] per label, slugged by the template's one slug function (local_extensions.py)
LABELS = [
{%- for name in cookiecutter.labels | split_labels %}
    ({{ name | quote }}, {{ name | label_slug | quote }}),
{%- endfor %}
]
# A self-hosted runner may push to any of the three storages (its dvc extra follows the URL)
REMOTE_SCHEMES = {
    "none": ("",),
    "gcp": ("gs://",),
    "azure": ("azure://",),
    "aws": ("s3://",),
    "self-hosted": ("gs://", "azure://", "s3://"),
}
CLOUD_RUNNER = ("cloud_region", "cloud_machine_type", "cloud_gpu")
# runner names and labels: they go into the workflow and onto `cml runner launch`'s command line
TOKEN = r"[A-Za-z0-9][A-Za-z0-9._-]*"


def problems() -> list[str]:
    found = []
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", ANSWERS["project_slug"]):
        found.append(
            f"project_slug: expected lowercase letters, digits and single '-' between them, "
            f"starting with a letter; found {ANSWERS['project_slug']!r}"
        )
    package = ANSWERS["package_name"]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", package) or keyword.iskeyword(package):
        found.append(
            f"package_name: expected a Python identifier of lowercase letters, digits and '_', "
            f"starting with a letter; found {package!r}"
        )
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+", ANSWERS["github_repo"]):
        found.append(f"github_repo: expected owner/name (e.g. microsoft/vscode); found {ANSWERS['github_repo']!r}")
    if ANSWERS["license"] != "none" and not ANSWERS["author_name"].strip():
        found.append("author_name: expected the copyright holder the LICENSE names; found nothing")
    if not LABELS:
        found.append("labels: expected at least one label name, comma-separated; found none")
    seen: dict[str, str] = {}
    for name, slug in LABELS:
        if not slug:
            found.append(
                f"labels: {name!r} has no letter or digit to name its model folder by; "
                f"add one (e.g. '{name} bug')"
            )
        elif slug in seen:
            found.append(f"labels: {seen[slug]!r} and {name!r} both map to the slug {slug!r}; rename one of them")
        else:
            seen[slug] = name
    cloud = ANSWERS["cloud"]
    if cloud not in REMOTE_SCHEMES:
        found.append(f"cloud: expected one of {', '.join(REMOTE_SCHEMES)}; found {cloud!r}")
    else:
        remote = ANSWERS["dvc_remote_url"]
        schemes = REMOTE_SCHEMES[cloud]
        if cloud == "none" and remote:
            found.append(f"dvc_remote_url: expected empty with cloud 'none'; found {remote!r}")
        elif cloud != "none" and not any(remote.startswith(s) and len(remote) > len(s) for s in schemes):
            expected = " or ".join(f"{s}..." for s in schemes)
            found.append(f"dvc_remote_url: expected a {expected} URL for cloud {cloud!r}; found {remote!r}")
        found += runner_problems(cloud)
    return found


def runner_problems(cloud: str) -> list[str]:
    found = []
    if cloud in ("gcp", "azure", "aws"):
        for name in CLOUD_RUNNER:
            if not re.fullmatch(TOKEN, ANSWERS[name]):
                found.append(
                    f"{name}: expected a name of letters, digits, '.', '_' or '-' for cloud {cloud!r}; "
                    f"found {ANSWERS[name]!r}"
                )
    labels = [label.strip() for label in ANSWERS["runner_labels"].split(",") if label.strip()]
    if cloud == "self-hosted":
        if "self-hosted" not in labels or not all(re.fullmatch(TOKEN, label) for label in labels):
            found.append(
                "runner_labels: expected comma-separated labels of letters, digits, '.', '_' or '-', "
                f"including 'self-hosted' (e.g. self-hosted,gpu); found {ANSWERS['runner_labels']!r}"
            )
    elif labels:
        found.append(
            f"runner_labels: used only with cloud 'self-hosted' (cloud {cloud!r} launches its own runner); "
            f"leave it empty; found {ANSWERS['runner_labels']!r}"
        )
    return found


if __name__ == "__main__":
    errors = problems()
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    sys.exit(1 if errors else 0)
