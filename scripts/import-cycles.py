#!/usr/bin/env python3
"""Import cycles in vfetch's library (src/), between top-level modules and between files.

    scripts/import-cycles.py [SRC] [--focus daemon,scheduler] [--no-reexports]

A file depends on the module files it names: through `use` statements and through inline paths
(`crate::a::b`, `super::x`, `self::x`, `child::x` for a module declared with `mod child;`, or
`name::x` for a module brought in by `use`). A path counts for the deepest module file it names.
`pub use` re-exports make their file a facade: a path through one is followed to the file that
defines the item, and the facade itself does not depend on what it re-exports (pass
--no-reexports to stop at the facade instead). `mod x;` alone is containment, not dependency.

Prints the strongly connected components (cycles) of the top-level module graph, of the files
under the --focus directories, and of all files. Exits 1 when a focus directory's files form a
cycle or a focus module sits in a top-level cycle, so a test can keep them gone.
"""
import argparse
import os
import re
import sys

REEXPORT = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);")


def strip(text):
    """Code without comments and string contents, with `super::` inside inline modules (tests)
    rewritten to `self::`, since there it names the file's own module."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    out, pos = [], 0
    for m in re.finditer(r"\bmod\s+\w+\s*\{", text):
        if m.start() < pos:
            continue
        depth, end = 0, len(text)
        for i in range(m.end() - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                end = i + 1
                break
        out.append(text[pos:m.start()])
        out.append(re.sub(r"\bsuper::", "self::", text[m.start():end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def expand(tree):
    """`a::{b, c::{d, e as f}}` -> [a::b, a::c::d, a::c::e]"""
    tree = tree.strip()
    if "{" not in tree:
        return [re.sub(r"\s+as\s+\w+$", "", tree).replace(" ", "")]
    i = tree.index("{")
    prefix, inner = tree[:i], tree[i + 1:tree.rindex("}")]
    parts, depth, cur = [], 0, ""
    for c in inner:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return [prefix + x for part in parts if part.strip() for x in expand(part)]


class Crate:
    def __init__(self, src, follow_reexports):
        self.src = src
        self.follow = follow_reexports
        self.files = {}  # module path (tuple) -> file
        for root, _, names in os.walk(src):
            for n in names:
                if not n.endswith(".rs"):
                    continue
                path = os.path.join(root, n)
                rel = os.path.relpath(path, src)[:-3].split(os.sep)
                if rel[0] == "bin":  # the binaries are separate crates
                    continue
                if rel[-1] in ("mod", "lib"):
                    rel = rel[:-1]
                self.files[tuple(rel)] = path
        self.text = {}
        for m, p in self.files.items():
            with open(p, encoding="utf-8") as f:
                self.text[m] = strip(f.read())
        self.reexports = {}  # (module, name) -> absolute path
        for m, t in self.text.items():
            for stmt in REEXPORT.findall(t):
                for p in expand(stmt):
                    a = self.absolute(m, p) or list(m) + p.split("::")
                    self.reexports[(m, a[-1])] = a
        self.edges = {m: self.dependencies(m) for m in self.files}

    def absolute(self, m, path):
        """`path` as written in module `m`, from the crate root; None if not crate-relative."""
        segs = [s for s in path.split("::") if s]
        if not segs:
            return None
        if segs[0] == "crate":
            return segs[1:]
        if segs[0] == "self":
            return list(m) + segs[1:]
        if segs[0] == "super":
            cur = list(m)
            while segs and segs[0] == "super":
                cur, segs = cur[:-1], segs[1:]
            return cur + segs
        if tuple(list(m) + [segs[0]]) in self.files:  # a child module
            return list(m) + segs
        return None

    def resolve(self, a, depth=0):
        """The deepest module file that absolute path `a` names."""
        for i in range(len(a), -1, -1):
            m = tuple(a[:i])
            if m in self.files:
                rest = a[i:]
                if self.follow and rest and (m, rest[0]) in self.reexports and depth < 8:
                    return self.resolve(self.reexports[(m, rest[0])] + rest[1:], depth + 1)
                return m
        return None

    def dependencies(self, m):
        t = REEXPORT.sub("", self.text[m])
        refs, imported = [], {}
        for stmt in re.findall(r"\buse\s+([^;]+);", t):
            for p in expand(stmt):
                a = self.absolute(m, p)
                if a is None:
                    continue
                refs.append(a)
                if a and a[-1] == "self":
                    imported[a[-2]] = a[:-1]
                elif a and a[-1] != "*":
                    imported[a[-1]] = a
        t = re.sub(r"\buse\s+[^;]+;", "", t)
        for first, rest in re.findall(r"(?<![:\w])(\w+)((?:::\w+)+)", t):
            tail = rest.split("::")[1:]
            if first in imported:
                refs.append(imported[first] + tail)
            else:
                a = self.absolute(m, first + rest)
                if a is not None:
                    refs.append(a)
        deps = {self.resolve(a) for a in refs}
        return {d for d in deps if d not in (None, (), m)}

    def name(self, m):
        return os.path.relpath(self.files[m], self.src)


def cycles(nodes, edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in nodes:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", nargs="?", default="src")
    parser.add_argument("--focus", default="daemon,scheduler")
    parser.add_argument("--no-reexports", action="store_true")
    args = parser.parse_args()
    focus = args.focus.split(",")
    crate = Crate(args.src, not args.no_reexports)

    top = {}
    for m, deps in crate.edges.items():
        for d in deps:
            if m and d[0] != m[0]:
                top.setdefault(m[0], set()).add(d[0])
    failed = False
    print("top-level module cycles:")
    comps = cycles({m[0] for m in crate.files if m}, top)
    for c in comps:
        print("  ", " <-> ".join(c))
        for a in c:
            for b in sorted(top.get(a, ())):
                if b in c:
                    print(f"       {a} -> {b}")
        # Any cycle between top-level modules fails, not only those through the focus.
        failed = True
    if not comps:
        print("   none")

    print(f"file cycles under {', '.join(focus)}:")
    comps = cycles({m for m in crate.files if m and m[0] in focus}, crate.edges)
    for c in comps:
        print(f"   {len(c)} files:", ", ".join(crate.name(m) for m in c))
        for a in c:
            for b in sorted(crate.edges[a]):
                if b in c:
                    print(f"       {crate.name(a)} -> {crate.name(b)}")
    failed |= bool(comps)
    if not comps:
        print("   none")

    print("file cycles anywhere:")
    comps = cycles(set(crate.files) - {()}, crate.edges)
    for c in comps:
        print(f"   {len(c)} files:", ", ".join(crate.name(m) for m in c))
    if not comps:
        print("   none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
