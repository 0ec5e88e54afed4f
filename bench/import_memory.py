"""RSS each imported package costs: `python -m bench.import_memory [--top] MODULE ... [--run CODE]`.

Each module's own RSS growth while it executes (what its nested imports add is counted where they run), summed
per package (with --top per top-level package). Used to list what the edge agent's memory is made of, e.g.
`python -m bench.import_memory --top --run "import meterit.cli as c; c.build_parser('edge')"
edge_agent.service edge_agent.local_api` (docs/ingest.md, issue 23).
"""

import argparse
import collections
import importlib
import importlib.abc
import importlib.machinery
import sys

SPLIT = ("edge_agent", "db", "strawberry", "sqlalchemy", "pydantic", "bacpypes3")


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


class _Measured(importlib.abc.Loader):
    """Wraps a loader: the RSS its module's own code adds, without what nested imports add."""

    def __init__(self, inner, own: collections.Counter, stack: list[int]) -> None:
        self.inner, self.own, self.stack = inner, own, stack

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module) -> None:
        start = _rss_kb()
        self.stack.append(0)
        try:
            self.inner.exec_module(module)
        finally:
            nested, total = self.stack.pop(), _rss_kb() - start
            self.own[module.__name__] += total - nested
            if self.stack:
                self.stack[-1] += total


class _Finder(importlib.abc.MetaPathFinder):
    """Finds as the other finders do (the path first: PYTHONPATH wins over an editable install), measured."""

    def __init__(self) -> None:
        self.own: collections.Counter = collections.Counter()
        self.stack: list[int] = []

    def find_spec(self, name, path, target=None):
        finders = sorted(sys.meta_path, key=lambda f: f is not importlib.machinery.PathFinder)
        for finder in finders:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Measured(spec.loader, self.own, self.stack)
                return spec
        return None


def main() -> None:
    """Import the modules (and run --run first), then print MB per package, largest first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*")
    parser.add_argument("--run", help="Python code run before the imports (e.g. building a parser)")
    parser.add_argument("--top", action="store_true", help="per top-level package")
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    base = _rss_kb()
    if args.run:
        exec(args.run, {})  # noqa: S102  (a measuring tool: the caller's own code)
    for name in args.modules:
        importlib.import_module(name)
    groups: collections.Counter = collections.Counter()
    for name, kb in finder.own.items():
        parts = name.split(".")
        split = not args.top and parts[0] in SPLIT
        groups[".".join(parts[:2]) if split else parts[0]] += kb
    print(
        f"RSS at start {base / 1024:.1f} MB; imports {(_rss_kb() - base) / 1024:.1f} MB, {len(sys.modules)} modules"
    )
    for name, kb in groups.most_common(args.limit):
        print(f"  {kb / 1024:6.1f} MB  {name}")


if __name__ == "__main__":
    main()
