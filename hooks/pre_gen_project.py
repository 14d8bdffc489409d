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
}
# [name, slug] per label, slugged by the template's one slug function (local_extensions.py)
LABELS = [
{%- for name in cookiecutter.labels | split_labels %}
    ({{ name | quote }}, {{ name | label_slug | quote }}),
{%- endfor %}
]
REMOTE_SCHEMES = {"none": ("",), "gcp": ("gs://",), "azure": ("azure://",), "aws": ("s3://",)}


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
    if not LABELS:
        found.append("labels: expected at least one label name, comma-separated; found none")
    seen: dict[str, str] = {}
    for name, slug in LABELS:
        if not slug:
            found.append(
                f"labels: {name!r} has no letter or digit to name its DVC stage by; "
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
        elif cloud != "none" and not (remote.startswith(schemes) and len(remote) > len(schemes[0])):
            found.append(f"dvc_remote_url: expected a {schemes[0]}... URL for cloud {cloud!r}; found {remote!r}")
    return found


if __name__ == "__main__":
    errors = problems()
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    sys.exit(1 if errors else 0)
