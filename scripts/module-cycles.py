#!/usr/bin/env python3
"""Fails when files of src/ import each other in a circle (`make lint`); lists each circle.

File A depends on file B when A names something B defines: `use crate::a::b::X`, `use
super::x::{..}`, `pub use`, or a path in code (`crate::domain::error::ApiError`). A path
goes to the longest prefix of it that is a module: `super::ports::Claim` in src/app/login.rs
to src/app/ports.rs, not src/app/mod.rs; `crate::app::Caller` (defined in src/app/mod.rs) to
src/app/mod.rs. A module imported alone (`use super::log;`) is no dependency; what is named
through it (`log::failure`) is. `mod x;`, comments, doc links and strings are not. Test code
may import freely, so it is left out: items under `#[cfg(test)]` (`mod tests`) and files
only compiled for tests (`#[cfg(test)] mod in_memory;`). src/bin/*.rs, crates of their own
that the library cannot import, are not read.

Why not a crate: `cargo modules dependencies --acyclic` (cargo-modules) does this, but
cargo-modules 0.26 resolves to 273 crates, 34 of them rust-analyzer's (ra_ap_*): minutes of
compile on a 2-core CI machine. Python 3.11 stdlib only; `--self-test` checks it on a tree.
"""
import re, sys, tempfile
from pathlib import Path

# Comments (block comments nested one deep), raw strings, strings, char literals.
LEX = re.compile(r'''//[^\n]*|/\*(?:[^*/]|\*(?!/)|/(?!\*)|/\*[\s\S]*?\*/)*\*/|(?<!\w)b?r(#*)"[\s\S]*?"\1'''
                 r"""|(?<!\w)b?"(?:\\[\s\S]|[^"\\])*"|(?<!\w)b?'(?:\\(?:u\{\w*\}|x\w\w|.)|[^\\'\n])'""")
CFG_TEST = re.compile(r'#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]')
USE = re.compile(r'\b(pub\b(?:\s*\([^)]*\))?\s*)?use\s+([^;]*);')
PATH = re.compile(r'(?<![\w:$])\$?\w+(?:\s*::\s*\w+)+')

blank = lambda text: re.sub(r'[^\n]', ' ', text)

def strip(text):
    """The code with comments and literals blanked, its offsets and lines kept."""
    return LEX.sub(lambda m: blank(m.group()), text)

def block_end(code, i):
    """The offset after the `}` that closes the `{` at code[i]."""
    depth = 0
    for j in range(i, len(code)):
        if (depth := depth + (code[j] == '{') - (code[j] == '}')) == 0:
            return j + 1
    return len(code)

def without_tests(code):
    """The code with each item under `#[cfg(test)]` blanked, up to its `;` or its `{}` block's end."""
    while m := CFG_TEST.search(code):
        depth, j = 0, m.end()
        while j < len(code) and not (depth == 0 and code[j] in ';{'):
            depth, j = depth + {'(': 1, '[': 1, ')': -1, ']': -1}.get(code[j], 0), j + 1
        end = block_end(code, j) if code[j:j + 1] == '{' else j + 1
        code = code[:m.start()] + blank(code[m.start():end]) + code[end:]
    return code

def use_leaves(tree):
    """[(path, name it binds)] of a use tree: `a::{b, c::{self, d as e}}`: a::b b, a::c c, a::c::d e."""
    tree = re.sub(r'\s*::\s*', '::', re.sub(r'\s+', ' ', tree))
    while '{' in tree:  # the innermost group into its prefix
        tree = re.sub(r'([\w$:]*)\{([^{}]*)\}',
                      lambda m: ','.join(m[1] + p.strip() for p in m[2].split(',') if p.strip()), tree)
    leaves = []
    for leaf in filter(None, map(str.strip, tree.split(','))):
        path, _, name = leaf.partition(' as ')
        path = path.strip().split('::')
        if path[-1] == 'self' and len(path) > 1:  # `a::{self, ..}`
            path.pop()
        leaves.append((path, name.strip() or path[-1]))
    return leaves

