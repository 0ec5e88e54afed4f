"""Product code reads "now" only through its deployable's clock (db/clock.py, ui_common/clock.py for dashboards).

A direct `datetime.now()`, `date.today()` or `time.time()` escapes METERIT_CLOCK_AT and the tests' fixed clocks:
the code it sits in then passes on the day it was written and fails on another (issue 15). Checked on the syntax
tree of every product module; the few reads that must be system time are listed with their reason.
"""

import ast
from pathlib import Path

from tests.project.test_layers import PACKAGES, ROOT, _python_files

CLOCKS = ("db/clock.py", "ui_common/clock.py")
# path -> reason: system time compared with system time another library or process took, never a date.
SYSTEM_TIME_ALLOWED = {
    "api/http/site_limits.py": "the rate limiter's reset time is the limits library's system time",
    "api/realtime/pubsub.py": "a latency mark one worker stamps and another subtracts, both system time",
}
WALL_CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
                    ("time", "time"), ("time", "time_ns")}  # fmt: skip


def _called_name(call: ast.Call) -> tuple[str, str] | None:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    owner = func.value
    if isinstance(owner, ast.Attribute):  # datetime.datetime.now()
        owner = ast.Name(id=owner.attr)
    return (owner.id, func.attr) if isinstance(owner, ast.Name) else None


def direct_clock_reads(files: list[Path], root: Path = ROOT) -> list[str]:
    """`path:line name()` for each read of the system clock outside the clocks and the allowed places."""
    found = []
    for path in files:
        relative = path.relative_to(root).as_posix()
        if relative in CLOCKS or relative in SYSTEM_TIME_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _called_name(node) in WALL_CLOCK_CALLS:
                owner, name = _called_name(node)
                found.append(f"{relative}:{node.lineno} {owner}.{name}()")
    return found


def test_product_code_reads_the_time_only_through_its_clock():
    product = [p for p in _python_files() if p.relative_to(ROOT).parts[0] in PACKAGES]
    assert product, "no product modules found"
    assert direct_clock_reads(product) == []


def test_a_direct_read_is_reported(tmp_path):
    module = tmp_path / "api" / "probe.py"
    module.parent.mkdir()
    module.write_text(
        "import datetime, time\nfrom datetime import date\n"
        "a = datetime.datetime.now()\nb = date.today()\nc = time.time()\nd = time.monotonic()\n"
    )
    assert direct_clock_reads([module], tmp_path) == [
        "api/probe.py:3 datetime.now()",
        "api/probe.py:4 date.today()",
        "api/probe.py:5 time.time()",
    ]
