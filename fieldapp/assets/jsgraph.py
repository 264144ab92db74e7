"""The import graph of the PWA's ES modules, read from their source (no build step).

`module_imports(source)` finds a module's static imports (`import ... from './x.js'`,
`export ... from './x.js'`, `import './x.js'`) and its dynamic imports (`import('./x.js')`).
Comments, strings, template literals and regular-expression literals are skipped first,
so a JSDoc type such as `{import('./api.js').ApiError}` is not an import.

A dynamic import must name its module with a string literal: only then can the server
list it in the import map and the service worker cache it for offline use.
`NonLiteralImport` is raised otherwise, so a `import(variable)` fails the tests instead
of a phone offline.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

# After these tokens a `/` starts a regular expression, not a division.
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_AFTER_WORDS = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete",
                      "void", "throw", "instanceof", "yield", "await"}

_STATIC = re.compile(
    r"""(?:^|[;}\s])(?:import|export)\s*(?:[\w*${}\s,]+?\s*from\s*)?(['"])(?P<spec>[^'"\n]+)\1""")
_DYNAMIC = re.compile(r"""\bimport\s*\(\s*(?P<arg>[^)]*)\)""")
_LITERAL = re.compile(r"""^(['"])(?P<spec>[^'"\n]+)\1$""")


class NonLiteralImport(ValueError):
    """`import(expr)` whose module is not a string literal."""


@dataclass(frozen=True)
class ModuleImports:
    static: tuple[str, ...] = ()
    dynamic: tuple[str, ...] = ()


def strip_comments(source: str) -> str:
    """The code with comments blanked (newlines kept). Strings and regex literals stay."""
    out: list[str] = []
    i, n = 0, len(source)
    last = ""  # the last significant character or word outside comments
    while i < n:
        c = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            end = source.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif c == "/" and nxt == "*":
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", source[i:end]))
            i = end
        elif c in "'\"`":
            end = _string_end(source, i)
            out.append(source[i:end])
            last = c
            i = end
        elif c == "/" and (last == "" or last in _REGEX_AFTER or last in _REGEX_AFTER_WORDS):
            end = _regex_end(source, i)
            out.append(source[i:end])
            last = "/"
            i = end
        else:
            out.append(c)
            if not c.isspace():
                if c.isalnum() or c in "_$":
                    word_start = i
                    while i + 1 < n and (source[i + 1].isalnum() or source[i + 1] in "_$"):
                        i += 1
                        out.append(source[i])
                    last = source[word_start:i + 1]
                else:
                    last = c
            i += 1
    return "".join(out)


def _string_end(source: str, start: int) -> int:
    quote = source[start]
    i = start + 1
    depth = 0  # ${ ... } nesting inside a template literal
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if quote == "`":
            if c == "$" and source[i + 1:i + 2] == "{":
                depth += 1
                i += 2
                continue
            if c == "}" and depth:
                depth -= 1
            elif c == "`" and not depth:
                return i + 1
        elif c == quote or c == "\n":
            return i + 1
        i += 1
    return i


def _regex_end(source: str, start: int) -> int:
    i = start + 1
    in_class = False
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            return i
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "/":
            i += 1
            while i < len(source) and (source[i].isalpha()):
                i += 1
            return i
        i += 1
    return i


def module_imports(source: str) -> ModuleImports:
    code = strip_comments(source)
    static = [m.group("spec") for m in _STATIC.finditer(code)]
    dynamic = []
    for m in _DYNAMIC.finditer(code):
        literal = _LITERAL.match(m.group("arg").strip())
        if not literal:
            line = code.count("\n", 0, m.start()) + 1
            raise NonLiteralImport(f"line {line}: import({m.group('arg').strip()}) must name "
                                   "its module with a string literal")
        dynamic.append(literal.group("spec"))
    return ModuleImports(tuple(dict.fromkeys(static)), tuple(dict.fromkeys(dynamic)))


def resolve(importer: str, specifier: str) -> str | None:
    """The site path a relative or absolute specifier names ('/js/views/a.js' + '../b.js'
    -> '/js/b.js'); None for a bare or remote specifier."""
    if specifier.startswith("/"):
        return posixpath.normpath(specifier)
    if specifier.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
    return None


@dataclass
class ModuleGraph:
    """Edges between site paths ('/js/app.js'), static and dynamic."""
    static: dict[str, list[str]] = field(default_factory=dict)
    dynamic: dict[str, list[str]] = field(default_factory=dict)

    def closure(self, roots: list[str] | tuple[str, ...]) -> list[str]:
        """Every module the roots load statically (roots included), depth first."""
        seen: dict[str, None] = {}
        stack = list(reversed(roots))
        while stack:
            path = stack.pop()
            if path in seen:
                continue
            seen[path] = None
            stack.extend(reversed(self.static.get(path, [])))
        return list(seen)

    def lazy_entries(self) -> list[str]:
        """Modules that some module loads with import(), in a stable order."""
        found: dict[str, None] = {}
        for importer in sorted(self.dynamic):
            for target in self.dynamic[importer]:
                found[target] = None
        return list(found)


def build_graph(sources: dict[str, str]) -> ModuleGraph:
    """`sources` maps site paths to module source text. Imports of modules that are not
    in `sources` raise KeyError: a typo must not ship."""
    graph = ModuleGraph()
    for path, text in sources.items():
        try:
            found = module_imports(text)
        except NonLiteralImport as exc:
            raise NonLiteralImport(f"{path} {exc}") from None
        for kind, specs in (("static", found.static), ("dynamic", found.dynamic)):
            targets = []
            for spec in specs:
                target = resolve(path, spec)
                if target is None:
                    continue
                if target not in sources:
                    raise KeyError(f"{path} imports {spec}: no such module ({target})")
                targets.append(target)
            getattr(graph, kind)[path] = targets
    return graph