def analyse(src):
    """{(file A, file B): (line in A, the path it names)} for each dependency between two files."""
    files, owner, todo = {}, {}, [((), src / 'lib.rs')]  # owner: module path -> its file
    while todo:  # the module tree, from src/lib.rs down the `mod x;` declarations
        mod, file = todo.pop()
        owner[mod], code = file, without_tests(strip(file.read_text()))
        scopes = [(0, len(code), mod)]  # (start, end, module) of the file and its `mod x { }`
        for m in re.finditer(r'\bmod\s+(\w+)\s*\{', code):
            outer = [s for s in scopes if s[0] <= m.end() < s[1]][-1][2]
            scopes.append((m.end() - 1, block_end(code, m.end() - 1), outer + (m.group(1),)))
            owner[scopes[-1][2]] = file
        files[file] = code, scopes
        folder = file.parent if file.name in ('lib.rs', 'mod.rs') else file.with_suffix('')
        for name in re.findall(r'\bmod\s+(\w+)\s*;', code):
            todo += [(mod + (name,), f) for f in (folder / f'{name}.rs', folder / name / 'mod.rs') if f.exists()][:1]

    def absolute(segs, scope, aliases):
        head = segs[0]
        if head in ('crate', '$crate'): base = ()
        elif head in ('self', 'super'): base = scope if head == 'self' else scope[:-1]
        elif head in aliases: base = aliases[head]
        elif scope + (head,) in owner: base = scope + (head,)
        else: return None  # another crate, a local name
        for seg in segs[1:]:
            base = base[:-1] if seg == 'super' else base + (seg,)
        return base

    edges = {}
    for file, (code, scopes) in files.items():
        scope_at = lambda pos: [s for s in scopes if s[0] <= pos < s[1]][-1][2]
        aliases, named = {}, []  # aliases: module -> {name a `use` binds: its absolute path}
        for m in USE.finditer(code):
            scope = scope_at(m.start())
            for segs, name in use_leaves(m.group(2)):
                if (path := absolute(segs, scope, aliases.setdefault(scope, {}))) is not None:
                    aliases[scope][name] = path
                    if path not in owner or m.group(1):  # not a module alone (unless `pub use`)
                        named.append((m.start(), path, '::'.join(segs)))
        code = re.sub(USE.pattern + r'|\bpub\s*\(\s*in\b[^)]*\)', lambda m: blank(m.group()), code)
        for m in PATH.finditer(code):
            segs, scope = re.sub(r'\s', '', m.group()).split('::'), scope_at(m.start())
            if (path := absolute(segs, scope, aliases.get(scope, {}))) is not None:
                named.append((m.start(), path, '::'.join(segs)))
        for pos, path, text in sorted(named):
            target = next(owner[path[:n]] for n in range(len(path), -1, -1) if path[:n] in owner)
            if target != file:
                edges.setdefault((file, target), (code.count('\n', 0, pos) + 1, text))
    return edges

def circles(edges):
    """The sets of files that reach each other; {file: {each file it reaches: the one before}}."""
    graph, tree = {}, {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    for start in graph:
        before, queue = tree.setdefault(start, {}), [start]
        for v in queue:
            for w in graph.get(v, ()):
                if w not in before:
                    before[w] = v
                    queue.append(w)
    groups = {tuple(sorted(w for w in tree[v] if v in tree.get(w, ()))) for v in graph if v in tree[v]}
    return [list(g) for g in sorted(groups)], tree

def report(root):
    edges = analyse(root / 'src')
    found, tree = circles(edges)
    name = lambda f: str(f.relative_to(root / 'src'))
    for n, group in enumerate(found, 1):
        print(f'import circle {n} of {len(found)} in src/: ' + ', '.join(name(f) for f in group))
        for (a, b), (line, text) in sorted(edges.items()):
            if a in group and b in group:
                way = [a]  # the shortest way from b back to a, from its end
                while way[-1] != b:
                    way.append(tree[b][way[-1]])
                closes = 'both ways' if len(way) == 2 else 'circle ' + ' -> '.join(map(name, [a] + way[::-1]))
                print(f'  {name(a)}:{line} -> {name(b)}  {text}  ({closes})')
    if not found:
        print('module-cycles: OK, no import circle between the files of src/')
    return 1 if found else 0

# For --self-test: files as `path: text` (an indented line continues one). The circles are
# app/login.rs <-> app/ports.rs, c.rs <-> c/d.rs and domain/error.rs <-> domain/settings.rs.
TREE = r'''lib.rs: pub mod app; pub mod domain; mod a; mod b; mod c;
a.rs: pub(in crate::b) fn x() {}
b.rs: pub fn y() { crate::a::x() }
c.rs: mod d; pub fn x() { d::y() }
c/d.rs: pub fn y() { super::x() }
app/mod.rs: pub mod ports; pub mod login; #[cfg(test)] pub(crate) mod in_memory; use self::login::{self}; pub struct Caller;
app/ports.rs: use super :: login::{
      Token,
  };
app/login.rs: use crate::{app::{ports::{self, Claim}, Caller}, domain::error}; pub struct Token;
  fn f() -> error::ApiError { /* crate::domain::settings /* nested */ */ todo!() } const S: &str =
  "crate::domain::settings::X"; const R: &str = r#"super::super::domain"#; #[cfg(test)] mod tests {
  use crate::app::in_memory::*; }
app/in_memory.rs: use crate::app::login::Token;
domain/mod.rs: pub mod error; pub mod settings;
domain/error.rs: use super::settings; pub struct ApiError; pub fn f() { let c = '"'; settings::native::g(); "" }
  #[cfg(test)] fn t() { crate::app::login::f() }
domain/settings.rs: pub mod native { pub fn g() -> super::super::error::ApiError { todo!() } }
  /* /* nested */ crate::app::login::f */ const R: &str = r#"a "crate::app::login::f" b"#;
  const Q: &str = "a \
  crate::app::login::Token";'''

def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / 'src'
        for path, text in re.findall(r'^(\S+): (.*(?:\n .*)*)', TREE, re.M):
            (src / path).parent.mkdir(parents=True, exist_ok=True)
            (src / path).write_text(text)
        got = [[str(f.relative_to(src)) for f in g] for g in circles(analyse(src))[0]]
    assert got == [['app/login.rs', 'app/ports.rs'], ['c/d.rs', 'c.rs'], ['domain/error.rs', 'domain/settings.rs']], got
    print('module-cycles: self-test OK')

if __name__ == '__main__':
    sys.exit(self_test() if sys.argv[1:] == ['--self-test'] else report(Path(__file__).resolve().parents[1]))
