#!/usr/bin/env python3
"""Checks every example in README.md and Docs/*.md, so a documented example cannot silently break.

- ```swift blocks are compiled, as written, into a scratch package that depends on this repository by
  path (`../quill`, as the README's manifest lines say), with one support file of stand-ins for what an
  example leaves to the reader (scripts/doc-examples/Support.swift). Whole examples become executables
  and are run in a throwaway QUILL_HOME. A block marked `<!-- example: fragment -->` is compiled inside a
  function body; `<!-- example: manifest -->` lines become the scratch package's own Package.swift
  lines; `<!-- example: compile -->` is compiled but not run.
- ```bash blocks are syntax-checked with `bash -n`, and every `quill …` command in them is checked
  against that command's --help (subcommand and options exist). A block marked `<!-- example: run -->`
  is also run against the built `quill`, with its own QUILL_HOME and port 8080 replaced by a free port.
- ```python blocks are compiled; `<!-- example: run -->` runs one under `quill run`.
- ```json blocks must parse.
- `quill …` code spans in the README's command tables are checked against --help like bash commands.

A marker may add `files=a,b` (empty files created in the example's working folder first) and
`expect=TEXT` (its standard output must contain TEXT).

Usage: check.py --repo DIR --quill PATH/TO/quill [--work DIR] [--no-build]
"""

import argparse
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile

MARKER = re.compile(r"^<!--\s*example:\s*(\S+)(.*?)-->\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")


class Block:
    def __init__(self, path, line, language, text, kind, attributes):
        self.path = path
        self.line = line
        self.language = language
        self.text = text
        self.kind = kind
        self.attributes = attributes

    @property
    def name(self):
        stem = os.path.splitext(os.path.basename(self.path))[0]
        return re.sub(r"[^A-Za-z0-9]", "_", stem) + f"_L{self.line}"

    def where(self):
        return f"{self.path}:{self.line}"


def parse_attributes(text):
    attributes = {}
    for match in re.finditer(r'(\w+)=("([^"]*)"|\S+)', text):
        attributes[match.group(1)] = match.group(3) if match.group(3) is not None else match.group(2)
    return attributes


def extract(path, relative):
    """The fenced blocks of a Markdown file, each with the example marker just above it (if any)."""
    blocks = []
    lines = open(path, encoding="utf-8").read().split("\n")
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        start = index
        language = fence.group(1)
        body = []
        index += 1
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        index += 1
        kind, attributes = "", {}
        above = start - 1
        while above >= 0 and lines[above].strip() == "":
            above -= 1
        if above >= 0:
            marker = MARKER.match(lines[above].strip())
            if marker:
                kind, attributes = marker.group(1), parse_attributes(marker.group(2))
        blocks.append(Block(relative, start + 1, language, "\n".join(body) + "\n", kind, attributes))
    return blocks


def code_spans(path, relative):
    """`quill …` code spans outside fenced blocks, with their line numbers."""
    spans = []
    inside = False
    for number, line in enumerate(open(path, encoding="utf-8"), start=1):
        if line.startswith("```"):
            inside = not inside
            continue
        if inside:
            continue
        for match in re.finditer(r"`(quill [^`]+)`", line):
            spans.append((f"{relative}:{number}", match.group(1).replace("\\|", "|")))
    return spans


