"""Reading an issue dump (issues/dump.py) into checked records (issues/records.py)."""

import json

import pytest

from {{ cookiecutter.package_name }}.issues.dump import read_dump, read_rows, read_split_dumps
from {{ cookiecutter.package_name }}.issues.records import SourceError


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# --- what is read ------------------------------------------------------------------------------


def test_jsonl(tmp_path):
    path = write_jsonl(
        tmp_path / "issues.jsonl",
        [
            {"number": 7, "title": "Crash", "body": "It crashes", "labels": ["bug"], "state": "CLOSED"},
            {"number": 9, "title": "Idea", "body": None, "labels": [], "created_at": "2024-01-02T00:00:00Z"},
        ],
    )
    assert read_dump(path) == [
        {"number": 7, "title": "Crash", "body": "It crashes", "labels": ["bug"], "created_at": "", "state": "closed"},
        {"number": 9, "title": "Idea", "body": "", "labels": [], "created_at": "2024-01-02T00:00:00Z", "state": ""},
    ]


def test_jsonl_skips_blank_lines_and_numbers_by_position(tmp_path):
    path = write(tmp_path / "issues.jsonl", '{"title": "a"}\n\n   \n{"title": "b"}\n')
    assert [record["number"] for record in read_dump(path)] == [1, 2]


def test_github_api_style_labels(tmp_path):
    row = {"number": 1, "title": "t", "body": "b", "labels": [{"name": "bug", "color": "d73a4a"}, "question"]}
    assert read_dump(write_jsonl(tmp_path / "issues.jsonl", [row]))[0]["labels"] == ["bug", "question"]


def test_split_field_kept(tmp_path):
    rows = [{"title": "a", "split": "train"}, {"title": "b", "split": "test"}, {"title": "c", "split": ""}]
    records = read_dump(write_jsonl(tmp_path / "issues.jsonl", rows))
    assert [record.get("split") for record in records] == ["train", "test", None]


def test_csv_with_labels_column(tmp_path):
    path = write(
        tmp_path / "issues.csv",
        "number,title,body,labels,split,repo\n"
        '12,Crash,"Line one\nline two, with a comma","bug, question",train,octo/a\n'
        "13,Docs,,,test,octo/a\n",
    )
    records = read_dump(path)
    assert records[0]["number"] == 12  # a digit string becomes an integer
    assert records[0]["body"] == "Line one\nline two, with a comma"
    assert records[0]["labels"] == ["bug", "question"]
    assert records[0]["split"] == "train"
    assert records[1]["labels"] == []
    assert records[1]["body"] == ""


def test_csv_with_label_column_and_bom(tmp_path):
    path = tmp_path / "issues.csv"
    path.write_bytes("title,body,label\nCrash,It crashes,bug\nHow?,Help,question\n".encode("utf-8-sig"))
    records = read_dump(path)
    assert [record["labels"] for record in records] == [["bug"], ["question"]]
    assert [record["number"] for record in records] == [1, 2]
    assert "split" not in records[0]


def test_csv_fields_of_any_size(tmp_path):
    log = "Traceback (most recent call last):\n" + "  at frame\n" * 100_000  # a 1 MB pasted log
    path = write(tmp_path / "issues.csv", f'title,body,label\nBuild fails,"{log}",bug\n')
    (record,) = read_dump(path)
    assert record["body"] == log and len(log) > 1_000_000


def test_repo_filter(tmp_path):
    rows = [
        {"number": 1, "title": "a", "repo": "octo/a"},
        {"number": 1, "title": "b", "repo": "octo/b"},  # numbers repeat across repositories
        {"number": 2, "title": "c", "repo": "octo/a"},
    ]
    path = write_jsonl(tmp_path / "issues.jsonl", rows)
    assert [record["title"] for record in read_dump(path, repo_filter="octo/a")] == ["a", "c"]
    with pytest.raises(SourceError, match=r"import.repo_filter: no row .* has repo 'octo/c'"):
        read_dump(path, repo_filter="octo/c")


# --- what is refused ---------------------------------------------------------------------------


