"""TestIT's Python grading runner, built into a Wasm component by componentize-py.

The host calls its two exports in two separate, fresh instances:

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
COMPARISONS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Is: "eq", ast.IsNot: "ne"}


def canon(value, depth=0, budget=None):
    """A canonical, JSON-able form of plain values; equal forms mean Python-equal values."""
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return {"opaque": "too large"}
    kind = type(value)
    if value is None:
        return None
    if kind is bool or kind is int:
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


def short_traceback(exc):
    """The traceback without this runner's frames."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(line for line in lines if "runner.py" not in line)


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

    def visit_FunctionDef(self, node):
        outer = self.owner
        if self.owner == MODULE_CHECK and node.name.startswith("test_"):
            self.owner = node.name
        self.generic_visit(node)
        self.owner = outer
        return node

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
            "test": self.owner,
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
    __hash__ = object.__hash__


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
    """Drops the statements the student's instance does not need: those that neither use
    the answer nor feed what is observed (e.g. `EXPECTED = sorted(...)`), so expected
    values computed by the testing code stay out of the student's instance."""
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    keep = set()
    needed = set()
    changed = True
    while changed:
        changed = False
        for statement in statements:
            if id(statement) in keep:
                continue
            is_test = isinstance(statement, ast.FunctionDef) and statement.name.startswith("test_")
            if isinstance(statement, SIMPLE) and not is_test:
                wanted = written(statement) & needed or names(statement, ast.Load) & answer
            else:
                wanted = True  # observations, calls, control flow, test functions
            if wanted:
                keep.add(id(statement))
                parts = header(statement) if not isinstance(statement, SIMPLE) or is_test else [statement]
                if isinstance(statement, (ast.Expr, ast.Return, ast.Raise)):
                    parts = [statement]
                for part in parts:
                    needed |= names(part, ast.Load)
                changed = True

    class Prune(ast.NodeTransformer):
        def generic_visit(self, node):
            super().generic_visit(node)
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    kept = [s for s in block if id(s) in keep]
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
        tree = ast.parse(testing_code, "<tests>")
    except SyntaxError as exc:
        return json.dumps({"error": "".join(traceback.format_exception_only(type(exc), exc))})
    answer = answer_names(tree)
    trusted = Checks(testing_code, "__expect__")
    trusted_tree = trusted.visit(ast.parse(testing_code, "<tests>"))
    reached = {}  # check id -> times the trusted run reached it
    expected = {}  # check id -> [canonical value per evaluation]
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
                value = canon(side())
            except Exception:  # noqa: BLE001 (it uses the answer)
                continue
            if "opaque" in json.dumps(value):
                continue  # it holds the answer's result (or is no plain value)
            if sides.setdefault(k, observed) != observed:
                unplannable[k] = "its expected side changes between evaluations"
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
        if k in unplannable:
            problems.append(f"{where} {unplannable[k]}")
        elif not reached.get(k):
            reason = failures.get(check["test"])
            why = f" ({type(reason).__name__}: {reason})" if reason else ""
            problems.append(f"{where} is never reached without the answer{why}")
        elif check["op"] in ("truthy", "falsy"):
            sides[k] = "whole"
        else:
            check["expected"] = expected[k]
    if not trusted.checks:
        problems.append("the testing code has no assert")
    student_tree = Checks(testing_code, "__observe__", sides).visit(ast.parse(testing_code, "<tests>"))
    student_tree = slice_for_student(student_tree, answer)
    return json.dumps({
        "error": "; ".join(problems) or None,
        "checks": trusted.checks,
        "tests": tests,
        "student_source": ast.unparse(ast.fix_missing_locations(student_tree)),
    })


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