class Checker:
    def __init__(self, repo, quill, work):
        self.repo = os.path.abspath(repo)
        self.quill = os.path.abspath(quill)
        self.work = os.path.abspath(work)
        self.failures = []
        self.checked = 0
        self.help_cache = {}

    def fail(self, where, message):
        self.failures.append(f"{where}: {message}")

    # --- quill commands -------------------------------------------------------------------------------

    def help_text(self, words):
        key = tuple(words)
        if key not in self.help_cache:
            # `quill help WORDS` prints help without running anything, whatever the command's arguments.
            with tempfile.TemporaryDirectory(prefix="quill-doc-help-") as home:
                result = subprocess.run(
                    [self.quill, "help"] + list(words), capture_output=True, text=True, timeout=60,
                    env=self.environment(home),
                )
            text = result.stdout + result.stderr
            default = re.search(r"^\s{2,}([a-z][a-z0-9-]*) \(default\)", text, re.MULTILINE)
            if result.returncode == 0 and default:
                # The options of a command group's default subcommand are the group's own.
                text += self.help_text(list(words) + [default.group(1)])[1]
            self.help_cache[key] = (result.returncode, text)
        return self.help_cache[key]

    def subcommands(self, words):
        status, text = self.help_text(words)
        names = set()
        if status != 0:
            return names
        section = text.split("SUBCOMMANDS:", 1)
        if len(section) == 2:
            for line in section[1].split("\n"):
                match = re.match(r"^  ([a-z][a-z0-9-]*)(\s|$)", line)
                if match:
                    names.add(match.group(1))
        return names

    def check_command(self, where, words, options):
        """`quill WORDS… --OPTIONS`: each subcommand word exists, and each option is in its --help."""
        path = []
        for word in words:
            if word in self.subcommands(path):
                path.append(word)
            elif self.subcommands(path):
                self.fail(where, f"`quill {' '.join(path + [word])}`: no such command")
                return
            else:
                break
        status, text = self.help_text(path)
        if status != 0:
            self.fail(where, f"`quill {' '.join(path)} --help` failed: {text.strip()[:200]}")
            return
        for option in options:
            if option in ("--help", "--version"):
                continue
            if not re.search(re.escape(option) + r"(?![a-z0-9-])", text):
                self.fail(where, f"`quill {' '.join(path)}` has no option {option}")
        self.checked += 1

    def check_shell_commands(self, block):
        text = re.sub(r"\\\n", " ", block.text)
        for number, line in enumerate(text.split("\n")):
            line = re.sub(r"(^|\s)#.*$", "", line)
            for part in re.split(r"&&|\|\||[|;&]", line):
                try:
                    tokens = shlex.split(part)
                except ValueError:
                    continue
                while tokens and re.match(r"^[A-Z_][A-Z0-9_]*=", tokens[0]):
                    tokens = tokens[1:]
                if not tokens or tokens[0] != "quill":
                    continue
                words = []
                for token in tokens[1:]:
                    if token.startswith("-"):
                        break
                    words.append(token)
                # What follows a bare `--` is the command quill runs (`quill submit -- python train.py --lr 0.1`).
                own = tokens[1 : tokens.index("--")] if "--" in tokens else tokens[1:]
                options = [token.split("=", 1)[0] for token in own if token.startswith("--")]
                self.check_command(f"{block.path}:{block.line + 1 + number}", words, options)

    def check_spans(self, spans):
        for where, span in spans:
            tokens = span.split()[1:]
            words = []
            for token in tokens:
                if not re.match(r"^[a-z][a-z0-9|-]*$", token):
                    break
                words.append(token)
            options = re.findall(r"--[a-z][a-z0-9-]*", span)
            alternatives = words[-1].split("|") if words else [""]
            for alternative in alternatives:
                chosen = words[:-1] + ([alternative] if alternative else [])
                # An option listed once for several subcommands must exist in at least one of them.
                self.check_command(where, chosen, options if len(alternatives) == 1 else [])
            if len(alternatives) > 1:
                for option in options:
                    if not any(
                        option in self.help_text(words[:-1] + [alternative])[1] for alternative in alternatives
                    ):
                        self.fail(where, f"no `quill {' '.join(words[:-1])} …` subcommand has {option}")

    # --- Swift -----------------------------------------------------------------------------------------

    def swift(self, blocks, build):
        manifest = [block for block in blocks if block.kind == "manifest"]
        wholes = [block for block in blocks if block.kind in ("", "run", "compile")]
        fragments = [block for block in blocks if block.kind == "fragment"]
        for block in blocks:
            if block.kind not in ("", "run", "compile", "fragment", "manifest", "skip"):
                self.fail(block.where(), f"unknown example marker '{block.kind}'")
        package_lines = [line.strip().rstrip(",") for b in manifest for line in b.text.split("\n")]
        dependencies = [line for line in package_lines if line.startswith(".package(")]
        products = [line for line in package_lines if line.startswith(".product(")]
        if not dependencies or not products:
            self.fail("README.md", "no `<!-- example: manifest -->` block with .package and .product lines")
            return
        root = os.path.join(self.work, "scratch")
        app = os.path.join(root, "app")
        os.makedirs(app, exist_ok=True)
        # `../quill` from the scratch package is this repository, as in the README's manifest lines.
        link = os.path.join(root, "quill")
        if os.path.islink(link) or os.path.exists(link):
            os.remove(link)
        os.symlink(self.repo, link)
        sources = os.path.join(app, "Sources")
        shutil.rmtree(sources, ignore_errors=True)
        support = open(os.path.join(self.repo, "scripts/doc-examples/Support.swift"), encoding="utf-8").read()
        extra = '.product(name: "QuillSteps", package: "quill")'
        targets = []
        for block in wholes:
            folder = os.path.join(sources, block.name)
            os.makedirs(folder)
            with open(os.path.join(folder, "main.swift"), "w", encoding="utf-8") as out:
                out.write(f"// {block.where()}\n{block.text}")
            with open(os.path.join(folder, "Support.swift"), "w", encoding="utf-8") as out:
                out.write(support)
            targets.append((block.name, "executableTarget"))
        if fragments:
            folder = os.path.join(sources, "Fragments")
            os.makedirs(folder)
            with open(os.path.join(folder, "Support.swift"), "w", encoding="utf-8") as out:
                out.write(support)
            for block in fragments:
                body = "\n".join("    " + line if line else "" for line in block.text.rstrip("\n").split("\n"))
                with open(os.path.join(folder, block.name + ".swift"), "w", encoding="utf-8") as out:
                    out.write(
                        f"// {block.where()}\nimport Foundation\nimport Quill\nimport QuillCore\nimport QuillSteps\n\n"
                        f"func example_{block.name}() async throws {{\n{body}\n}}\n"
                    )
            targets.append(("Fragments", "target"))
        deps = ", ".join(products + ([extra] if extra not in products else []) + [
            '.product(name: "QuillCore", package: "quill")'
        ])
        target_lines = "\n".join(
            f'        .{kind}(name: "{name}", dependencies: [{deps}]),' for name, kind in targets
        )
        dependency_lines = "\n".join(f"        {line}," for line in dependencies)
        with open(os.path.join(app, "Package.swift"), "w", encoding="utf-8") as out:
            out.write(
                "// swift-tools-version: 6.2\n// Generated by scripts/doc-examples/check.py from the documented examples.\n"
                "import PackageDescription\n\n"
                'let package = Package(\n    name: "doc-examples",\n    platforms: [.macOS(.v15)],\n'
                f"    dependencies: [\n{dependency_lines}\n    ],\n    targets: [\n{target_lines}\n    ]\n)\n"
            )
        resolved = os.path.join(self.repo, "Package.resolved")
        if os.path.exists(resolved):
            shutil.copyfile(resolved, os.path.join(app, "Package.resolved"))
        if not build:
            return
        print(f"==> compiling {len(wholes)} Swift example(s) and {len(fragments)} fragment(s) against the package", flush=True)
        result = subprocess.run(["swift", "build", "--package-path", app], capture_output=True, text=True)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            errors = [line for line in output.split("\n") if re.search(r"\.swift:\d+:\d+: error:", line)]
            for line in dict.fromkeys(errors) or [output[-2000:]]:
                self.failures.append(self.map_location(line, wholes + fragments))
            return
        self.checked += len(wholes) + len(fragments)
        binaries = subprocess.run(
            ["swift", "build", "--package-path", app, "--show-bin-path"], capture_output=True, text=True
        ).stdout.strip()
        for block in wholes:
            if block.kind != "compile":
                self.run_swift(block, os.path.join(binaries, block.name))

    def map_location(self, line, blocks):
        """A compiler error line, pointed at the Markdown line it came from."""
        for block in blocks:
            match = re.search(re.escape(block.name) + r"(?:/main)?\.swift:(\d+):", line)
            if match:
                # main.swift and fragment files start with a comment line (and a fragment with 5 more).
                offset = 1 if block.kind != "fragment" else 7
                markdown = block.line + int(match.group(1)) - offset
                return f"{block.path}:{markdown}: does not compile: {line.split('error:', 1)[-1].strip()}"
        return line

    def environment(self, home):
        environment = dict(os.environ)
        environment.update(
            {
                "QUILL_HOME": home,
                "QUILL_STEPS_ROOT": os.path.join(home, "steps"),
                "QUILL_CAPTURE_GIT": "0",
                "QUILL_CAPTURE_DEPS": "0",
                "QUILL_SYSTEM_METRICS_INTERVAL": "0",
                "QUILL_TRACKING_URI": "",
                "QUILL_RUN_DIR": "",
                "QUILL_RUN_ID": "",
                "QUILL_API_KEY": "",
                "QUILL_CREDENTIALS": os.path.join(home, "credentials.json"),
                "PATH": os.path.dirname(self.quill) + os.pathsep + os.environ.get("PATH", ""),
            }
        )
        return environment

    def prepare(self, block, folder):
        for name in filter(None, block.attributes.get("files", "").split(",")):
            path = os.path.join(folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()

    def expect_output(self, block, result):
        if result.returncode != 0:
            self.fail(block.where(), f"exited {result.returncode}: {(result.stderr or result.stdout).strip()[-800:]}")
            return False
        wanted = block.attributes.get("expect")
        if wanted and wanted not in result.stdout:
            self.fail(block.where(), f"output lacks '{wanted}': {result.stdout.strip()[-400:]}")
            return False
        return True

    def run_swift(self, block, binary):
        with tempfile.TemporaryDirectory(prefix="quill-doc-example-") as folder:
            self.prepare(block, folder)
            try:
                result = subprocess.run(
                    [binary], cwd=folder, env=self.environment(os.path.join(folder, "home")),
                    capture_output=True, text=True, timeout=120,
                )
            except subprocess.TimeoutExpired:
                self.fail(block.where(), "did not finish within 120 s")
                return
            if self.expect_output(block, result):
                self.checked += 1

    # --- shell, Python, JSON ---------------------------------------------------------------------------

    def bash(self, block):
        if block.kind not in ("", "run", "skip", "fragment"):
            self.fail(block.where(), f"unknown example marker '{block.kind}'")
        if block.kind == "skip":
            return
        result = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True)
        if result.returncode != 0:
            self.fail(block.where(), "bash -n: " + result.stderr.strip())
            return
        self.check_shell_commands(block)
        if block.kind != "run":
            return
        with tempfile.TemporaryDirectory(prefix="quill-doc-example-") as folder:
            self.prepare(block, folder)
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            script = (
                "set -euo pipefail\n"
                "trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT\n"
                + block.text.replace("8080", str(port))
            )
            try:
                result = subprocess.run(
                    ["bash", "-c", script], cwd=folder, env=self.environment(os.path.join(folder, "home")),
                    capture_output=True, text=True, timeout=180,
                )
            except subprocess.TimeoutExpired:
                self.fail(block.where(), "did not finish within 180 s")
                return
            if self.expect_output(block, result):
                self.checked += 1

    def python(self, block):
        if block.kind == "skip":
            return
        try:
            compile(block.text, block.where(), "exec")
        except SyntaxError as error:
            self.fail(block.where(), f"Python syntax: {error}")
            return
        self.checked += 1
        if block.kind != "run":
            return
        with tempfile.TemporaryDirectory(prefix="quill-doc-example-") as folder:
            self.prepare(block, folder)
            script = os.path.join(folder, "example.py")
            with open(script, "w", encoding="utf-8") as out:
                out.write(block.text)
            environment = self.environment(os.path.join(folder, "home"))
            result = subprocess.run(
                [self.quill, "run", "--name", "doc-example", "--", sys.executable, script],
                cwd=folder, env=environment, capture_output=True, text=True, timeout=120,
            )
            if not self.expect_output(block, result):
                return
            shown = subprocess.run(
                [self.quill, "show", "doc-example", "--json"], env=environment, capture_output=True, text=True
            )
            metrics = json.loads(shown.stdout or "{}").get("metrics", {})
            if not metrics or json.loads(shown.stdout).get("status") != "completed":
                self.fail(block.where(), f"the run logged no metrics or did not complete: {shown.stdout[-400:]}")

    def json_block(self, block):
        if block.kind in ("skip", "fragment"):
            return
        try:
            json.loads(block.text)
        except ValueError:
            # JSON lines: every line is a document of its own.
            for number, line in enumerate(block.text.strip().split("\n")):
                try:
                    json.loads(line)
                except ValueError as error:
                    self.fail(f"{block.path}:{block.line + 1 + number}", f"JSON: {error}")
                    return
        self.checked += 1

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=".")
    parser.add_argument("--quill", required=True, help="the built quill executable")
    parser.add_argument("--work", default=None, help="scratch folder (default: REPO/.build/doc-examples)")
    parser.add_argument("--no-build", action="store_true", help="generate the Swift package but do not build it")
    arguments = parser.parse_args()
    repo = os.path.abspath(arguments.repo)
    checker = Checker(repo, arguments.quill, arguments.work or os.path.join(repo, ".build/doc-examples"))
    files = ["README.md"] + sorted(
        os.path.join("Docs", name) for name in os.listdir(os.path.join(repo, "Docs")) if name.endswith(".md")
    )
    blocks, spans = [], []
    for relative in files:
        blocks += extract(os.path.join(repo, relative), relative)
        spans += code_spans(os.path.join(repo, relative), relative)
    for block in blocks:
        if block.language in ("bash", "sh", "shell"):
            checker.bash(block)
        elif block.language == "python":
            checker.python(block)
        elif block.language == "json":
            checker.json_block(block)
    checker.check_spans(spans)
    checker.swift([block for block in blocks if block.language == "swift"], build=not arguments.no_build)
    for failure in checker.failures:
        print(f"error: {failure}", file=sys.stderr)
    print(f"==> documented examples: {checker.checked} checked, {len(checker.failures)} failing")
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main())
