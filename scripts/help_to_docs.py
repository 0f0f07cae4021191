#!/usr/bin/env python3
"""Puts each command's `partrace CMD --help` at the top of its page, docs/partrace-CMD.md, in
place of the page's first code block (the synopsis), so that the page and the help cannot differ:
    scripts/help_to_docs.py BUILD
tests/integration/test_cli.py checks that every page holds its command's help as it stands."""
import os
import re
import subprocess
import sys

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")


def help_block(partrace, cmd):
    text = subprocess.run([partrace, cmd, "--help"], capture_output=True, text=True, check=True).stdout
    return "```\n" + text + "```\n"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    partrace = os.path.join(sys.argv[1], "partrace")
    listed = subprocess.run([partrace, "help"], capture_output=True, text=True, check=True).stdout
    commands = [line.split()[0] for line in listed.split("commands:\n")[1].split("\n\n")[0].splitlines()]
    for cmd in commands:
        page = os.path.join(DOCS, f"partrace-{cmd}.md")
        if not os.path.exists(page):
            continue
        text = open(page, encoding="utf-8").read()
        block = re.search(r"```\n.*?```\n", text, re.S)
        new = text[:block.start()] + help_block(partrace, cmd) + text[block.end():] if block else text
        if new != text:
            open(page, "w", encoding="utf-8").write(new)
            print("updated", page)


if __name__ == "__main__":
    main()
