"""Set the book's repository address in one place and rebuild every link derived from it.

The address lives in ``_config.yml`` (``repository.url`` and ``repository.branch``); Jupyter
Book builds the launch buttons (Binder, JupyterLab) and the repository button from it. This
script writes the places Jupyter Book does not read: the Binder badge in ``README.md``, the
project URLs in ``pyproject.toml`` and ``repository-code`` in ``CITATION.cff``.

Usage::

    python scripts/set_repository.py https://github.com/OWNER/REPO [--branch main]
    python scripts/set_repository.py            # rebuild the derived places from _config.yml
    python scripts/set_repository.py --check    # exit 1 if any derived place disagrees

``tests/test_packaging.py`` runs ``--check``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BADGE_START = "<!-- repository-links: written by scripts/set_repository.py from _config.yml -->"
BADGE_END = "<!-- /repository-links -->"
GITHUB_RE = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)/?$")


def read_setting(root: Path = ROOT) -> tuple[str, str, str]:
    """(repository url, branch, BinderHub url) from ``_config.yml``."""
    cfg = yaml.safe_load((root / "_config.yml").read_text())
    repo = cfg.get("repository", {})
    hub = cfg.get("launch_buttons", {}).get("binderhub_url", "https://mybinder.org")
    return str(repo["url"]).rstrip("/"), str(repo.get("branch", "main")), str(hub).rstrip("/")


def binder_url(url: str, branch: str, hub: str) -> str:
    """The BinderHub launch URL (opens JupyterLab) of a GitHub repository."""
    match = GITHUB_RE.match(url)
    if match is None:
        raise ValueError(f"repository url {url!r} is not https://github.com/OWNER/REPO")
    owner, name = match.groups()
    return f"{hub}/v2/gh/{owner}/{name}/{branch}?urlpath=lab"


def badge_block(url: str, branch: str, hub: str) -> str:
    """The README block: Binder badge and repository link."""
    return f"{BADGE_START}\n[![Binder]({hub}/badge_logo.svg)]({binder_url(url, branch, hub)})\nRepository: <{url}>\n{BADGE_END}"


def derived_texts(root: Path = ROOT) -> dict[Path, str]:
    """The derived files' texts as they must be for the current setting."""
    url, branch, hub = read_setting(root)
    binder_url(url, branch, hub)  # validates the address
    out = {}
    readme = (root / "README.md").read_text()
    block = re.compile(re.escape(BADGE_START) + r".*?" + re.escape(BADGE_END), re.S)
    if not block.search(readme):
        raise ValueError(f"README.md has no {BADGE_START!r} ... {BADGE_END!r} block")
    out[root / "README.md"] = block.sub(lambda _: badge_block(url, branch, hub), readme)
    pyproject = (root / "pyproject.toml").read_text()
    for key, value in (("Homepage", url), ("Source", url), ("Issues", f"{url}/issues")):
        pyproject = re.sub(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', pyproject)
    out[root / "pyproject.toml"] = pyproject
    cff = (root / "CITATION.cff").read_text()
    out[root / "CITATION.cff"] = re.sub(r"(?m)^repository-code: .*$", f'repository-code: "{url}"', cff)
    return out


def set_url(root: Path, url: str, branch: str | None) -> None:
    """Write a new address (and branch) into ``_config.yml``, keeping its comments."""
    binder_url(url, branch or "main", "https://mybinder.org")
    path = root / "_config.yml"
    text = path.read_text()
    text, n = re.subn(r"(?m)^(\s+url:\s*).*$", lambda m: m.group(1) + url, text, count=1)
    if branch:
        text = re.sub(r"(?m)^(\s+branch:\s*).*$", lambda m: m.group(1) + branch, text, count=1)
    if n != 1:
        raise ValueError("_config.yml has no repository url line")
    path.write_text(text)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/REPO")
    parser.add_argument("--branch", help="branch Binder and the buttons use (default: unchanged)")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 on a difference")
    args = parser.parse_args(argv)
    if args.url and args.check:
        parser.error("--check takes no url")
    if args.url:
        set_url(root, args.url, args.branch)
    stale = []
    for path, text in derived_texts(root).items():
        if path.read_text() != text:
            stale.append(path.name)
            if not args.check:
                path.write_text(text)
    url, branch, hub = read_setting(root)
    if args.check:
        if stale:
            print(
                f"out of date with _config.yml ({url}): {', '.join(stale)}; run python scripts/set_repository.py", file=sys.stderr
            )
            return 1
        print(f"repository links agree with _config.yml: {url} ({branch})")
        return 0
    print(
        f"repository {url} ({branch}); Binder {binder_url(url, branch, hub)}; updated: {', '.join(stale) or 'nothing to change'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
