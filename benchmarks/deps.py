"""The package graph: which parts of interviewer/ import which, read from the source.

    python -m benchmarks.deps [--root interviewer] [--pyproject pyproject.toml]

A part is a subpackage (`judge`) or a top-level module (`config`). Every import of another
part is counted, with where it sits: at module level, inside a function (lazy), or under
`if TYPE_CHECKING:` (types only). Edges are then checked against the layers contract in
pyproject.toml's [tool.importlinter] (the one `lint-imports` enforces in `make test`): an
edge from a lower layer to a higher one, or between independent siblings (`a | b`), is
listed as going against the layers, with the files and lines. Pairs of parts that import
each other are listed as cycles. Needs only the standard library, so it also runs on a
checkout from before the contract existed (pass that checkout's --root, and this
pyproject for the layers).
"""

from __future__ import annotations

import argparse
import ast
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "interviewer"


@dataclass(frozen=True)
class Import:
    source: str  # part that imports
    target: str  # part imported
    where: str  # path:line
    kind: str  # "module", "lazy" or "types"


def part_of(module: str) -> str | None:
    """`interviewer.judge.schema` -> `judge`; the root package itself is no part."""
    pieces = module.split(".")
    if pieces[0] != PACKAGE or len(pieces) < 2:
        return None
    return pieces[1]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_in(path: Path, root: Path) -> list[Import]:
    relative = path.relative_to(root.parent).with_suffix("")
    module = ".".join(relative.parts)
    if module.endswith(".__init__"):
        module = module.removesuffix(".__init__")
        package = module
    else:
        package = module.rpartition(".")[0]
    source = part_of(module) or PACKAGE
    parts = {p.stem for p in root.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}
    found: list[Import] = []

    def visit(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for sub in node.body:
                visit(sub, "types")
            for sub in node.orelse:
                visit(sub, kind)
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        targets = {t for t in map(part_of, names) if t in parts and t != source}
        for target in sorted(targets):
            line = getattr(node, "lineno", 0)
            found.append(Import(source, target, f"{relative}.py:{line}", kind))
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            and kind == "module"
        ):
            kind = "lazy"
        for child in ast.iter_child_nodes(node):
            visit(child, kind)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), "module")
    return found


def layers_from(pyproject: Path) -> list[list[str]]:
    """The first layers contract's layers, top first; each layer a list of parts.
    A layer written `a | b` holds independent parts, marked by a leading "|"."""
    if not pyproject.is_file():
        return []
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    for contract in config.get("tool", {}).get("importlinter", {}).get("contracts", []):
        if contract.get("type") == "layers":
            out = []
            for layer in contract["layers"]:
                if "|" in layer:
                    out.append(["|", *(p.strip() for p in layer.split("|"))])
                else:
                    out.append([p.strip() for p in layer.split(":")])
            return out
    return []


def against(edge: tuple[str, str], layers: list[list[str]]) -> bool:
    rank: dict[str, tuple[int, bool]] = {}
    for i, layer in enumerate(layers):
        independent = layer[0] == "|"
        for part in layer[1:] if independent else layer:
            rank[part] = (i, independent)
    source, target = edge
    if source not in rank or target not in rank:
        return False
    (i, independent), (j, _) = rank[source], rank[target]
    return i > j or (i == j and independent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO / PACKAGE)
    parser.add_argument("--pyproject", type=Path, default=REPO / "pyproject.toml")
    args = parser.parse_args()
    root: Path = args.root.resolve()
    found = [i for path in sorted(root.rglob("*.py")) for i in imports_in(path, root)]
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in found:
        edges[(imp.source, imp.target)].append(imp)
    layers = layers_from(args.pyproject)

    print(f"package-level imports in {root} (count by kind: module / lazy / types)")
    for source in sorted({s for s, _ in edges}):
        targets = []
        for (s, t), imps in sorted(edges.items()):
            if s == source:
                kinds = [sum(i.kind == k for i in imps) for k in ("module", "lazy", "types")]
                targets.append(f"{t} {'/'.join(map(str, kinds))}")
        print(f"  {source:11} -> {', '.join(targets)}")
    cycles = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    print(f"cycles between parts: {len(cycles)}")
    for a, b in cycles:
        print(f"  {a} <-> {b}")
    if layers:
        shown = " > ".join(" | ".join(p for p in layer if p != "|") for layer in layers)
        bad = sorted(e for e in edges if against(e, layers))
        print(f"layers (pyproject.toml, top first): {shown}")
        print(f"edges against the layers: {len(bad)}")
        for edge in bad:
            for imp in edges[edge]:
                print(f"  {edge[0]} -> {edge[1]}  {imp.where} ({imp.kind})")


if __name__ == "__main__":
    main()
