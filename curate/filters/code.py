"""Python answers: the final answer's ```python blocks parse, and their imports obey allow/deny lists."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from datatrove.data import Document

from curate.documents import final_answer
from curate.filters.base import Failure, SampleCheck
from curate.schema import Sample

_FENCE_RE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)
PYTHON_TAGS = ("python", "py", "python3")


@dataclass
class PythonCodeSettings:
    require_code: bool = True  # the final answer contains at least one Python block
    untagged_as_python: bool = False  # treat ``` blocks without a language tag as Python
    allowed_imports: list[str] | None = None  # top-level modules; None allows any
    denied_imports: list[str] | None = None


def python_blocks(text: str, untagged_as_python: bool = False) -> list[str]:
    tags = PYTHON_TAGS + (("",) if untagged_as_python else ())
    return [body for tag, body in _FENCE_RE.findall(text) if tag.lower() in tags]


def imported_modules(tree: ast.AST) -> set[str]:
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


class PythonCodeCheck(SampleCheck):
    key = "python_code"
    name = "🐍 python code"
    Settings = PythonCodeSettings

    def check(self, sample: Sample, doc: Document, settings: PythonCodeSettings) -> Failure | None:
        blocks = python_blocks(final_answer(sample), settings.untagged_as_python)
        if not blocks:
            return ("no_code_block", "the final answer has no ```python block") if settings.require_code else None
        for k, code in enumerate(blocks):
            try:
                tree = ast.parse(code)
            except (SyntaxError, ValueError) as e:
                return "syntax_error", f"block {k}: {getattr(e, 'msg', e)} (line {getattr(e, 'lineno', '?')})"
            modules = imported_modules(tree)
            if settings.denied_imports and (bad := sorted(modules & set(settings.denied_imports))):
                return "denied_import", f"block {k} imports {', '.join(bad)}"
            if settings.allowed_imports is not None and (bad := sorted(modules - set(settings.allowed_imports))):
                return "import_not_allowed", f"block {k} imports {', '.join(bad)}"
        return None
