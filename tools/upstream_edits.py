# Copyright 2026 Huawei Technologies Co., Ltd
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
# http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
# ============================================================================
"""Text edits that ``export_upstream.py`` makes to upstream MindFlow's own files.

Each function takes upstream's text (and, where needed, this project's) and returns the new text
together with what it did, so the caller can report a change or see that it was already applied:
every edit is idempotent. Upstream's formatting is kept: names are inserted into existing
``__all__`` literals and autosummary lists in their style, and nothing else on those lines moves.
"""
import ast
import bisect
import fnmatch
import os
import posixpath
import re

MAX_LINE = 120


class EditError(ValueError):
    """An upstream file does not have the shape an edit needs."""


def _line_starts(text):
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _offset(text, starts, lineno, col):
    """Character offset of an ast position (``col`` counts UTF-8 bytes)."""
    line_start = starts[lineno - 1]
    line_end = text.find("\n", line_start)
    line = text[line_start:] if line_end < 0 else text[line_start:line_end]
    return line_start + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def _line_at(text, offset):
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start:] if end < 0 else text[start:end]


def _indent_of(text, starts, lineno):
    line = text[starts[lineno - 1]:].split("\n", 1)[0]
    return line[:len(line) - len(line.lstrip())]


def _parse(text, what):
    try:
        return ast.parse(text)
    except SyntaxError as error:
        raise EditError(f"{what} is not valid Python: {error}") from error


def _is_all_target(node):
    return isinstance(node, ast.Name) and node.id == "__all__"


def _all_literal(tree):
    """The module-level ``__all__ = [...]`` list (or tuple) of strings, or None."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(_is_all_target(t) for t in node.targets):
            value = node.value
            if isinstance(value, (ast.List, ast.Tuple)) and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts):
                return value
    return None


def exported_names(text):
    """Names a module lists in ``__all__``: its literal plus constant ``append``/``extend``/``+=``."""
    tree = _parse(text, "module")
    names = []
    literal = _all_literal(tree)
    if literal is not None:
        names.extend(e.value for e in literal.elts)
    for node in tree.body:
        value = None
        if isinstance(node, ast.AugAssign) and _is_all_target(node.target):
            value = node.value
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and _is_all_target(func.value) and node.value.args:
                if func.attr == "append":
                    value = ast.List(elts=[node.value.args[0]])
                elif func.attr == "extend":
                    value = node.value.args[0]
        if isinstance(value, (ast.List, ast.Tuple)):
            names.extend(e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return names


def _sorts_all_later(tree):
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and _is_all_target(func.value) and func.attr == "sort":
                return True
    return False


def _insert_into_literal(text, literal, name):
    """Insert ``name`` into the ``__all__`` literal; return (text, where)."""
    starts = _line_starts(text)
    elts = literal.elts
    if not elts:
        begin = _offset(text, starts, literal.lineno, literal.col_offset)
        end = _offset(text, starts, literal.end_lineno, literal.end_col_offset)
        opening, closing = ("[", "]") if isinstance(literal, ast.List) else ("(", ",)")
        return text[:begin] + f'{opening}"{name}"{closing}' + text[end:], "the empty __all__"
    values = [e.value for e in elts]
    first = ast.get_source_segment(text, elts[0]) or '"'
    quote = first[0] if first[0] in "'\"" else '"'
    item = f"{quote}{name}{quote}"
    one_per_line = len(elts) > 1 and len({e.lineno for e in elts}) == len(elts)
    if one_per_line:
        continuation = _indent_of(text, starts, elts[1].lineno)
    else:
        later = [e for e in elts if e.lineno != elts[0].lineno]
        continuation = (_indent_of(text, starts, later[0].lineno) if later
                        else " " * len(_line_at(text, _offset(text, starts, elts[0].lineno,
                                                              elts[0].col_offset))[:elts[0].col_offset]))
    index = None
    for key, order in ((str, "sorted"), (str.lower, "sorted (case-insensitive)")):
        keys = [key(value) for value in values]
        if keys == sorted(keys):
            index = bisect.bisect(keys, key(name))
            where = f"{order} position {index}"
            break
    if index is None:
        index = len(values)
        where = "the end (upstream sorts it at import)" if _sorts_all_later(_parse(text, "module")) \
            else "the end (upstream's list is not sorted)"
    if index < len(elts):
        target = elts[index]
        pos = _offset(text, starts, target.lineno, target.col_offset)
        new = f"{item},\n{continuation}" if one_per_line else f"{item}, "
        candidate = text[:pos] + new + text[pos:]
        if not one_per_line and len(_line_at(candidate, pos)) > MAX_LINE:
            new = f"{item},\n{' ' * len(_line_at(text, pos)[:target.col_offset])}"
            candidate = text[:pos] + new + text[pos:]
    else:
        target = elts[-1]
        pos = _offset(text, starts, target.end_lineno, target.end_col_offset)
        new = f",\n{continuation}{item}" if one_per_line else f", {item}"
        candidate = text[:pos] + new + text[pos:]
        if not one_per_line and len(_line_at(candidate, pos)) > MAX_LINE:
            candidate = text[:pos] + f",\n{continuation}{item}" + text[pos:]
    return candidate, where


def add_to_all(text, name):
    """Add ``name`` to the module's ``__all__``; return (text, note) with note None if it was there."""
    if name in exported_names(text):
        return text, None
    tree = _parse(text, "module")
    literal = _all_literal(tree)
    if literal is not None:
        text, where = _insert_into_literal(text, literal, name)
        return text, f"added {name!r} to __all__ at {where}"
    if any(isinstance(n, ast.Assign) and any(_is_all_target(t) for t in n.targets) for n in tree.body):
        return text.rstrip("\n") + f'\n__all__.append("{name}")\n', f"appended {name!r} to __all__"
    return text.rstrip("\n") + f'\n\n__all__ = ["{name}"]\n', f"created __all__ = [{name!r}]"


