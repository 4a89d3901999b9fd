"""The documentation in a clone stands on its own: no Markdown file names a path outside the
repository, and every relative link points at a file or folder that exists in it.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_docs_self_contained.py
"""
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(os.environ.get("PLATFORM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
OUTSIDE = re.compile(r"(?<![\w.])/work/|\.\./shared/|(?<![\w/])shared/(spec|seeds|design)/")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def markdown_files():
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "*.md"], capture_output=True, text=True, check=True)
    files = [ROOT / line for line in out.stdout.splitlines()]
    assert any(f.name == "README.md" for f in files)
    return files


def test_no_markdown_names_a_path_outside_the_repository():
    problems = []
    for path in markdown_files():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if OUTSIDE.search(line):
                problems.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not problems, "paths outside the repository:\n" + "\n".join(problems)


def test_relative_links_resolve_inside_the_repository():
    problems = []
    for path in markdown_files():
        for target in LINK.findall(path.read_text()):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http:, mailto: and in-page anchors
            resolved = (path.parent / target.split("#")[0]).resolve()
            if not resolved.is_relative_to(ROOT.resolve()) or not resolved.exists():
                problems.append(f"{path.relative_to(ROOT)}: {target}")
    assert not problems, "links that lead nowhere in a clone:\n" + "\n".join(problems)
