"""TestIT's Python grading runner, built into a Wasm component by componentize-py.

The host calls each export in a fresh instance of its own:

plan(testing_code)
    Runs where no student code ever runs. Parses the teacher's testing code, turns every
    ``assert`` into a numbered check, computes each check's expected value, and writes the
    source the student instance will run: the same code with every assert replaced by an
    observation of the side that uses the answer. Expected values go to the host only.

observe(job)
    Runs the student's code, then that student-side source, and reports the canonical value
    of every observed expression. It reports values, never a verdict, and it never sees an
    expected value: the host compares. Patching this module, ``json`` or anything else only
    changes what is reported, and a forged report has to guess the expected values.

run-program(code)
    Runs the student's code as a program, for an input/output test case: standard input is
    the case's, standard output goes to the host, which compares it with the expected output.

Only modules imported here, when the component is built, exist at run time: the imports
below are the standard-library allow-list students may use.
"""

import ast
import io
import json
import sys
import traceback

# The allow-list (also pre-loaded into the snapshot, so importing them costs nothing).
import bisect  # noqa: F401
import collections  # noqa: F401
import copy  # noqa: F401
import dataclasses  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import enum  # noqa: F401
import fractions  # noqa: F401
import functools  # noqa: F401
import heapq  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import operator  # noqa: F401
import random  # noqa: F401
import re  # noqa: F401
import statistics  # noqa: F401
import string  # noqa: F401
import typing  # noqa: F401

import wit_world

# Lazily imported helpers must load now, while the component is built: nothing can be
# imported later (CPython 3.14's `ast.unparse` loads `_ast_unparse` on first use).
ast.unparse(ast.parse("x = 1"))
traceback.format_exception(ValueError("warm-up"))

MODULE_CHECK = "<module>"
MAX_ITEMS = 10_000
MAX_DEPTH = 50
MAX_OUTPUT = 64 * 1024
# Comparisons the host decides itself; any other assert is a truthiness check.
COMPARISONS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Is: "is", ast.IsNot: "is_not"}


def canon(value, depth=0, budget=None):
    """A canonical, JSON-able form of plain values; equal forms mean Python-equal values."""
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return {"opaque": "too large"}
    kind = type(value)
    if value is None:
        return None
    if kind is bool:
        # Equal to 1/0 as in Python; the marker lets `is True` tell them apart.
        return {"num": str(int(value)), "bool": True}
    if kind is int:
        return {"num": str(int(value))}
    if kind is float:
        if value.is_integer():
            return {"num": str(int(value))}
        return {"float": repr(value)}
    if kind is str:
        return {"str": value}
    if kind is bytes:
        return {"bytes": value.hex()}
    if kind is list or kind is tuple:
        tag = "list" if kind is list else "tuple"
        return {tag: [canon(v, depth + 1, budget) for v in value]}
    if kind is dict:
        items = [[canon(k, depth + 1, budget), canon(v, depth + 1, budget)] for k, v in value.items()]
        items.sort(key=lambda kv: json.dumps(kv[0], sort_keys=True))
        return {"dict": items}
    if kind is set or kind is frozenset:
        items = [canon(v, depth + 1, budget) for v in value]
        items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        return {"set": items}
    return {"opaque": kind.__name__}


MAX_TRACEBACK = 4000


def has_opaque(value):
    """Whether a canonical value holds something that is not a plain value."""
    if isinstance(value, dict):
        return "opaque" in value or any(has_opaque(v) for v in value.values())
    if isinstance(value, list):
        return any(has_opaque(v) for v in value)
    return False


