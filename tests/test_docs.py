"""The README's and docs' links lead to files the repository holds, and their
anchors to headings of those files."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def tracked() -> set:
    """The repository's files and folders, as a fresh clone has them."""
    try:
        listed = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the files a clone holds are unknown")
    files = set(listed.splitlines())
    return files | {str(parent) for name in files for parent in Path(name).parents}


def anchors(markdown: str) -> set:
    """The anchors GitHub gives the headings of `markdown`."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", FENCE.sub("", markdown), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def local_links(page: str):
    for target in LINK.findall(FENCE.sub("", (ROOT / page).read_text(encoding="utf8"))):
        if not re.match(r"[a-z]+:", target):
            path, _, anchor = target.partition("#")
            yield target, path, anchor


@pytest.mark.parametrize("page", PAGES)
def test_links_lead_to_tracked_files_and_headings(page, tracked):
    broken = []
    for target, path, anchor in local_links(page):
        resolved = (ROOT / page).parent / path if path else ROOT / page
        name = str(resolved.resolve().relative_to(ROOT.resolve()))
        if name not in tracked:
            broken.append(f"{target}: {name} is not in the repository")
        elif anchor and name.endswith(".md"):
            if anchor not in anchors((ROOT / name).read_text(encoding="utf8")):
                broken.append(f"{target}: {name} has no heading #{anchor}")
    assert not broken, f"{page} links to what a clone lacks: " + "; ".join(broken)


def test_anchors_follow_github_headings():
    assert anchors(
        "# Results\n## How the figures are obtained\n### GPU (CUDA)\n```\n# not a heading\n```"
    ) == {
        "results",
        "how-the-figures-are-obtained",
        "gpu-cuda",
    }
