"""Read the Dockerfile, .dockerignore and Jenkinsfile the way the delivery tests need them.

Small parsers, not full grammars: enough for the files this repository commits, and they fail
loudly on a construct they do not understand rather than guess.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

# --- Dockerfile and .dockerignore --------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    arguments: str


def dockerfile_instructions(*, dockerfile: Path) -> list[Instruction]:
    """Return the Dockerfile's instructions with continuation lines joined."""
    instructions: list[Instruction] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append(Instruction(keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def final_stage(*, dockerfile: Path) -> list[Instruction]:
    """Return the instructions of the Dockerfile's last stage, its FROM first."""
    instructions = dockerfile_instructions(dockerfile=dockerfile)
    last_from = max(i for i, ins in enumerate(instructions) if ins.keyword == "FROM")
    return instructions[last_from:]


def copied_sources(*, dockerfile: Path) -> list[str]:
    """Return the build-context paths the Dockerfile copies (not those from other stages)."""
    sources = []
    for ins in dockerfile_instructions(dockerfile=dockerfile):
        if ins.keyword not in {"COPY", "ADD"} or "--from=" in ins.arguments:
            continue
        words = [word for word in ins.arguments.split() if not word.startswith("--")]
        sources += words[:-1]
    return sources


def dockerignore_excludes(*, dockerignore: Path, path: str) -> bool:
    """Return whether .dockerignore keeps path (or a folder above it) out of the context."""
    patterns = [
        line.strip()
        for line in dockerignore.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            excluded = not negated
    return excluded


# --- Jenkinsfile (declarative Groovy) ----------------------------------------------------------


@dataclass
class Block:
    """A `header { ... }` block of Groovy: its statements and nested blocks, in order."""

    header: str
    items: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return re.match(r"\w*", self.header).group()

    def blocks(self, name: str) -> list["Block"]:
        return [item for item in self.items if isinstance(item, Block) and item.name == name]

    def block(self, name: str) -> "Block":
        (found,) = self.blocks(name)
        return found

    def statements(self) -> list[str]:
        return [item for item in self.items if isinstance(item, str)]

    def text(self) -> str:
        """Return every statement and nested header below this block, one a line."""
        return "\n".join(
            item if isinstance(item, str) else f"{item.header}\n{item.text()}"
            for item in self.items
        )

    @property
    def stage_name(self) -> str:
        return re.fullmatch(r"stage\s*\(\s*'([^']+)'\s*\)", self.header).group(1)

    def stages(self) -> list["Block"]:
        stages = self.blocks("stages")
        return stages[0].blocks("stage") if stages else []


def string_end(source: str, start: int) -> int:
    """Return the index just past the Groovy string literal that begins at start."""
    quote = (
        source[start : start + 3] if source[start : start + 3] in ("'''", '"""') else source[start]
    )
    index = start + len(quote)
    while not source.startswith(quote, index):
        index += 2 if source[index] == "\\" else 1
    return index + len(quote)


def parse_groovy(*, source: str) -> Block:
    """Parse Groovy into nested blocks; enough for a declarative Jenkinsfile."""
    root = Block("")
    stack = [root]
    statement: list[str] = []
    depth = 0

    def flush() -> None:
        text = " ".join("".join(statement).split())
        if text:
            stack[-1].items.append(text)
        statement.clear()

    index = 0
    while index < len(source):
        char = source[index]
        if source.startswith("//", index):
            index = source.find("\n", index)
            index = len(source) if index == -1 else index
            continue
        if source.startswith("/*", index):
            index = source.index("*/", index) + 2
            continue
        if char in "'\"":
            end = string_end(source, index)
            statement.append(source[index:end])
            index = end
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "{" and depth == 0:
            block = Block(" ".join("".join(statement).split()))
            statement.clear()
            stack[-1].items.append(block)
            stack.append(block)
        elif char == "}" and depth == 0:
            flush()
            stack.pop()
        elif char in "\n;" and depth == 0:
            flush()
        else:
            statement.append(char)
        index += 1
    flush()
    assert len(stack) == 1, "unbalanced braces in the Jenkinsfile"
    return root


def ant_glob_matches(pattern: str, value: str) -> bool:
    """Match like Jenkins' GLOB comparator: `*` stays within a path segment, `**` crosses."""
    regex = re.escape(pattern).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")
    return re.fullmatch(regex, value) is not None


def condition_results(items: list, *, branch: str) -> list[bool]:
    """Evaluate each condition of a `when` (or anyOf/allOf/not) body on branch."""
    results = []
    for item in items:
        if isinstance(item, Block):
            inner = condition_results(item.items, branch=branch)
            combine = {"anyOf": any, "allOf": all, "not": lambda r: not all(r)}[item.name]
            results.append(combine(inner))
            continue
        if re.match(r"before(Agent|Input|Options)\s+true$", item):
            continue
        match = re.fullmatch(
            r"branch\s+(?:pattern:\s*)?'([^']+)'(?:\s*,\s*comparator:\s*'(\w+)')?", item
        )
        assert match, f"the test does not understand the condition {item!r}"
        pattern, comparator = match.group(1), match.group(2) or "GLOB"
        if comparator == "REGEXP":
            results.append(re.fullmatch(pattern, branch) is not None)
        elif comparator == "EQUALS":
            results.append(pattern == branch)
        else:
            results.append(ant_glob_matches(pattern, branch))
    return results


def runs_on(stage: Block, *, branch: str) -> bool:
    """Return whether the stage's `when` lets it run on branch."""
    whens = stage.blocks("when")
    return not whens or all(condition_results(whens[0].items, branch=branch))
