"""The suite's own waits are bounded (issue 16 §2): a guard that reads every test module with
`ast` and fails on a blocking call that states no bound. Only calls whose shape says for
certain that they wait without one are flagged, so that the guard has no false positives:

- `.recv()` with no arguments (a `websockets` connection; a socket's recv takes a size) not
  inside `asyncio.wait_for(...)` or `async with asyncio.timeout(...)`;
- `.join()` and `.wait()` with no arguments (threads, processes, events, barriers;
  str.join and the channel communicators' calls always have one), unless inside wait_for;
- `.get()` with no arguments on a name or attribute that holds a `queue`/`asyncio` Queue
  (assigned one, or annotated as one), unless inside wait_for;
- `.communicate()` without a timeout; `subprocess.run/call/check_call/check_output` and
  `urlopen` without `timeout=`.

Not checked, because no rule on the syntax alone can tell a good one from a bad one: sleeps
(a documented quiet period is fine, "sleep then assert it happened" is not), `async for` over
a socket (fine in a task that is stopped, as in test_scale_out) and Playwright calls (bounded
by the page's default timeout, set in tests/browser/conftest.py). Those were audited by hand.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SUBPROCESS_WAITS = {"run", "call", "check_call", "check_output"}
QUEUES = {"Queue", "SimpleQueue", "LifoQueue", "PriorityQueue", "JoinableQueue"}


def _dotted(node: ast.AST) -> str:
    """`a.b.c` for a Name/Attribute chain, "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)):
        return f"{base}.{node.attr}"
    return ""


def _mentions_queue(node: ast.AST | None) -> bool:
    """An annotation or a constructor call that names a Queue class."""
    if node is None:
        return False
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a string annotation
        return any(name in node.value.replace(".", " ").split() for name in QUEUES)
    return any(
        isinstance(part, (ast.Name, ast.Attribute)) and _dotted(part).rsplit(".", 1)[-1] in QUEUES
        for part in ast.walk(node)
    )


def _queue_holders(tree: ast.AST) -> set[str]:
    """Names (and `self.x`-style attributes) that are assigned or annotated as a Queue."""
    holders = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _mentions_queue(node.value):
            holders.update(_dotted(target) for target in node.targets)
        elif isinstance(node, ast.AnnAssign) and (
            _mentions_queue(node.annotation) or _mentions_queue(node.value)
        ):
            holders.add(_dotted(node.target))
        elif isinstance(node, ast.arg) and _mentions_queue(node.annotation):
            holders.add(node.arg)
    return holders - {""}


def _bounded_by_caller(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside `wait_for(...)` (as its awaited argument) or `async with timeout(...)`."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if (
            isinstance(parent, ast.Call)
            and _dotted(parent.func).rsplit(".", 1)[-1] == "wait_for"
            and parent.args
            and parent.args[0] is child
        ):
            return True
        if isinstance(parent, ast.AsyncWith) and any(
            isinstance(item.context_expr, ast.Call)
            and _dotted(item.context_expr.func).rsplit(".", 1)[-1] in {"timeout", "timeout_at"}
            for item in parent.items
        ):
            return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        child, parent = parent, parents.get(parent)
    return False


def unbounded_waits(source: str, filename: str = "<source>") -> list[str]:
    """`filename:line: what` for every blocking call in `source` that states no bound."""
    tree = ast.parse(source, filename)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    queues = _queue_holders(tree)
    found = []

    def flag(node: ast.Call, what: str) -> None:
        found.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        keywords = {keyword.arg for keyword in node.keywords}
        bare = not node.args and not node.keywords
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if method == "recv" and bare and not _bounded_by_caller(node, parents):
            flag(node, "websocket .recv() without asyncio.wait_for (it waits for ever)")
        elif method in {"join", "wait"} and bare and not _bounded_by_caller(node, parents):
            flag(node, f".{method}() without a timeout")
        elif (
            method == "get"
            and bare
            and _dotted(node.func.value) in queues
            and not _bounded_by_caller(node, parents)
        ):
            flag(node, "queue .get() without a timeout (or asyncio.wait_for)")
        elif method == "communicate" and "timeout" not in keywords and len(node.args) < 2:
            flag(node, ".communicate() without a timeout")
        elif (
            name.startswith("subprocess.")
            and method in SUBPROCESS_WAITS
            and "timeout" not in keywords
        ):
            flag(node, f"{name}() without timeout=")
        elif name.endswith("urlopen") and "timeout" not in keywords and len(node.args) < 3:
            flag(node, "urlopen() without timeout=")  # urlopen(url, data, timeout)
    return sorted(found, key=lambda line: int(line.split(":")[-2]))


def test_no_test_waits_without_a_bound():
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        found += unbounded_waits(path.read_text(), str(path.relative_to(TESTS.parent)))
    assert found == [], "unbounded waits in the tests:\n" + "\n".join(found)


# --- The checker itself: each rule fires on a planted example and not on its bounded twin ---


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        ("async def f(ws):\n    return await ws.recv()",
         "async def f(ws):\n    return await asyncio.wait_for(ws.recv(), timeout=5)"),
        ("async def f(ws):\n    return await ws.recv()",
         "async def f(ws):\n    async with asyncio.timeout(5):\n        return await ws.recv()"),
        ("thread.join()", "thread.join(timeout=30)"),
        ("process.wait()", "process.wait(10)"),
        ("barrier.wait()", "barrier.wait(timeout=10)"),
        ("async def f(event):\n    await event.wait()",
         "async def f(event):\n    await asyncio.wait_for(event.wait(), 5)"),
        ("import queue\nq = queue.Queue()\nq.get()",
         "import queue\nq = queue.Queue()\nq.get(timeout=1)"),
        ("async def f(inbox: asyncio.Queue):\n    await inbox.get()",
         "async def f(inbox: asyncio.Queue):\n    await asyncio.wait_for(inbox.get(), 1)"),
        ("class A:\n    def __init__(self):\n        self.q = Queue()\n    def f(self):\n"
         "        return self.q.get()",
         "class A:\n    def __init__(self):\n        self.q = Queue()\n    def f(self):\n"
         "        return self.q.get(timeout=2)"),
        ("out, err = process.communicate()", "out, err = process.communicate(timeout=10)"),
        ("subprocess.run(['true'], check=True)", "subprocess.run(['true'], timeout=60)"),
        ("subprocess.check_output(['true'])", "subprocess.check_output(['true'], timeout=5)"),
        ("urllib.request.urlopen(url)", "urllib.request.urlopen(url, timeout=5)"),
    ],
)  # fmt: skip
def test_the_checker_flags_an_unbounded_wait_and_passes_its_bounded_twin(bad, good):
    assert len(unbounded_waits(bad)) == 1, bad
    assert unbounded_waits(good) == [], good


def test_the_checker_leaves_look_alikes_alone():
    source = """
import socket
", ".join(parts)
os.path.join(a, b)
Report.objects.get()
report.assignments.get()
data = sock.recv(65536)
asyncio.run(asyncio.wait([task], timeout=3))
await communicator.wait(timeout=2)
await fanout.join(dashboard, ["agency.dishub"])
inbox = {}
inbox.get()
"""
    assert unbounded_waits(source) == []


def test_the_checker_names_file_and_line():
    assert unbounded_waits("x = 1\n\nthread.join()\n", "tests/planted.py") == [
        "tests/planted.py:3: .join() without a timeout"
    ]