def short_traceback(exc):
    """The traceback without this runner's frames, at most MAX_TRACEBACK characters."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    text = "".join(line for line in lines if "runner.py" not in line)
    return text if len(text) <= MAX_TRACEBACK else "…" + text[-MAX_TRACEBACK:]


class CappedOutput(io.StringIO):
    truncated = False

    def write(self, text):
        room = MAX_OUTPUT - self.tell()
        if len(text) > room:
            self.truncated = True
        return super().write(text[: max(0, room)])


class Checks(ast.NodeTransformer):
    """Numbers the asserts and replaces each with a call `hook(k, lambda: side, ...)`."""

    def __init__(self, source, hook, sides=None):
        self.source = source
        self.hook = hook
        self.sides = sides  # check id -> "left" | "right" | "whole", for the student side
        self.checks = []
        self.owner = MODULE_CHECK
        self.depth = 0  # functions entered

    def visit_FunctionDef(self, node):
        outer = self.owner
        if self.depth == 0 and node.name.startswith("test_"):
            self.owner = node.name
        else:
            self.owner = None  # an assert here is in no unit of its own
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        self.owner = outer
        return node

    visit_Lambda = visit_ClassDef = visit_FunctionDef

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assert(self, node):
        k = len(self.checks)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in COMPARISONS:
            op, left, right = COMPARISONS[type(test.ops[0])], test.left, test.comparators[0]
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            op, left, right = "falsy", test.operand, None
        else:
            op, left, right = "truthy", test, None
        self.checks.append({
            "id": k,
            "test": self.owner or MODULE_CHECK,
            "misplaced": self.owner is None,
            "line": node.lineno,
            "text": ast.get_source_segment(self.source, node) or "assert",
            "op": op,
        })
        if self.sides is None:  # the trusted side: both thunks, no evaluation of `whole`
            args = [ast.Constant(k), thunk(left if right is not None else None), thunk(right)]
        else:
            side = self.sides.get(k, "whole")
            observed = {"left": left, "right": right}.get(side, left)
            args = [ast.Constant(k), thunk(observed)]
        call = ast.Call(func=ast.Name(id=self.hook, ctx=ast.Load()), args=args, keywords=[])
        return ast.copy_location(ast.Expr(value=call), node)


def answer_rooted(node, answer, tainted):
    """Whether `node` is a value of the answer itself: a call of the answer, a name holding
    one, or attributes, items and calls of those. Forging such a value is no more than what
    a program returning it would do."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and (node.id in answer or node.id in tainted)


def tainted_names(tree, answer):
    """Variables that only ever hold values of the answer (`result = my_sort(data)`)."""
    sources = {}
    other = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            sources.setdefault(node.targets[0].id, []).append(node.value)
            continue
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            sources.setdefault(node.target.id, []).append(node.value)
            continue
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor,
                             ast.With, ast.AsyncWith, ast.comprehension, ast.NamedExpr)):
            other |= names(node, ast.Store)
    tainted = set()
    changed = True
    while changed:
        changed = False
        for name, values in sources.items():
            if name not in tainted and name not in other and all(answer_rooted(v, answer, tainted) for v in values):
                tainted.add(name)
                changed = True
    return tainted


class SplitAssignments(ast.NodeTransformer):
    """`a, b = f(x), EXPECTED` becomes two statements, so the student's side can keep the
    first without the second."""

    def visit_Assign(self, node):
        target, value = node.targets[0], node.value
        if (len(node.targets) == 1 and isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                and len(target.elts) == len(value.elts) and all(isinstance(t, ast.Name) for t in target.elts)
                and not names(value, ast.Load) & {t.id for t in target.elts}):
            return [ast.copy_location(ast.Assign(targets=[t], value=v), node) for t, v in zip(target.elts, value.elts)]
        return node


def parse(source):
    return ast.fix_missing_locations(SplitAssignments().visit(ast.parse(source, "<tests>")))


def thunk(expr):
    if expr is None:
        return ast.Constant(None)
    no_args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
    return ast.Lambda(args=no_args, body=expr)


class AnswerValue:
    """Stands for anything the answer would compute, in the trusted run (which has no
    answer). Straight-line code flows through it; branching or iterating on it stops the
    test, and an expected side that touches it is not computable without the answer."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return AnswerValue()

    def __call__(self, *args, **kwargs):
        return AnswerValue()

    def _flow(self, *args):
        return AnswerValue()

    __getitem__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _flow
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _flow
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __eq__ = __ne__ = _flow
    __lt__ = __le__ = __gt__ = __ge__ = __and__ = __or__ = __xor__ = __invert__ = _flow

    def _stop(self, *args):
        raise RuntimeError("the testing code branches or iterates on the answer's result")

    __bool__ = __iter__ = __len__ = __contains__ = __index__ = __int__ = __float__ = _stop
    __str__ = __repr__ = __format__ = __hash__ = _stop


def names(node, ctx):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def bound_names(tree):
    """Every name the testing code binds itself."""
    bound = names(tree, (ast.Store, ast.Del))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound


def answer_names(tree):
    """Names the testing code reads but never binds: the answer's definitions."""
    import builtins

    return names(tree, ast.Load) - bound_names(tree) - set(dir(builtins))


SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Import, ast.ImportFrom, ast.Delete,
          ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def written(statement):
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    return names(statement, (ast.Store, ast.Del))


def header(statement):
    """The parts of a compound statement evaluated outside its bodies."""
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        return [statement.target, statement.iter]
    if isinstance(statement, (ast.While, ast.If)):
        return [statement.test]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [item for item in statement.items]
    return []


