"""Synthetic GitHub issues of a fictional code editor, "Quill", for the offline demo.

The demo pipeline must train without network access, so this module fabricates a
deterministic corpus that looks like a real issue tracker: issue templates, HTML
comments, code fences, stack traces, logs, links and the occasional emoji.

Each issue is written from a label-specific pool of intents (a crash report, a
feature proposal, a how-to question, a docs fix) mixed with product vocabulary
shared by every label, phrasings borrowed from other labels and a little label
noise, so a classifier has something to learn but no keyword gives it away.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

DEMO_LABELS: tuple[str, ...] = ("bug", "enhancement", "question", "documentation")

# Label names used before the repository's labels were cleaned up.
ALIASES: dict[str, str] = {
    "type: bug": "bug",
    "kind/bug": "bug",
    "type: feature": "enhancement",
    "kind/feature": "enhancement",
    "type: question": "question",
    "kind/support": "question",
    "type: docs": "documentation",
    "docs": "documentation",
}

# How often each intent is filed, and the labels that tend to accompany each one
# (also the intents that each one is most easily confused with).
INTENT_WEIGHTS = (0.38, 0.27, 0.18, 0.17)
NEIGHBOURS = {
    "bug": ("documentation", "question"),
    "enhancement": ("question", "documentation"),
    "question": ("documentation", "bug"),
    "documentation": ("enhancement", "question"),
}

# Slot values shared by every label, so they carry no label signal.
AREAS = (
    "editor",
    "integrated terminal",
    "extension host",
    "git integration",
    "settings UI",
    "theme engine",
    "search panel",
    "debugger",
    "remote SSH",
    "file explorer",
    "minimap",
    "command palette",
    "markdown preview",
    "language server client",
    "diff view",
    "notebook view",
    "tab bar",
    "status bar",
)
FILES = (
    "main.py",
    "index.ts",
    "App.jsx",
    "settings.json",
    "Cargo.toml",
    "README.md",
    "docker-compose.yml",
    "styles.css",
    "server.go",
    "analysis.ipynb",
    ".env",
)
VERSIONS = (
    "1.2.0",
    "1.2.3",
    "1.3.0",
    "1.3.1",
    "1.4.0",
    "1.4.2",
    "1.5.0-beta.2",
    "1.5.1",
)
OSES = (
    "Windows 11",
    "Windows 10",
    "macOS 14.2 (Sonoma)",
    "macOS 13.6",
    "Ubuntu 22.04",
    "Fedora 39",
    "Arch Linux",
    "Debian 12 (WSL2)",
)
COMMANDS = (
    "quill --install-extension quill.python",
    "quill --disable-extensions .",
    "quill diff a.txt b.txt",
    "quill --remote ssh://dev@build-box ~/src",
    "quill --verbose --log trace",
    "quill config set editor.tabSize 2",
    "quill .",
)
SETTINGS = (
    "editor.tabSize",
    "editor.formatOnSave",
    "terminal.shell.linux",
    "git.autofetch",
    "search.exclude",
    "workbench.colorTheme",
    "files.autoSave",
    "remote.ssh.configFile",
    "debug.console.fontSize",
    "editor.wordWrap",
)
EXTENSIONS = (
    "quill-python",
    "prettier-quill",
    "vim-mode",
    "gitlens-lite",
    "rust-analyzer-quill",
    "material-icons",
    "docker-tools",
)
LANGS = ("Python", "TypeScript", "Rust", "Go", "Markdown", "Jupyter", "YAML", "Zig")
DOC_PAGES = (
    "getting-started",
    "extensions/publishing",
    "settings/reference",
    "remote/ssh",
    "debugging/launch-config",
    "git/integration",
    "themes/authoring",
    "terminal/profiles",
    "search/regex",
    "keybindings",
)
JS_ERRORS = (
    "TypeError: Cannot read properties of undefined (reading 'uri')",
    "Error: ENOENT: no such file or directory, open '/home/dev/.quill/argv.json'",
    "Error: Extension host terminated unexpectedly",
    "RangeError: Maximum call stack size exceeded",
    "Error: spawn git ENOENT",
    "Error: EACCES: permission denied, mkdir '/usr/local/share/quill'",
)
PY_ERRORS = (
    "KeyError: 'workspaceFolders'",
    "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0",
    "FileNotFoundError: [Errno 2] No such file or directory: '.quill/launch.json'",
    "ConnectionRefusedError: [Errno 111] Connection refused",
)

TITLES = {
    "bug": (
        "{Area} crashes when opening {file}",
        "{Area} freezes with large files",
        "Crash on startup after upgrading to {version}",
        "Regression in {version}: {area} stops responding",
        "`{setting}` is ignored since {version}",
        "{Area} broken on {os}",
        "Extension host crashes when {extension} is enabled",
        "Cannot save {file}: permission denied",
        "Unhandled exception in the {area}",
        "{Area} flickers and shows garbage characters",
        "High CPU usage from {area} when idle",
        "Undo history lost after switching tabs",
    ),
    "enhancement": (
        "Add support for {lang} in the {area}",
        "It would be nice to pin tabs",
        "Feature request: split view for the {area}",
        "Allow configuring the {area} per workspace",
        "Proposal: plugin API for custom {area} panels",
        "Option to disable animations in the {area}",
        "Make `{setting}` configurable per language",
        "[Feature] Sync settings across machines",
        "Show git blame inline in the editor",
        "Keyboard shortcut to toggle the {area}",
        "Remember {area} state between sessions",
    ),
    "question": (
        "How do I change the font in the {area}?",
        "How can I debug my own extension?",
        "Is it possible to use the {area} without a GUI?",
        "What is the recommended way to share settings?",
        "How to set `{setting}` for one project only?",
        "Question: where are {area} logs stored?",
        "Can {extension} be used together with remote SSH?",
        "Why does the {area} use so much memory?",
        "Is there a way to open {file} read-only?",
        "{Area} not picking up my shell profile?",
        "Which Quill version supports {lang}?",
    ),
    "documentation": (
        "Typo in the {area} docs",
        "Docs: {page} page is outdated",
        "Broken link on the {page} page",
        "The {page} tutorial fails at step 3",
        "Missing example for `{setting}` in settings reference",
        "README install instructions are wrong for {os}",
        "Document how the {area} handles {file}",
        "Outdated screenshot in the {page} guide",
        "Add a troubleshooting section for the {area}",
        "API reference for the {area} is incomplete",
        "Changelog for {version} misses a breaking change",
    ),
}
# Vague titles that people of every intent write.
VAGUE_TITLES = (
    "Problem with the {area} on {os}",
    "Issue with the {area} and {other_area}",
    "Weird {area} behaviour with {extension}",
    "{Area} vs {other_area} keybindings",
    "Something is off with the {area} in {version}",
    "{Lang} projects in the {area}",
    "Question about `{setting}` and the {area}",
    "Some feedback on Quill {version}",
)

# The opening sentence states the intent; details add label-typical colour.
OPENERS = {
    "bug": (
        "Since upgrading to {version}, the {area} crashes as soon as I open {file}.",
        "The {area} broke with the last update. It was fine in {old_version}.",
        "When `{setting}` is enabled, the {area} shows the wrong output.",
        "I get an error every time I run `{command}`.",
        "Quill freezes for several seconds whenever the {area} is visible.",
        "After upgrading, {extension} fails to activate and the {area} stays empty.",
        "Saving {file} silently fails: the tab stays dirty and nothing is written.",
        "The {area} renders the wrong colors with the default dark theme.",
        "This is a regression: on {old_version} the {area} worked as expected.",
    ),
    "enhancement": (
        "It would be nice if the {area} could remember its layout per workspace.",
        "I'd like to propose adding {lang} support to the {area}.",
        "The {area} can't be configured per project, so sharing setups is hard.",
        "Please add an option to hide the {area} completely.",
        "Other editors let you pin files in the {area}; Quill could do the same.",
        "As a keyboard user, I would love a shortcut that toggles the {area}.",
        "Proposal: expose the {area} in the extension API so {extension} can use it.",
        "It would be great to have a setting like `{setting}` for the {other_area}.",
        "Add support for opening several folders in the {area} at once.",
    ),
    "question": (
        "How do I make the {area} use a different shell?",
        "Is it possible to set `{setting}` only for one workspace?",
        "What is the recommended way to run `{command}` in a CI job?",
        "I'm new to Quill and can't figure out how to use the {area} over SSH.",
        "Is there a way to sync keybindings and themes between two computers?",
        "Does {extension} work with the {area}, or do I need something else?",
        "Where does Quill store the logs for the {area}?",
        "Can someone explain what `{setting}` actually does?",
        "What's the difference between user and workspace settings for the {area}?",
    ),
    "documentation": (
        "The [{page} page]({doc_url}) still describes the behaviour of {old_version}.",
        "Typo in the {area} section of the docs: 'recieve' should be 'receive'.",
        "The link to the extension API reference on [this page]({doc_url}) is a 404.",
        "The docs don't mention `{setting}` at all, though it exists since {version}.",
        "The README install instructions for {os} are out of date.",
        "The example on the {page} page does not work as written.",
        "The screenshots in the {area} guide still show the old UI.",
        "The getting-started guide skips the step where you install git.",
        "The API reference for the {area} lists a parameter that was removed.",
    ),
}
DETAILS = {
    "bug": (
        "It happens every time, even with `--disable-extensions`.",
        "I can reproduce it with a fresh profile.",
        "CPU goes to 100% and I have to quit.",
        "The problem goes away if I downgrade to {old_version}.",
        "Nothing useful shows up in the output panel, only the message below.",
        "It only happens on {os}; the same project works on my other machine.",
        "Reloading the window helps for a few minutes, then it breaks again.",
    ),
    "enhancement": (
        "My use case: a monorepo where I switch between projects many times a day.",
        "This would save a lot of clicks on small laptop screens.",
        "Ideally it would be off by default so nothing changes for existing users.",
        "I'm happy to open a PR if the maintainers agree with the approach.",
        "A toggle in the settings UI would be enough for me.",
        "A command palette entry would make this discoverable.",
        "People love this in other editors.",
    ),
    "question": (
        "I searched the issues and discussions but could not find an answer.",
        "I tried a few things but I'm not sure I'm doing it right.",
        "Any pointers would be appreciated!",
        "Sorry if this is the wrong place to ask.",
        "I read the [docs]({doc_url}) but it's still not clear to me.",
        "An example config would help a lot.",
        "Is this supported at all?",
    ),
    "documentation": (
        "A short example would help here.",
        "I can send a PR to fix the wording.",
        "The page should probably link to the changelog.",
        "It confused me for quite a while, so others probably hit it too.",
        "The `#configuration` anchor on that page is broken as well.",
        "Maybe add a note for {os} users.",
        "Same problem in the translated versions of the page.",
    ),
}
# Sentences that belong to a label but use another label's vocabulary.
CROSSOVER = {
    "bug": (
        "How do I get more detailed logs to help debug this?",
        "Is it possible that {extension} causes this?",
        "The docs say this should work, so I assume it's a bug.",
        "It would be nice if it at least showed an error message.",
    ),
    "enhancement": (
        "The {area} crashes with my current workaround, so native support would help.",
        "Is this something you would accept a PR for?",
        "How do other people handle this today?",
        "The docs could mention the limitation until then.",
    ),
    "question": (
        "When I try it I get `{error}`, am I missing something?",
        "Is this a bug or expected behavior?",
        "If it's not possible yet, consider this a feature request.",
        "The documentation for `{setting}` is a bit vague on this.",
    ),
    "documentation": (
        "Following the example as written fails with `{error}`.",
        "How do I know which version the page refers to?",
        "It would be nice to have a search box on the docs site.",
        "The page crashes my browser tab on {os}, but that is a separate issue.",
    ),
}
SHARED = (
    "I mostly use the {area} together with the {other_area}.",
    "I have {extension} installed, in case that matters.",
    "My project is a mid-sized {lang} codebase with a few thousand files.",
    "Possibly related to #{ref}.",
    "This is on Quill {version} on {os}.",
    "I usually open projects with `{command}`.",
    "Our team shares a `settings.json` in the repository.",
    "I switched to Quill from another editor last month.",
    "The workspace is opened over remote SSH.",
    "I use the light theme with a custom font.",
)
SHORT = (
    "As the title says.",
    "See title.",
    "Title says it all 🙂",
    "![image]({img})",
    "Happens on {os} with {version}.",
    "Any update on this?",
    "Same as #{ref}.",
)
HTML_COMMENTS = (
    "<!-- Please search existing issues first to avoid duplicates. -->",
    "<!-- Fill in the sections below. Remove the ones that do not apply. -->",
    "<!-- ⚠️ Do not include secrets or tokens in logs. -->",
)
CLOSINGS = ("Thanks for the great editor! 🚀", "Thanks in advance 🙏", "Thanks!", "Keep up the good work 👍", "Cheers")
STEPS = (
    "Open the {area}",
    "Run `{command}`",
    "Enable `{setting}` in the settings UI",
    "Reload the window",
    "Switch to another tab and back",
    "Open {file} from the file explorer",
    "Wait a few seconds",
)
EXPECTED = (
    "The {area} keeps working.",
    "The file is saved.",
    "No error.",
    "Same output as `{command}` prints in a normal shell.",
)
ACTUAL = (
    "The {area} freezes and I have to reload the window.",
    "Nothing happens.",
    "An error notification pops up: `{error}`",
    "![screenshot]({img})",
)
ALTERNATIVES = (
    "A custom task, but it is clunky.",
    "Editing `settings.json` by hand.",
    "Installing {extension}, but it is unmaintained.",
    "None really.",
)
DOC_FIXES = (
    "Update the example to use `{setting}`.",
    "Replace the dead link.",
    "Add a short section with a working example.",
    "Fix the typo.",
    "Mention the change in the changelog too.",
)

# Material for code fences. Bug reports paste traces and logs most often, but
# questions and docs issues paste them too.
PY_FRAMES = (
    ('"/home/dev/.quill/extensions/python/bridge.py"', "main", "server.start(cfg)"),
    ('"/usr/lib/quill/resources/lsp/client.py"', "request", "return self._send(msg)"),
    ('"/home/dev/project/tasks.py"', "<module>", "run(sys.argv[1:])"),
    ('"/usr/lib/quill/resources/git/status.py"', "parse", "path, code = line.split()"),
)
JS_FRAMES = (
    "ExtensionHost.activate (extensionHost.js:412:17)",
    "loadExtension (main.js:88:5)",
    "TerminalProcess.spawn (terminal.js:231:9)",
    "async Promise.all (index 0)",
    "GitModel.refresh (git/model.js:57:21)",
    "SearchWorker.run (worker.js:140:3)",
)
PY_SNIPPET = (
    "import quill\n\n\ndef activate(ctx):\n    cmd = quill.commands.register("
    '"demo.hello", lambda: print("hi"))\n    ctx.subscriptions.append(cmd)'
)
CODE_KINDS = {
    "bug": ("python-trace", "js-trace", "logs", "bash", "logs", "config"),
    "enhancement": ("config", "snippet"),
    "question": ("config", "snippet", "bash", "js-trace"),
    "documentation": ("snippet", "config", "bash"),
}
CODE_RATE = {"bug": 0.7, "enhancement": 0.25, "question": 0.4, "documentation": 0.3}

_SLOT = re.compile(r"\{([A-Za-z_]+)\}")
_ALIASES_OF = {label: [alias for alias, canonical in ALIASES.items() if canonical == label] for label in DEMO_LABELS}


def _fill(template: str, slots: dict[str, str]) -> str:
    """Replace known slot names; a capitalised name capitalises the value."""

    def sub(match: re.Match) -> str:
        key = match.group(1)
        value = slots.get(key.lower())
        if value is None:
            return match.group(0)
        return value[:1].upper() + value[1:] if key[0].isupper() else value

    return _SLOT.sub(sub, template)


def _slots(rng: random.Random, number: int) -> dict[str, str]:
    """One set of slot values per issue, so that its sentences agree with each other."""
    i = rng.randrange(1, len(VERSIONS))
    area, other_area = rng.sample(AREAS, 2)
    page = rng.choice(DOC_PAGES)
    user, digest = rng.randint(10**6, 10**8), rng.getrandbits(128)
    return {
        "area": area,
        "other_area": other_area,
        "file": rng.choice(FILES),
        "version": VERSIONS[i],
        "old_version": VERSIONS[i - 1],
        "os": rng.choice(OSES),
        "command": rng.choice(COMMANDS),
        "setting": rng.choice(SETTINGS),
        "extension": rng.choice(EXTENSIONS),
        "lang": rng.choice(LANGS),
        "page": page,
        "doc_url": "https://quill-editor.dev/docs/" + page,
        "error": rng.choice(JS_ERRORS + PY_ERRORS),
        "ref": str(rng.randint(1, max(1, number - 1))),
        "img": f"https://user-images.githubusercontent.com/{user}/{digest:032x}.png",
    }


def _code_block(rng: random.Random, kind: str, s: dict[str, str]) -> str:
    if kind == "python-trace":
        lines = ["Traceback (most recent call last):"]
        for path, func, code in rng.sample(PY_FRAMES, rng.randint(1, 3)):
            lineno = rng.randint(3, 400)
            lines += [f"  File {path}, line {lineno}, in {func}", "    " + code]
        return "```python\n" + "\n".join(lines) + "\n" + rng.choice(PY_ERRORS) + "\n```"
    if kind == "js-trace":
        frames = ["    at " + f for f in rng.sample(JS_FRAMES, rng.randint(2, 4))]
        return "```\n" + "\n".join([rng.choice(JS_ERRORS), *frames]) + "\n```"
    if kind == "logs":
        stamp = datetime(2024, rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC)
        events = (
            ("main", "info", "Quill " + s["version"]),
            ("exthost", "warning", "Slow extension " + s["extension"]),
            ("exthost", "error", s["error"]),
        )
        lines = []
        for src, level, msg in events:
            stamp += timedelta(milliseconds=rng.randint(5, 9000000))
            when = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            lines.append(f"[{when}] [{src}] [{level}] {msg}")
        return "<details><summary>Logs</summary>\n\n```\n" + "\n".join(lines) + "\n```\n\n</details>"
    if kind == "bash":
        return "```bash\n$ " + s["command"] + "\n" + s["error"] + "\n```"
    if kind == "config":
        value = rng.choice(("true", "false", "2", '"bash"', '"off"'))
        return '```json\n{\n  "' + s["setting"] + '": ' + value + "\n}\n```"
    return "```python\n" + PY_SNIPPET + "\n```"


def _environment(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "### Environment\n- OS: {os}\n- Quill version: {version}\n- Extensions: {extension}"
    return "**Version:** {version}\n**OS:** {os}"


def _sentences(rng: random.Random, label: str) -> str:
    """Opener, a few details and maybe a sentence borrowed from another label."""
    # Some people open like a neighbouring intent (a bug report that starts as a
    # question); these make the borderline cases.
    opener = label if rng.random() < 0.8 else rng.choice(NEIGHBOURS[label])
    out = [rng.choice(OPENERS[opener])]
    out += rng.sample(DETAILS[label], rng.randint(0, 2))
    out += rng.sample(SHARED, rng.randint(0, 2))
    if rng.random() < 0.4:
        out.append(rng.choice(CROSSOVER[label]))
    return " ".join(out)


def _templated(rng: random.Random, form: str, label: str, code: str) -> list[str]:
    """Sections of the issue template of `form`, with content written for `label`."""
    text = _sentences(rng, label)
    if form == "bug":
        steps = rng.sample(STEPS, rng.randint(2, 4))
        return [
            "### Describe the bug\n" + text,
            "### Steps to reproduce\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1)),
            "### Expected behavior\n" + rng.choice(EXPECTED),
            "### Actual behavior\n" + (code or rng.choice(ACTUAL)),
            _environment(rng),
        ]
    if form == "enhancement":
        return [
            "### Is your feature request related to a problem?\n" + text,
            "### Describe alternatives you've considered\n" + rng.choice(ALTERNATIVES),
            "### Additional context\n" + (code or rng.choice(DETAILS["enhancement"])),
        ]
    if form == "question":
        return [
            "### Question\n" + text,
            code,
            "- [x] I searched existing issues\n- [ ] I asked in the discussions",
            _environment(rng),
        ]
    return [
        "### Documentation page\n{doc_url}",
        "### What is wrong or missing?\n" + text,
        code,
        "### Suggested fix\n" + rng.choice(DOC_FIXES),
    ]


def _body(rng: random.Random, label: str, second: str | None, s: dict[str, str]) -> str:
    roll = rng.random()
    if roll < 0.03:
        return ""
    if roll < 0.10:
        return _fill(rng.choice(SHORT), s)
    code = ""
    if rng.random() < CODE_RATE[label]:
        code = _code_block(rng, rng.choice(CODE_KINDS[label]), s)
    parts = [rng.choice(HTML_COMMENTS)] if rng.random() < 0.3 else []
    if rng.random() < 0.5:
        # Most people keep the template that matches their intent, some do not.
        form = label if rng.random() < 0.7 else rng.choice(DEMO_LABELS)
        parts += _templated(rng, form, label, code)
    else:
        parts += [_sentences(rng, label), code]
        if rng.random() < 0.3:
            parts.append(_environment(rng))
    if second is not None:
        parts.append(rng.choice(OPENERS[second]))
    if rng.random() < 0.1:
        parts.append("![screenshot]({img})")
    if rng.random() < 0.35:
        parts.append(rng.choice(CLOSINGS))
    return _fill("\n\n".join(part for part in parts if part), s)


def generate(n_issues: int, seed: int) -> list[dict]:
    """Deterministic demo issues (same n_issues+seed -> identical output).

    Only `random.Random(seed)` and ordered containers are used, so the output does not
    depend on PYTHONHASHSEED.
    """
    rng = random.Random(seed)
    start = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    # Distinct sorted offsets keep created_at strictly increasing and inside 2024.
    offsets = sorted(rng.sample(range(360 * 24 * 3600), n_issues))
    issues = []
    for number, offset in enumerate(offsets, start=1):
        intent = rng.choices(DEMO_LABELS, weights=INTENT_WEIGHTS)[0]
        roll = rng.random()
        second = rng.choice(NEIGHBOURS[intent]) if 0.15 <= roll < 0.25 else None
        s = _slots(rng, number)
        titles = VAGUE_TITLES if rng.random() < 0.2 else TITLES[intent]
        title = _fill(rng.choice(titles), s)
        body = _body(rng, intent, second, s)
        labels = []
        if roll >= 0.15:  # the rest were never triaged
            primary = intent
            if rng.random() < 0.05:  # mislabelled by a hurried triager
                primary = rng.choice([lab for lab in DEMO_LABELS if lab != intent])
            labels = [primary] + ([second] if second and second != primary else [])
            if rng.random() < 0.08:  # labelled before the label names were changed
                labels = [rng.choice(_ALIASES_OF[lab]) for lab in labels]
        # Older issues are more likely to be closed already.
        closed = rng.random() < 0.8 - 0.6 * number / n_issues
        created = start + timedelta(seconds=offset)
        issues.append(
            {
                "number": number,
                "title": title,
                "body": body,
                "labels": labels,
                "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "state": "closed" if closed else "open",
            }
        )
    return issues
