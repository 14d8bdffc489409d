"""Jinja filters of this template (cookiecutter loads them through `_extensions`).

Label names are user data (`area/editor`, `good first issue`, `🐛 bug`); they become
folder names and config keys through `label_slug`, here and nowhere else. The generated
repository keeps the resulting slug -> name mapping in its config.yaml.
"""

import json
import re
import unicodedata

from jinja2.ext import Extension


def label_slug(name: str) -> str:
    """A lowercase `[a-z0-9-]` slug: accents folded, other symbols and emoji dropped."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def split_labels(labels: str) -> list[str]:
    """The `labels` answer: comma-separated, blanks ignored, order kept."""
    return [part.strip() for part in labels.split(",") if part.strip()]


def quote(value: str) -> str:
    """A double-quoted string literal, valid as JSON, YAML and Python; emoji kept readable."""
    return json.dumps(value, ensure_ascii=False)


class LabelsExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["label_slug"] = label_slug
        environment.filters["split_labels"] = split_labels
        environment.filters["quote"] = quote
