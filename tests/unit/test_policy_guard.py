"""The policy is the only place that decides (fieldapp/policy.py), and there is no None actor.

An AST scan of the code base:
- no role comparison (`x.role == "admin"`, `role in ("admin", "county_staff")`) and no tuple
  of role names outside policy.py and the models (which merely store roles);
- none of the old deciders (`login_required_roles`, `require_county`, `STAFF_ROLES`, ...);
- services take a non-optional actor and never ask `actor is None`, and no call anywhere
  (code, tests, benches) passes `None` as the actor;
- templates ask `can(...)`, never `current_user.role`;
- every verb named in the code exists, and the role -> verb tables of policy.py's docstring
  and docs/architecture.md say what ROLE_VERBS grants.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from fieldapp import policy
from fieldapp.models import ROLES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fieldapp"
ALLOWED = {PACKAGE / "policy.py"} | set((PACKAGE / "models").rglob("*.py"))
ACTOR_NAMES = {"actor", "user"}
OLD_DECIDERS = {"login_required_roles", "require_role", "require_county", "require_cycle",
                "require_village", "require_village_draw", "require_account_manager",
                "require_account_creation", "require_poster_access", "require_secretary_access",
                "authorize_meeting", "authorize_cycle_write", "scoped", "STAFF_ROLES", "STAFF",
                "READERS"}


def _files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py") if ".venv" not in p.parts)


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_role(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in ROLES


def _role_collection(node: ast.AST) -> bool:
    return (isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts
            and all(_is_role(e) for e in node.elts))


def role_rules(path: Path) -> list[str]:
    """Role comparisons and role tuples in one file."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            # a role name compared with something that holds a role (not e.g. a level)
            if any(_is_role(s) or _role_collection(s) for s in sides) and any(
                    "role" in ast.unparse(s) for s in sides if not _is_role(s)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None \
                and _role_collection(node.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Name) and node.id in OLD_DECIDERS:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in OLD_DECIDERS:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_role_rule_outside_the_policy():
    found = [hit for path in _files(PACKAGE) if path not in ALLOWED for hit in role_rules(path)]
    assert not found, "decide in fieldapp/policy.py:\n" + "\n".join(found)


def test_the_scan_finds_role_rules(tmp_path):
    """The scan itself: each kind of rule it must catch, in a scratch file."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        'if user.role == "admin": pass\n'
        'ok = actor.role in ("admin", "county_staff")\n'
        'STAFF_ROLES = ("admin", "county_staff")\n'
        '@login_required_roles("evaluator")\ndef f(): pass\n'
        'if entry.role == "sample": pass\n'
        'if level == "secretary": pass\n', encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        hits = role_rules(sample)
    finally:
        ROOT = saved
    assert len(hits) == 5, hits  # 4 role rules (+ the STAFF_ROLES name)
    assert not any("entry.role" in h or "level" in h for h in hits)


def _optional(annotation: ast.AST | None) -> bool:
    if annotation is None:
        return False
    text = ast.unparse(annotation)
    return "None" in text or text.startswith("Optional")


def _optional_actor(node: ast.AST) -> list[str]:
    """Parameters named actor/user that may be None (annotation or default)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    positional = node.args.posonlyargs + node.args.args
    defaults = [None] * (len(positional) - len(node.args.defaults)) + list(node.args.defaults)
    pairs = list(zip(positional, defaults)) + list(zip(node.args.kwonlyargs, node.args.kw_defaults))
    return [f"{node.name}({arg.arg}: {ast.unparse(arg.annotation or arg)})"
            for arg, default in pairs if arg.arg in ACTOR_NAMES and (
                _optional(arg.annotation)
                or (isinstance(default, ast.Constant) and default.value is None))]


def _asks_for_no_actor(node: ast.AST) -> bool:
    """`actor is None`, `user is not None`, `x if actor else y`."""
    if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name):
        return node.left.id in ACTOR_NAMES and any(
            isinstance(c, ast.Constant) and c.value is None for c in node.comparators)
    return isinstance(node, ast.IfExp) and isinstance(node.test, ast.Name) \
        and node.test.id in ACTOR_NAMES


