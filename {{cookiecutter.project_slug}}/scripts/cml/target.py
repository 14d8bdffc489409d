"""Where the report goes, as `cml comment --target`: `pr/<number>` when the branch has an open
pull request in this repository, else `commit/<sha>` (the commit that was trained).
Env: GITHUB_API_URL, GITHUB_REPOSITORY (owner/name), GITHUB_REF_NAME (the branch), GITHUB_SHA,
REPO_TOKEN."""

import json
import os
import sys
import urllib.parse
import urllib.request


def open_pull_request(api: str, repository: str, branch: str, token: str) -> int | None:
    owner = repository.split("/")[0]
    query = urllib.parse.urlencode({"state": "open", "head": f"{owner}:{branch}"})
    request = urllib.request.Request(
        f"{api}/repos/{repository}/pulls?{query}",
        headers={"Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        pulls = json.load(response)
    return pulls[0]["number"] if pulls else None


def main() -> None:
    env = os.environ
    number = open_pull_request(
        env.get("GITHUB_API_URL", "https://api.github.com"),
        env["GITHUB_REPOSITORY"],
        env["GITHUB_REF_NAME"],
        env["REPO_TOKEN"],
    )
    print(f"pr/{number}" if number else f"commit/{env['GITHUB_SHA']}")


if __name__ == "__main__":
    sys.exit(main())