def refused(path, **kwargs):
    """The SourceError message for reading `path`."""
    with pytest.raises(SourceError) as caught:
        read_dump(path, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize("name", ["issues.jsonl", "issues.csv"])
def test_empty_file(tmp_path, name):
    path = write(tmp_path / name, "title,body,label\n" if name.endswith(".csv") else "\n\n")
    message = refused(path)
    assert str(path) in message
    assert "no issues found; expected at least one issue" in message


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "issues.jsonl"
    path.write_bytes(b'{"title": "a"}\n{"title": "caf\xe9"}\n')
    message = refused(path)
    assert "line 2: invalid UTF-8 (byte 29)" in message  # the byte's offset in the file
    assert "expected UTF-8" in message


def test_a_jsonl_dump_is_read_a_line_at_a_time(tmp_path):
    """A big tracker's dump is not read whole: its rows come as its lines are read, so a bad line
    is met after the rows before it (check_records then refuses the whole file)."""
    path = write(tmp_path / "issues.jsonl", '{"title": "a"}\n{"title": "b"}\n{"title": \n')
    rows = read_rows(path)
    assert [next(rows)["title"], next(rows)["title"]] == ["a", "b"]
    with pytest.raises(SourceError, match="line 3: not valid JSON"):
        next(rows)


def test_line_separators_inside_a_jsonl_string(tmp_path):
    """JSON allows U+2028, U+2029 and U+0085 unescaped in a string: they are text, not line ends."""
    body = "first\u2028second\u2029third\x85fourth\rfifth"
    path = tmp_path / "issues.jsonl"
    path.write_text(json.dumps({"title": "a", "body": body}, ensure_ascii=False) + "\n", encoding="utf-8", newline="")
    assert [record["body"] for record in read_dump(path)] == [body]


def test_invalid_utf8_after_a_byte_order_mark_names_the_line(tmp_path):
    path = tmp_path / "issues.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"title": "a"}\n\xff\n')
    assert "line 2: invalid UTF-8" in refused(path)


def test_malformed_json_line_names_the_line(tmp_path):
    path = write(tmp_path / "issues.jsonl", '{"title": "a"}\n{"title": "b",}\n')
    message = refused(path)
    assert "line 2: not valid JSON" in message
    assert "expected one issue object a line" in message


def test_json_line_that_is_not_an_object(tmp_path):
    path = write(tmp_path / "issues.jsonl", '[{"title": "a"}]\n')
    assert "line 1: expected a JSON object; found list" in refused(path)


@pytest.mark.parametrize("header", ["title,labels", "body,label", "title,body", ""])
def test_missing_csv_columns(tmp_path, header):
    path = write(tmp_path / "issues.csv", header + "\n")
    message = refused(path)
    assert "expected columns title, body and label (or labels)" in message
    assert "found " + (", ".join(sorted(header.split(","))) if header else "none") in message


def test_duplicate_numbers(tmp_path):
    path = write_jsonl(tmp_path / "issues.jsonl", [{"number": 3, "title": "a"}, {"number": 3, "title": "b"}])
    message = refused(path)
    assert "issue #2" in message
    assert "duplicate issue number 3" in message


@pytest.mark.parametrize("number", ["x12", 1.5, True, None])
def test_bad_number(tmp_path, number):
    path = write_jsonl(tmp_path / "issues.jsonl", [{"number": number, "title": "a"}])
    assert f"`number` expected an integer; found {number!r}" in refused(path)


@pytest.mark.parametrize(
    "labels",
    [[1, 2], ["bug", None], [{"color": "red"}], "bug", {"name": "bug"}, 3],
    ids=["integers", "null", "object-without-name", "string", "object", "number"],
)
def test_wrong_label_types(tmp_path, labels):
    path = write_jsonl(tmp_path / "issues.jsonl", [{"number": 1, "title": "a", "labels": labels}])
    message = refused(path)
    assert "issue #1" in message
    assert "`labels` expected a list of names" in message
    assert f"found {labels!r}" in message


def test_wrong_title_type(tmp_path):
    path = write_jsonl(tmp_path / "issues.jsonl", [{"title": ["a"], "body": "b"}])
    assert "`title` and `body` expected strings; found list and str" in refused(path)


def test_unknown_split(tmp_path):
    path = write_jsonl(tmp_path / "issues.jsonl", [{"title": "a", "split": "validation"}])
    assert "`split` expected one of train, val, test; found 'validation'" in refused(path)


def test_unknown_extension(tmp_path):
    path = write(tmp_path / "issues.txt", "title,body,label\n")
    assert "import.file: expected a .jsonl or .csv file; found 'issues.txt'" in refused(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.jsonl"
    message = refused(path)
    assert f"import.file: {path} not found" in message
    assert "expected a .jsonl or .csv dump" in message


def test_json_array_as_gh_issue_list_writes_it(tmp_path):
    """`gh issue list --json number,title,body,labels,state,createdAt` output, read as is."""
    issues = [
        {"number": 7, "title": "Crash", "body": "x", "labels": [{"name": "bug"}], "state": "OPEN",
         "createdAt": "2024-05-01T10:00:00Z"},
        {"number": 8, "title": "Docs", "body": "", "labels": [], "state": "CLOSED",
         "createdAt": "2024-05-02T10:00:00Z"},
    ]  # fmt: skip
    path = write(tmp_path / "issues.json", json.dumps(issues, indent=2))
    records = read_dump(path)
    assert [(r["number"], r["labels"], r["state"], r["created_at"]) for r in records] == [
        (7, ["bug"], "open", "2024-05-01T10:00:00Z"),
        (8, [], "closed", "2024-05-02T10:00:00Z"),
    ]


def test_json_array_with_a_non_object(tmp_path):
    path = write(tmp_path / "issues.json", '[{"title": "a"}, 3]')
    assert "item 2: expected a JSON object; found int" in refused(path)


# --- richer dumps: vscode's issues.json, the REST API's arrays ----------------------------------


def test_vscode_issues_json(tmp_path):
    """vscode's scraper writes NDJSON with createdAt in epoch milliseconds and the label timeline."""
    issue = {
        "number": 1234,
        "title": "Terminal freezes",
        "body": "It hangs",
        "createdAt": 1700000000000,
        "labels": [{"name": "terminal", "color": "aaaaaa"}, {"name": "🐛 bug", "color": "ff0000"}],
        "assignees": ["tyriar"],
        "labelEvents": [
            {"type": "added", "label": "terminal", "actor": "vscode-triage-bot", "title": "t", "body": "b"},
            {"type": "added", "label": "🐛 bug", "actor": "tyriar", "title": "t", "body": "b"},
            {"type": "removed", "label": "info-needed"},
        ],
        "closedWithCode": False,
    }
    (record,) = read_dump(write_jsonl(tmp_path / "issues.json", [issue]))
    assert record["created_at"] == "2023-11-14T22:13:20Z"
    assert record["labels"] == ["terminal", "🐛 bug"]
    assert record["assignees"] == ["tyriar"]
    assert record["label_events"] == [
        {"type": "added", "label": "terminal", "actor": "vscode-triage-bot"},
        {"type": "added", "label": "🐛 bug", "actor": "tyriar"},
        {"type": "removed", "label": "info-needed"},
    ]


def test_rest_api_array_without_pull_requests(tmp_path):
    issues = [
        {"number": 1, "title": "Bug", "body": None, "state": "closed", "labels": [{"name": "area/editor"}],
         "user": {"login": "octocat"}, "assignees": [{"login": "hubot"}], "created_at": "2024-01-01T00:00:00Z",
         "updated_at": "2024-01-03T00:00:00Z", "closed_at": "2024-01-02T00:00:00Z"},
        {"number": 2, "title": "A PR", "body": "", "state": "open", "labels": [], "user": None,
         "pull_request": dict(url="https://api.github.com/repos/o/r/pulls/2")},
        {"number": 3, "title": "By a deleted account", "body": "", "state": "open", "labels": [], "user": None},
    ]  # fmt: skip
    with pytest.warns(UserWarning, match="left out 1 pull requests"):
        records = read_dump(write(tmp_path / "issues.json", json.dumps(issues)))
    assert [record["number"] for record in records] == [1, 3]
    assert records[0]["author"] == "octocat" and records[0]["assignees"] == ["hubot"]
    assert (records[0]["updated_at"], records[0]["closed_at"]) == ("2024-01-03T00:00:00Z", "2024-01-02T00:00:00Z")
    assert records[1]["author"] == "ghost"


def test_only_pull_requests(tmp_path):
    path = write(tmp_path / "issues.json", json.dumps([{"number": 2, "title": "PR", "pull_request": dict(url="u")}]))
    with pytest.warns(UserWarning):
        assert "only pull requests; expected at least one issue" in refused(path)


def test_a_lone_surrogate_becomes_a_replacement_character(tmp_path):
    """`\\ud83d` alone is valid JSON but not writable as UTF-8: half an emoji, cut by some client."""
    path = write(tmp_path / "issues.jsonl", '{"title": "half \\ud83d", "body": "x", "labels": ["\\ud83d bug"]}\n')
    (record,) = read_dump(path)
    assert record["title"] == "half \ufffd" and record["labels"] == ["\ufffd bug"]
    json.dumps(record, ensure_ascii=False).encode("utf-8")


def test_labels_with_emoji_spaces_and_slashes_are_kept(tmp_path):
    labels = ["🐛 bug", "good first issue", "area/editor", "type: feature"]
    (record,) = read_dump(write_jsonl(tmp_path / "issues.jsonl", [{"title": "a", "labels": labels}]))
    assert record["labels"] == labels


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("labelEvents", [{"type": "renamed", "label": "x"}], "label event `type` expected added or removed"),
        ("label_events", "bug", "`label_events` expected objects"),
        ("assignees", "octocat", "`assignees` expected a list of logins"),
        ("created_at", ["2024"], "`created_at` expected an ISO timestamp or epoch milliseconds"),
    ],
)
def test_bad_optional_fields(tmp_path, field, value, words):
    path = write_jsonl(tmp_path / "issues.jsonl", [{"title": "a", field: value}])
    message = refused(path)
    assert "issue #1" in message and words in message


def test_train_and_test_files(tmp_path):
    """`import.test_file`: the second file's issues are the test split, numbered on from the first's."""
    header = "repo,label,title,body\n"
    train = write(tmp_path / "train.csv", header + "a/b,bug,Crash,x\na/b,feature,Add,y\nc/d,bug,Other,z\n")
    test = write(tmp_path / "test.csv", header + "a/b,question,How,w\n")
    records = read_split_dumps(train, test, repo_filter="a/b")
    assert [(r["number"], r["split"], r["labels"]) for r in records] == [
        (1, "train", ["bug"]),
        (2, "train", ["feature"]),
        (3, "test", ["question"]),
    ]


def test_train_and_test_files_sharing_a_number(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", [{"number": 5, "title": "a", "labels": []}])
    test = write_jsonl(tmp_path / "test.jsonl", [{"number": 5, "title": "b", "labels": []}])
    with pytest.raises(SourceError, match=r"import.test_file: issue numbers \[5\] are in both"):
        read_split_dumps(train, test)