def slice_for_student(tree, answer):
    """Drops the statements the student's instance does not need, so values the testing code
    computes for itself (`EXPECTED = sorted(...)`) stay out of it. Kept: observations and
    statements using the answer, the assignments, imports and helper definitions these need
    (transitively), and the control flow around kept statements. Only statements in kept
    blocks count, so a dropped helper's body keeps nothing alive."""
    parent = {}
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field, None)
            for child in block if isinstance(block, list) else []:
                if isinstance(child, (ast.stmt, ast.excepthandler)):
                    parent[id(child)] = node
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    keep, needed = set(), set()

    def is_test(node):
        return isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and parent.get(id(node)) is tree

    def live(node):
        """Whether the block holding `node` runs in the student's instance."""
        while True:
            holder = parent.get(id(node))
            if holder is None or holder is tree:
                return True
            if isinstance(holder, ast.excepthandler):
                node = holder
                continue
            if isinstance(holder, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not is_test(holder):
                return id(holder) in keep
            node = holder

    def mark(node, reads):
        keep.add(id(node))
        for part in reads:
            needed.update(names(part, ast.Load))

    changed = True
    while changed:
        changed = False
        for statement in statements:
            if id(statement) in keep or not live(statement):
                continue
            if isinstance(statement, SIMPLE) and not is_test(statement):
                if written(statement) & needed or names(statement, ast.Load) & answer:
                    mark(statement, [statement])
                    changed = True
            elif isinstance(statement, (ast.Expr, ast.Return, ast.Raise, ast.Assert)):
                holder = parent.get(id(statement))
                in_helper = isinstance(holder, (ast.FunctionDef, ast.AsyncFunctionDef)) and not is_test(holder)
                if in_helper or names(statement, ast.Load) & (answer | {"__observe__"}):
                    mark(statement, [statement])
                    changed = True
            elif isinstance(statement, (ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)):
                continue
            elif any(id(child) in keep for child in ast.walk(statement) if child is not statement):
                mark(statement, header(statement))  # control flow around kept statements
                changed = True

    class Prune(ast.NodeTransformer):
        def generic_visit(self, node):
            super().generic_visit(node)
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    kept = [s for s in block if id(s) in keep or isinstance(s, (ast.Break, ast.Continue))]
                    setattr(node, field, kept or ([ast.Pass()] if field == "body" else []))
            return node

    return Prune().visit(tree)


def run_module(tree, filename, namespace, on_error):
    """Runs the top-level statements one by one, then every `test_*` function."""
    for statement in tree.body:
        module = ast.fix_missing_locations(ast.Module(body=[statement], type_ignores=[]))
        try:
            exec(compile(module, filename, "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 (SystemExit and all)
            on_error(MODULE_CHECK, exc)
    tests = [s.name for s in tree.body if isinstance(s, ast.FunctionDef) and s.name.startswith("test_")]
    for name in tests:
        function = namespace.get(name)
        if not callable(function):
            continue
        try:
            function()
        except BaseException as exc:  # noqa: BLE001
            on_error(name, exc)
    return tests


def plan(testing_code):
    try:
        tree = parse(testing_code)
    except SyntaxError as exc:
        return json.dumps({"error": "".join(traceback.format_exception_only(type(exc), exc))})
    answer = answer_names(tree)
    tainted = tainted_names(tree, answer)
    trusted = Checks(testing_code, "__expect__")
    trusted_tree = trusted.visit(parse(testing_code))
    reached = {}  # check id -> times the trusted run reached it
    expected = {}  # check id -> [canonical value per evaluation]
    guessable = set()  # checks with a True/False/None expected value
    sides = {}  # check id -> the side to observe
    unplannable = {}

    def expect(k, left, right):
        reached[k] = reached.get(k, 0) + 1
        if left is None and right is None:
            return  # a truthiness check: nothing to compute here
        for observed, side in (("left", right), ("right", left)):
            if side is None:
                continue
            try:
                raw = side()
                value = canon(raw)
            except Exception:  # noqa: BLE001 (it uses the answer)
                continue
            if has_opaque(value):
                continue  # it holds the answer's result, or is no plain value
            if sides.setdefault(k, observed) != observed:
                unplannable[k] = "its expected side changes between evaluations"
            if raw is None or type(raw) is bool:
                guessable.add(k)
            expected.setdefault(k, []).append(value)
            return
        unplannable[k] = "has no side computable without the answer"

    failures = {}
    namespace = {"__name__": "tests", "__expect__": expect}
    namespace.update((name, AnswerValue()) for name in answer)
    out = CappedOutput()
    sys.stdout = sys.stderr = out
    try:
        tests = run_module(trusted_tree, "<tests>", namespace, lambda name, exc: failures.setdefault(name, exc))
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__

    problems = []
    for check in trusted.checks:
        k = check["id"]
        where = f"line {check['line']}: `{check['text']}`"
        check["evaluations"] = reached.get(k, 0)
        test = parse_assert(check["text"])
        if check.pop("misplaced"):
            problems.append(f"{where} is inside a helper; put asserts at top level or directly in a test_* function")
            continue
        if k in unplannable:
            problems.append(f"{where} {unplannable[k]}")
            continue
        if not reached.get(k):
            reason = failures.get(check["test"])
            why = f" ({type(reason).__name__}: {reason})" if reason else ""
            problems.append(f"{where} is never reached without the answer{why}")
            continue
        if check["op"] in ("truthy", "falsy"):
            sides[k] = "whole"
            observed = test.operand if check["op"] == "falsy" else test
        else:
            sides[k] = sides.get(k, "left")
            check["expected"] = expected[k]
            observed = test.left if sides[k] == "left" else test.comparators[0]
        pure = answer_rooted(observed, answer, tainted)
        if check["op"] in ("is", "is_not") and k not in guessable:
            problems.append(f"{where}: `is` compares only with None, True or False")
        elif not pure and (check["op"] != "eq" or k in guessable):
            problems.append(
                f"{where} judges the answer with code that would run beside it; compare the answer's "
                "value itself with an expected value, e.g. `assert area(2) == 12.57` or "
                "`assert round(area(2), 2) == 12.57`"
            )
    for name in tests:
        if not any(c["test"] == name for c in trusted.checks):
            problems.append(f"{name} has no assert of its own")
    if not trusted.checks:
        problems.append("the testing code has no assert")
    student_tree = Checks(testing_code, "__observe__", sides).visit(parse(testing_code))
    student_tree = slice_for_student(student_tree, answer)
    return json.dumps({
        "error": "; ".join(problems) or None,
        "checks": trusted.checks,
        "tests": tests,
        "student_source": ast.unparse(ast.fix_missing_locations(student_tree)),
    })


def parse_assert(text):
    """The test expression of an assert, from its source."""
    node = ast.parse(text).body[0]
    return node.test


def observe(job):
    job = json.loads(job)
    observations = {}
    errors = {}
    out = CappedOutput()
    sys.stdout = sys.stderr = out
    try:
        namespace = {"__name__": "__main__"}
        try:
            code = compile(job["code"], "<answer>", "exec")
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001
            return json.dumps({"error": short_traceback(exc), "stdout": out.getvalue(), "truncated": out.truncated})

        def record(k, side):
            seen = observations.setdefault(str(k), [])
            try:
                seen.append({"value": canon(side())})
            except BaseException as exc:  # noqa: BLE001
                seen.append({"raised": short_traceback(exc)})
                raise

        namespace["__observe__"] = record
        tree = ast.parse(job["tests"], "<tests>")
        run_module(tree, "<tests>", namespace, lambda name, exc: errors.setdefault(name, short_traceback(exc)))
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    return json.dumps({
        "observations": observations,
        "errors": errors,
        "stdout": out.getvalue(),
        "truncated": out.truncated,
    })


def run_program(code):
    """Runs the answer as a program for one input/output test case. The host gives this
    instance the case's standard input and reads its standard output itself; nothing here
    knows the expected output, so nothing here can be patched into passing."""
    namespace = {"__name__": "__main__"}
    stopped = ""
    try:
        exec(compile(code, "<answer>", "exec"), namespace)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            stopped = f"exit code {exc.code}"
    except BaseException as exc:  # noqa: BLE001
        stopped = short_traceback(exc)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 (a full output pipe is the host's to report)
            pass
    return stopped


def guarded(function, argument):
    """An exception escaping an export aborts the instance; report it as an error instead."""
    try:
        return function(argument)
    except BaseException as exc:  # noqa: BLE001
        return json.dumps({"error": "the runner failed: " + "".join(traceback.format_exception(exc))})


class WitWorld(wit_world.WitWorld):
    def plan(self, testing_code: str) -> str:
        return guarded(plan, testing_code)

    def observe(self, job: str) -> str:
        return guarded(observe, job)

    def run_program(self, code: str) -> str:
        return run_program(code)