def test_services_take_a_real_actor():
    problems = []
    for path in _files(PACKAGE / "services") + [PACKAGE / "audit.py"]:
        for node in ast.walk(_tree(path)):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            problems += [f"{where}: {hit}" for hit in _optional_actor(node)]
            if path.name != "audit.py" and _asks_for_no_actor(node):  # audit.py refuses None
                problems.append(f"{where}: {ast.unparse(node)}")
    assert not problems, "\n".join(problems)


def _actor_functions() -> set[str]:
    """Functions of fieldapp whose first parameter is the acting user."""
    names = set()
    for path in _files(PACKAGE):
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = node.args.posonlyargs + node.args.args
                if params and params[0].arg in ACTOR_NAMES | {"viewer", "me"}:
                    names.add(node.name)
    return names


def test_no_call_passes_none_as_the_actor():
    functions = _actor_functions()
    assert {"run_draw", "create_user", "finalise", "import_roster"} <= functions
    problems = []
    for path in _files(PACKAGE, ROOT / "tests", ROOT / "bench"):
        if path == Path(__file__):  # this file asks for the TypeError on purpose
            continue
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", None)
            none_first = (node.args and isinstance(node.args[0], ast.Constant)
                          and node.args[0].value is None and name in functions)
            none_kw = any(k.arg in ACTOR_NAMES and isinstance(k.value, ast.Constant)
                          and k.value.value is None for k in node.keywords)
            if none_first or none_kw:
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not problems, "use fieldapp.policy.SYSTEM:\n" + "\n".join(problems)


def test_templates_ask_the_policy():
    found = [f"{p.relative_to(ROOT)}: {line.strip()}"
             for p in sorted((PACKAGE / "templates").rglob("*.html"))
             for line in p.read_text(encoding="utf-8").splitlines()
             if "current_user.role" in line]
    assert not found, found


VERB_CALLS = {"can", "authorize", "scope", "requires", "roles_with", "check_scope"}


def test_every_verb_named_exists():
    unknown = []
    for path in _files(PACKAGE):
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", None)
            candidates = []
            if name in VERB_CALLS:
                candidates = [a for a in node.args if isinstance(a, ast.Constant)
                              and isinstance(a.value, str)]
            candidates += [k.value for k in node.keywords if k.arg == "verb"
                           and isinstance(k.value, ast.Constant)]
            for c in candidates:
                if re.fullmatch(r"[a-z_]+", c.value) and c.value not in policy.VERBS \
                        and c.value not in ROLES:
                    unknown.append(f"{path.relative_to(ROOT)}:{node.lineno}: {c.value}")
    assert not unknown, unknown


def _table(text: str) -> dict[str, set[str]]:
    """`| verb | admin | county_staff | evaluator | secretary |` rows -> {verb: roles}."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in policy.VERBS:
            rows[cells[0]] = {role for role, cell in zip(
                ("admin", "county_staff", "evaluator", "secretary"), cells[1:]) if cell}
    return rows


@pytest.mark.parametrize("where", ["policy.py", "docs/architecture.md"])
def test_role_verb_table_is_what_the_policy_grants(where):
    text = (PACKAGE / where).read_text(encoding="utf-8") if where == "policy.py" else \
        (ROOT / where).read_text(encoding="utf-8")
    granted = {verb: {r for r, verbs in policy.ROLE_VERBS.items() if verb in verbs}
               for verb in policy.VERBS}
    assert _table(text) == granted


def test_no_actor_is_an_error_not_a_pass():
    with pytest.raises(TypeError):
        policy.can(None, "read_self")
    with pytest.raises(TypeError):
        policy.authorize(None, "draw")
    with pytest.raises(ValueError):
        policy.can(policy.SYSTEM, "no_such_verb")
    assert policy.can(policy.SYSTEM, "void_draw", policy.CITY)
    assert not policy.can(policy.SYSTEM, "read_tasks")  # the system does no field work
