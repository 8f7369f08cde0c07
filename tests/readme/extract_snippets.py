#!/usr/bin/env python3
"""Writes every ```cpp block of README.md as a C++ translation unit, so the build compiles
the README's examples against the public headers.

    extract_snippets.py README.md OUTPUT_DIR

A block becomes readme_<line>.cpp (<line>: the line of its opening fence). Its #include
lines go to the top of the file; namespace, class and struct definitions that start at
column 0 stay at namespace scope; everything else becomes the body of a member function
of a struct deriving from readme::Assumed (prelude.hpp), whose members are the names the
README's snippets use without declaring them (engine, id, rep, ...). #line directives
point compiler errors at README.md. A block preceded by <!-- fragment --> is skipped.

Prints the generated files, one a line, then "count N" (the blocks compiled).
"""

import os
import re
import sys

FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
TOP_LEVEL = re.compile(r"^(namespace\s+\w+\s*\{|class\s|struct\s)")
FRAGMENT = "<!-- fragment -->"


def blocks(lines):
    """Yields (line number of the fence, language, code lines, skipped?) for each block."""
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, language = m.group(1), m.group(2)
        start = i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        previous = start - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        skipped = previous >= 0 and lines[previous].strip() == FRAGMENT
        yield start + 1, language, body, skipped


def split(code, first_line):
    """Splits a block into (includes, top-level chunks, body chunks); chunks are
    (README line of their first line, lines)."""
    includes, top, body = [], [], []
    i = 0
    while i < len(code):
        line = code[i]
        number = first_line + i
        if line.lstrip().startswith("#include"):
            includes.append(line.strip())
            i += 1
        elif TOP_LEVEL.match(line):
            chunk = []
            while i < len(code):
                chunk.append(code[i])
                i += 1
                if code[i - 1].rstrip() in ("}", "};"):
                    break
            top.append((number, chunk))
        else:
            if body and body[-1][0] + len(body[-1][1]) == number:
                body[-1][1].append(line)
            else:
                body.append((number, [line]))
            i += 1
    return includes, top, body


def translation_unit(readme, fence_line, code):
    includes, top, body = split(code, fence_line + 1)
    out = [f"// Generated from README.md (the block at line {fence_line}) by tests/readme/extract_snippets.py.",
           '#include "prelude.hpp"']
    out += includes
    out += ["", f"namespace readme_line_{fence_line} {{", ""]
    for number, chunk in top:
        out.append(f'#line {number} "{readme}"')
        out += chunk
    out += ["", "struct Snippet : readme::Assumed {", "  void run();", "};", "", "void Snippet::run() {"]
    for number, chunk in body:
        out.append(f'#line {number} "{readme}"')
        out += chunk
    out += ["}", "", f"const bool registered = readme::compiled({fence_line});", "", "}  // namespace", ""]
    return "\n".join(out)


def main():
    readme, output = sys.argv[1], sys.argv[2]
    with open(readme, encoding="utf-8") as f:
        lines = f.read().split("\n")
    os.makedirs(output, exist_ok=True)
    for stale in os.listdir(output):
        if stale.startswith("readme_") and stale.endswith(".cpp"):
            os.remove(os.path.join(output, stale))
    count = 0
    for fence_line, language, code, skipped in blocks(lines):
        if language != "cpp" or skipped:
            continue
        path = os.path.join(output, f"readme_{fence_line}.cpp")
        with open(path, "w", encoding="utf-8") as f:
            f.write(translation_unit(os.path.abspath(readme), fence_line, code))
        print(path)
        count += 1
    print(f"count {count}")


if __name__ == "__main__":
    main()