def _bound_names(node):
    for alias in node.names:
        yield alias.asname or alias.name.split(".")[0]


def _imported_from(tree, module, level):
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == level:
            names.update(_bound_names(node))
    return names


def _split_relative(module):
    stripped = module.lstrip(".")
    return stripped, len(module) - len(stripped)


def _insertion_line(tree):
    """Line after which a new import goes: the last relative import, else any import, else the docstring."""
    relative = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level]
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    for group in (relative, imports):
        if group:
            return group[-1].end_lineno
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[0].end_lineno
    return 0


def _insert_lines_after(text, lineno, new_lines):
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines[lineno:lineno] = [line + "\n" for line in new_lines]
    return "".join(lines)


def ensure_import(text, module, names):
    """Make ``from <module> import <names>`` hold at module level; return (text, added names)."""
    tree = _parse(text, "module")
    plain, level = _split_relative(module)
    missing = [n for n in names if n not in _imported_from(tree, plain, level)]
    if not missing:
        return text, []
    line = f"from {module} import {', '.join(missing)}"
    return _insert_lines_after(text, _insertion_line(tree), [line]), missing


def register(text, module, names):
    """Import ``names`` from ``module`` in a package ``__init__`` and list them in ``__all__``."""
    text, imported = ensure_import(text, module, names)
    notes = [f"added 'from {module} import {', '.join(imported)}'"] if imported else []
    for name in names:
        text, note = add_to_all(text, name)
        if note:
            notes.append(note)
    return text, notes


def _names_used(nodes):
    used = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                used.add(sub.id)
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                used.add(sub.value)
    return used


