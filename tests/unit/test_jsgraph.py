"""The PWA's import graph as the server reads it (fieldapp/assets/jsgraph.py).

The generated modulepreload list, import map and precache depend on it; the browser test
(tests/browser/test_fast_shell_browser.py) checks the same lists against what Chromium
really fetches.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.assets.jsgraph import (NonLiteralImport, build_graph, module_imports, resolve,
                                     strip_comments)

PWA = Path(__file__).resolve().parents[2] / "pwa"


def test_static_imports_in_every_form():
    found = module_imports("""
import * as db from './db.js';
import { a,
  b as c,
} from "../x.js";
import def, { e } from './def.js';
import './side-effect.js';
export { f } from './re-export.js';
export * from './all.js';
const s = 'import x from "./not-a-module.js"'.length;
""")
    assert found.static == ("./db.js", "../x.js", "./def.js", "./side-effect.js",
                            "./re-export.js", "./all.js")
    assert found.dynamic == ()


def test_comments_are_not_imports_but_strings_and_regexes_survive():
    source = """
/** @param {import('./router.js').Route} route  @returns {import('../dom.js').SafeHTML} */
// import('./commented.js')
const url = 'https://example.org/*not a comment*/';
const re = /[/'"]\\/\\/x/g;  // a regex with quotes and slashes
const half = total / 2 / 3; // division, not a regex
const tpl = `a ${b ? '}' : `nested ${c}`} // still template`;
const later = () => import('./views/later.js');
"""
    code = strip_comments(source)
    assert "./router.js" not in code and "commented" not in code
    assert "'https://example.org/*not a comment*/'" in code
    assert "/[/'\"]\\/\\/x/g" in code
    assert "// still template" in code
    assert module_imports(source).dynamic == ("./views/later.js",)
    assert module_imports(source).static == ()


def test_a_dynamic_import_must_name_its_module_literally():
    with pytest.raises(NonLiteralImport, match="line 2"):
        module_imports("const lang = 'en';\nconst m = import(`./i18n/${lang}.js`);\n")
    with pytest.raises(NonLiteralImport):
        module_imports("const m = import(name);")


def test_resolve_relative_and_absolute_specifiers():
    assert resolve("/js/views/visit.js", "../dom.js") == "/js/dom.js"
    assert resolve("/js/app.js", "./views/visit.js") == "/js/views/visit.js"
    assert resolve("/js/app.js", "/js/db.js") == "/js/db.js"
    assert resolve("/js/app.js", "leaflet") is None


def test_graph_closure_and_lazy_entries():
    graph = build_graph({
        "/js/app.js": "import './a.js';\nconst v = () => import('./views/v.js');",
        "/js/a.js": "import './b.js';",
        "/js/b.js": "import './a.js';",  # a cycle is fine
        "/js/views/v.js": "import '../b.js';\nimport '../c.js';",
        "/js/c.js": "",
    })
    assert graph.closure(["/js/app.js"]) == ["/js/app.js", "/js/a.js", "/js/b.js"]
    assert graph.lazy_entries() == ["/js/views/v.js"]
    assert graph.closure(["/js/views/v.js"]) == ["/js/views/v.js", "/js/b.js", "/js/a.js",
                                                 "/js/c.js"]


def test_an_import_of_a_missing_module_is_an_error():
    with pytest.raises(KeyError, match="typo.js"):
        build_graph({"/js/app.js": "import './typo.js';"})


def test_the_real_app_loads_role_screens_and_english_lazily():
    sources = {f"/{p.relative_to(PWA).as_posix()}": p.read_text(encoding="utf-8")
               for p in (PWA / "js").rglob("*.js")}
    graph = build_graph(sources)
    start = set(graph.closure(["/js/app.js"]))
    lazy = set(graph.lazy_entries())
    role_screens = {"/js/views/visit.js", "/js/views/checkin.js", "/js/views/tasks.js",
                    "/js/views/village.js"}
    assert role_screens <= lazy
    assert "/js/i18n/en.js" in lazy
    assert not (role_screens | {"/js/i18n/en.js"}) & start
    assert {"/js/views/login.js", "/js/i18n/zh-Hans.js", "/js/views/header.js"} <= start
    # What only a role needs stays out of the start: the check-in view's and the visit
    # form's own helpers.
    assert not {"/js/geo.js", "/js/validate.js", "/js/views/common.js"} & start