def _is_docstring(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_all_statement(node):
    if isinstance(node, ast.Assign):
        return any(_is_all_target(t) for t in node.targets)
    if isinstance(node, ast.AugAssign):
        return _is_all_target(node.target)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return isinstance(func, ast.Attribute) and _is_all_target(func.value)
    return False


def replace_class_with_alias(upstream, alias_module, class_name):
    """Replace upstream's ``class <class_name>`` with this project's alias import.

    ``alias_module`` is this project's module text (e.g. ``core/optimizers.py``), whose imports of
    ``class_name`` make the alias. If upstream's module holds nothing but that class (and imports,
    docstring, ``__all__``), it becomes ``alias_module`` whole; otherwise only the class goes, with
    the imports that nothing else uses, and the alias import takes its place, so upstream's other
    contents stay. Returns (text, note) with note None when upstream already is the alias.
    """
    tree = _parse(upstream, "upstream module")
    alias_tree = _parse(alias_module, "this project's alias module")
    alias_imports = [n for n in alias_tree.body if isinstance(n, ast.ImportFrom) and class_name in _bound_names(n)]
    if not alias_imports:
        raise EditError(f"this project's alias module does not import {class_name}")
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    if not classes:
        if class_name in {name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                          for name in _bound_names(n)}:
            return upstream, None
        raise EditError(f"upstream module defines no class {class_name} to replace")
    klass = classes[0]
    others = [n for n in tree.body if n is not klass and not _is_docstring(n)
              and not isinstance(n, (ast.Import, ast.ImportFrom)) and not _is_all_statement(n)]
    if not others:
        note = f"replaced the module (only class {class_name}) with this project's alias"
        return (upstream, None) if upstream == alias_module else (alias_module, note)
    used_elsewhere = _names_used(n for n in tree.body if n is not klass
                                 and not isinstance(n, (ast.Import, ast.ImportFrom)))
    used_by_class = _names_used([klass])
    drop = [klass]
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = set(_bound_names(node))
            if bound & used_by_class and not bound & used_elsewhere:
                drop.append(node)
    lines = upstream.splitlines(keepends=True)
    removed = set()
    for node in drop:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        removed.update(range(first - 1, node.end_lineno))
    kept = [line for index, line in enumerate(lines) if index not in removed]
    text = re.sub(r"\n{4,}", "\n\n\n", "".join(kept))
    alias_lines = [ast.get_source_segment(alias_module, n) for n in alias_imports]
    text = _insert_lines_after(text, _insertion_line(_parse(text, "edited module")), alias_lines)
    text = re.sub(r"\n{4,}", "\n\n\n", text).rstrip("\n") + "\n"
    if _all_literal(_parse(text, "edited module")) is not None:
        text, _ = add_to_all(text, class_name)
    dropped = [ast.get_source_segment(upstream, n) for n in drop[1:]]
    note = f"replaced class {class_name} by '{'; '.join(alias_lines)}', keeping upstream's other contents"
    if dropped:
        note += f" (dropped imports only the class used: {'; '.join(dropped)})"
    return text, note


_DIRECTIVE = re.compile(r"^\.\. (\S*(?:autosummary|toctree))::")


def index_entries(text):
    """Entries of the first autosummary/toctree directive: (directive, entries, entry line indices)."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if not match:
            continue
        entries, indices = [], []
        for index in range(start + 1, len(lines)):
            body = lines[index]
            if body.strip() and not body[0].isspace():
                break
            stripped = body.strip()
            if stripped and not stripped.startswith(":"):
                entries.append(stripped)
                indices.append(index)
        return match.group(1), entries, indices
    return None, [], []


def merge_index(upstream, ours, package):
    """Add this project's entries of an API index page to upstream's (autosummary list of names).

    ``package`` is the page's package (``mindflow.cell``); only entries naming an object directly in
    it are merged (upstream's class template renders those), others are returned as skipped.
    Returns (text, added, skipped).
    """
    _, our_entries, _ = index_entries(ours)
    _, entries, indices = index_entries(upstream)
    if not indices:
        raise EditError("upstream index page has no autosummary/toctree directive")
    wanted, skipped = [], []
    for entry in our_entries:
        name = posixpath.basename(entry)
        if name.startswith(package + ".") and "." not in name[len(package) + 1:]:
            wanted.append(name)
        else:
            skipped.append(name)
    lines = upstream.splitlines(keepends=True)
    added = []
    existing = [posixpath.basename(e) for e in entries]
    prefix = posixpath.dirname(entries[0]) if entries else ""
    indent = lines[indices[0]][:len(lines[indices[0]]) - len(lines[indices[0]].lstrip())]
    for name in wanted:
        if name in existing:
            continue
        position = next((i for i, e in enumerate(existing) if e.lower() > name.lower()), len(existing))
        entry = posixpath.join(prefix, name) if prefix else name
        if position < len(indices):
            line_index = indices[position]
            lines.insert(line_index, f"{indent}{entry}\n")
        else:
            line_index = indices[-1] + 1
            if not lines[indices[-1]].endswith("\n"):
                lines[indices[-1]] += "\n"
                lines.insert(line_index, f"{indent}{entry}")
            else:
                lines.insert(line_index, f"{indent}{entry}\n")
        existing.insert(position, name)
        indices.insert(position, line_index)
        indices = indices[:position + 1] + [i + 1 for i in indices[position + 1:]]
        added.append(name)
    return "".join(lines), added, skipped


def _sections(text):
    """Lines of a Markdown file from its first level-2 heading on."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("## "):
            return lines[index:]
    return []


def prepend_release(upstream, ours):
    """Put this project's release sections before upstream's first release section.

    Returns (text, heading) where heading is None if upstream already has our first section.
    """
    entry = _sections(ours)
    if not entry:
        raise EditError("this project's release notes have no '## ' section")
    heading = entry[0]
    lines = upstream.splitlines()
    if heading in lines:
        return upstream, None
    while entry and not entry[-1].strip():
        entry.pop()
    position = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    before = lines[:position]
    while before and not before[-1].strip():
        before.pop()
    after = lines[position:]
    merged = before + [""] + entry + ([""] + after if after else [])
    return "\n".join(merged).rstrip("\n") + "\n", heading


_INLINE_LINK = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
_REFERENCE_LINK = re.compile(r"^(\s*\[[^\]]+\]:\s*)(\S+)", re.MULTILINE)


def relink_markdown(text, source_file, target_file, map_path):
    """Rewrite relative links of a Markdown file that moves from ``source_file`` to ``target_file``.

    Paths are POSIX and relative to the two trees' roots; ``map_path(source_path)`` gives a linked
    file's place upstream, or None when it is not exported. Returns (text, unexported link targets).
    """
    missing = []

    def fix(link):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^#|^/", link):
            return link
        path, hashmark, anchor = link.partition("#")
        linked = posixpath.normpath(posixpath.join(posixpath.dirname(source_file), path))
        if linked.startswith(".."):
            return link
        mapped = map_path(linked)
        if mapped is None:
            missing.append(linked)
            return link
        new = posixpath.relpath(mapped, posixpath.dirname(target_file) or ".")
        if path.endswith("/") and not new.endswith("/"):
            new += "/"
        return new + hashmark + anchor

    text = _INLINE_LINK.sub(lambda m: m.group(1) + fix(m.group(2)) + m.group(3), text)
    text = _REFERENCE_LINK.sub(lambda m: m.group(1) + fix(m.group(2)), text)
    return text, missing


def apply_rewrites(text, relative_name, rewrites):
    """Apply (glob, old, new) rewrites whose glob matches the file; return (text, applied, unmatched)."""
    applied, unmatched = [], []
    base = os.path.basename(relative_name)
    for pattern, old, new in rewrites:
        if not (fnmatch.fnmatch(relative_name, pattern) or fnmatch.fnmatch(base, pattern)):
            continue
        if old in text:
            text = text.replace(old, new)
            applied.append(old)
        else:
            unmatched.append(old)
    return text, applied, unmatched
