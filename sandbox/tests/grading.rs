//! Real grading runs: CPython in Wasmtime, built once per machine into `target/tmp`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sandbox::{Grader, Job, Limits, Outcome, PythonRuntime, Verdict};

fn runtime() -> Arc<PythonRuntime> {
    static RUNTIME: OnceLock<Arc<PythonRuntime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("testit-runtimes");
            Arc::new(PythonRuntime::prepare(&dir, "python3", 4).expect("the Python runtime builds"))
        })
        .clone()
}

const ADD_TESTS: &str = "def test_small():\n    assert add(1, 2) == 3\n\ndef test_negative():\n    assert add(-5, 2) == -3\n";
const CORRECT: &str = "def add(a, b):\n    return a + b\n";

fn grade_with(code: &str, testing_code: &str, limits: Limits) -> Verdict {
    let grader = Grader::new(runtime()).unwrap();
    let job = Job::python(code, testing_code, limits);
    let verdict = grader.grade(&job);
    // Whatever happened, the sandbox still grades the next answer.
    let follow_up = Job::python(CORRECT, ADD_TESTS, Limits::default());
    assert_eq!(
        grader.grade(&follow_up).outcome,
        Outcome::Passed,
        "sandbox unhealthy after {code:?}"
    );
    verdict
}

fn grade(code: &str) -> Verdict {
    grade_with(code, ADD_TESTS, Limits::default())
}

/// One unit no constant answer can pass, so forging a constant report cannot either.
const FORGE_TESTS: &str = "def test_add():\n    assert add(1, 2) == 3\n    assert add(2, 5) == 7\n";

fn assert_not_passed(code: &str) -> Verdict {
    assert_not_passed_on(code, ADD_TESTS)
}

fn assert_not_passed_on(code: &str, testing_code: &str) -> Verdict {
    let verdict = grade_with(code, testing_code, Limits::default());
    assert_ne!(verdict.outcome, Outcome::Passed, "{code}");
    assert_eq!(verdict.passed_units(), 0, "{code}: {verdict:?}");
    verdict
}

#[test]
fn a_correct_answer_passes_every_test_function() {
    let verdict = grade(CORRECT);
    assert_eq!(verdict.outcome, Outcome::Passed);
    assert_eq!(verdict.passed_units(), 2);
}

#[test]
fn a_wrong_answer_fails_with_the_failing_check() {
    let verdict = grade("def add(a, b):\n    return a - b\n");
    assert_eq!(verdict.passed_units(), 0);
    let Outcome::Failed(detail) = verdict.outcome else {
        panic!("{verdict:?}")
    };
    assert!(
        detail.contains("assert add(1, 2) == 3") && detail.contains("got -1"),
        "{detail}"
    );
}

#[test]
fn a_partly_correct_answer_passes_some_test_functions() {
    let verdict = grade("def add(a, b):\n    return abs(a + b)\n");
    assert_eq!(verdict.passed_units(), 1);
    assert!(matches!(verdict.outcome, Outcome::Failed(_)));
}

#[test]
fn top_level_asserts_and_truthiness_checks_work_without_test_functions() {
    let tests = "assert is_even(4)\nassert not is_even(3)\nassert is_even(10) == True\n";
    let good = grade_with(
        "def is_even(n):\n    return n % 2 == 0\n",
        tests,
        Limits::default(),
    );
    assert_eq!(good.outcome, Outcome::Passed);
    let lazy = grade_with(
        "def is_even(n):\n    return True\n",
        tests,
        Limits::default(),
    );
    assert_eq!(lazy.passed_units(), 0);
}

#[test]
fn a_syntax_error_is_a_runtime_error_with_its_message() {
    let verdict = assert_not_passed("def add(a, b)\n    return a + b\n");
    let Outcome::RuntimeError(detail) = verdict.outcome else {
        panic!("{verdict:?}")
    };
    assert!(detail.contains("SyntaxError"), "{detail}");
}

#[test]
fn an_exception_is_a_runtime_error_with_a_traceback() {
    let verdict = assert_not_passed("def add(a, b):\n    return a / 0\n");
    let Outcome::RuntimeError(detail) = verdict.outcome else {
        panic!("{verdict:?}")
    };
    assert!(
        detail.contains("ZeroDivisionError") && !detail.contains("runner.py"),
        "{detail}"
    );
}

#[test]
fn an_infinite_loop_hits_the_time_limit() {
    let limits = Limits {
        time: Duration::from_millis(500),
        ..Limits::default()
    };
    let verdict = grade_with(
        "def add(a, b):\n    while True:\n        pass\n",
        ADD_TESTS,
        limits,
    );
    assert_eq!(verdict.outcome, Outcome::TimeLimit);
}

#[test]
fn sleeping_hits_the_time_limit() {
    let limits = Limits {
        time: Duration::from_millis(500),
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let verdict = grade_with(
        "import time\ndef add(a, b):\n    time.sleep(30)\n    return a + b\n",
        ADD_TESTS,
        limits,
    );
    assert_eq!(verdict.outcome, Outcome::TimeLimit);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let verdict = assert_not_passed("def add(a, b):\n    x = bytearray(10**9)\n    return a + b\n");
    assert_eq!(verdict.outcome, Outcome::MemoryLimit);
    let growing = assert_not_passed(
        "def add(a, b):\n    x = []\n    while True:\n        x.append('x' * 10**6)\n",
    );
    assert!(
        matches!(growing.outcome, Outcome::MemoryLimit | Outcome::TimeLimit),
        "{growing:?}"
    );
}

#[test]
fn an_output_flood_hits_the_output_limit() {
    let verdict = assert_not_passed("def add(a, b):\n    while True:\n        print('x' * 1000)\n");
    assert!(
        matches!(verdict.outcome, Outcome::OutputLimit | Outcome::TimeLimit),
        "{verdict:?}"
    );
    let raw = assert_not_passed("import os\ndef add(a, b):\n    for _ in range(10**5):\n        os.write(1, b'x' * 1000)\n    return a + b\n");
    assert_eq!(raw.outcome, Outcome::OutputLimit);
}

#[test]
fn deep_recursion_is_a_runtime_error() {
    let verdict = assert_not_passed("def add(a, b):\n    return add(a, b)\n");
    assert!(
        matches!(verdict.outcome, Outcome::RuntimeError(_)),
        "{verdict:?}"
    );
}

#[test]
fn host_files_network_and_processes_are_out_of_reach() {
    for code in [
        "def add(a, b):\n    return len(open('/etc/passwd').read())\n",
        "import os\ndef add(a, b):\n    return len(os.listdir('/'))\n",
        "import socket\ndef add(a, b):\n    return a + b\n",
        "import _socket\ndef add(a, b):\n    _socket.socket()\n    return a + b\n",
        "import os\ndef add(a, b):\n    os.system('echo hi')\n    return a + b\n",
        "import subprocess\ndef add(a, b):\n    return a + b\n",
    ] {
        let verdict = assert_not_passed(code);
        assert!(
            matches!(verdict.outcome, Outcome::RuntimeError(_)),
            "{code}: {verdict:?}"
        );
    }
}

#[test]
fn exiting_before_the_checks_never_passes() {
    for code in [
        "import sys\nsys.exit(0)\n",
        "raise SystemExit(0)\n",
        "import os\nos._exit(0)\n",
        "import sys\ndef add(a, b):\n    sys.exit(0)\n",
        "import os\ndef add(a, b):\n    os._exit(0)\n",
    ] {
        assert_not_passed(code);
    }
}

/// A forged report is only ever as good as some honest program's: the student's instance
/// never holds an expected value, so it cannot report one it did not compute.
#[test]
fn forging_the_report_never_passes() {
    for code in [
        // Make every observation look like True.
        "import json\n_dumps = json.dumps\njson.dumps = lambda *a, **k: '{\"observations\": {\"0\": {\"value\": {\"num\": \"1\"}}, \"1\": {\"value\": {\"num\": \"1\"}}}}'\n",
        // A value equal to anything.
        "class Any:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Any()\n",
        // Patch the runner's own functions.
        "import sys\nrunner = sys.modules.get('runner')\nif runner:\n    runner.canon = lambda *a, **k: {'num': '3'}\ndef add(a, b):\n    return 0\n",
        // Replace the builtins the runner relies on.
        "import builtins\nbuiltins.exec = lambda *a, **k: None\ndef add(a, b):\n    return 0\n",
    ] {
        assert_not_passed_on(code, FORGE_TESTS);
    }
}

#[test]
fn expected_values_never_reach_the_students_instance() {
    // The answer searches everything it can reach for the expected value and returns it
    // (it builds the number without writing it, so its own code does not hold it).
    let spy = r#"
import gc, sys
def add(a, b):
    target = int("31" + "337")
    seen = set()
    for obj in gc.get_objects():
        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple, set)) else ()
        for item in items:
            if type(item) in (int, str):
                seen.add(item)
    frame = sys._getframe().f_back
    while frame:
        seen.update(frame.f_code.co_consts)
        seen.update(frame.f_globals.values())
        seen.update(frame.f_locals.values())
        frame = frame.f_back
    return target if target in seen or str(target) in seen else -1
"#;
    let verdict = grade_with(spy, "assert add(1, 2) == 31337\n", Limits::default());
    assert_eq!(verdict.passed_units(), 0, "{verdict:?}");
}

#[test]
fn unusable_testing_code_is_an_internal_error_not_the_students_fault() {
    let grader = Grader::new(runtime()).unwrap();
    for (tests, why) in [
        ("def test_x(:\n", "SyntaxError"),
        (
            "assert add(1, 2) == add(2, 1)\n",
            "computable without the answer",
        ),
        ("print('no asserts')\n", "no assert"),
    ] {
        let problem = grader.check_testing_code(tests).unwrap_err();
        assert!(problem.contains(why), "{tests:?}: {problem}");
        let verdict = grade_with(CORRECT, tests, Limits::default());
        assert!(
            matches!(verdict.outcome, Outcome::InternalError(_)),
            "{verdict:?}"
        );
    }
    assert_eq!(grader.check_testing_code(ADD_TESTS), Ok(()));
    // A check may observe a variable the answer computed.
    assert_eq!(
        grader.check_testing_code("x = add(1, 2)\nassert x == 3\n"),
        Ok(())
    );
}

#[test]
fn expected_values_may_be_on_either_side_and_use_helpers() {
    let tests = "EXPECTED = sorted([3, 1, 2])\n\ndef test_sort():\n    assert EXPECTED == my_sort([3, 1, 2])\n    assert my_sort([]) == []\n    assert my_sort([2, 1]) != [2, 1]\n";
    let good = grade_with(
        "def my_sort(xs):\n    return sorted(xs)\n",
        tests,
        Limits::default(),
    );
    assert_eq!(good.outcome, Outcome::Passed, "{good:?}");
    let tuple = grade_with(
        "def my_sort(xs):\n    return tuple(sorted(xs))\n",
        tests,
        Limits::default(),
    );
    assert_eq!(tuple.passed_units(), 0, "a tuple is not a list: {tuple:?}");
}

#[test]
fn helper_values_of_the_testing_code_stay_out_of_the_students_instance() {
    let tests = "SECRET = int('31' + '337')\n\ndef test_add():\n    assert add(1, 2) == SECRET\n";
    let reader = "import sys\ndef add(a, b):\n    return sys.modules['__main__'].__dict__.get('SECRET', globals().get('SECRET', -1))\n";
    let verdict = grade_with(reader, tests, Limits::default());
    assert_eq!(verdict.passed_units(), 0, "{verdict:?}");
}

#[test]
fn test_functions_may_keep_the_answers_results_and_loop_over_inputs() {
    let tests = "def test_double():\n    r = double(2)\n    assert r == 4\n    for x in range(5):\n        assert double(x) == x * 2\n";
    let good = grade_with(
        "def double(x):\n    return 2 * x\n",
        tests,
        Limits::default(),
    );
    assert_eq!(good.outcome, Outcome::Passed, "{good:?}");
    // Right on all but the last input.
    let off = grade_with(
        "def double(x):\n    return 2 * x if x < 4 else 0\n",
        tests,
        Limits::default(),
    );
    assert_eq!(off.passed_units(), 0, "{off:?}");
}

#[test]
fn predicates_wrapped_around_the_answer_are_refused_as_forgeable() {
    let grader = Grader::new(runtime()).unwrap();
    for tests in [
        "def test_area():\n    assert abs(area(2) - 12.566) < 1e-3\n",
        "assert (area(2) > 12) == True\n",
        "assert isinstance(area(2), float)\n",
        "assert area(2) != None and True\n",
    ] {
        let problem = grader.check_testing_code(tests).unwrap_err();
        assert!(
            problem.contains("compare the answer's value itself"),
            "{tests}: {problem}"
        );
    }
    // The tolerant way that is accepted: the expected value stays hidden.
    let tests = "def test_area():\n    assert round(area(2), 2) == 12.57\n";
    assert_eq!(grader.check_testing_code(tests), Ok(()));
    let forger = "import sys\nsys._getframe(1).f_globals['canon'] = lambda *a, **k: {'num': '1'}\ndef area(r):\n    return 0\n";
    assert_not_passed_on(forger, tests);
    let honest = grade_with(
        "import math\ndef area(r):\n    return math.pi * r * r\n",
        tests,
        Limits::default(),
    );
    assert_eq!(honest.outcome, Outcome::Passed, "{honest:?}");
}

#[test]
fn values_the_testing_code_uses_only_for_expectations_never_reach_the_answer() {
    let tests = "TABLE = {3: 2, 10: 55}\n\ndef ref(n):\n    return TABLE[n]\n\ndef test_fib():\n    assert fib(10) == ref(10)\n";
    assert_not_passed_on("def fib(n):\n    return globals()['TABLE'][n]\n", tests);
    let split = "def test_sort():\n    result, expected = my_sort([3, 1, 2]), sorted([3, 1, 2])\n    assert result == expected\n";
    let reader = "import sys\ndef my_sort(xs):\n    return sys._getframe(1).f_locals.get('expected', 'no peeking')\n";
    assert_not_passed_on(reader, split);
    let honest = grade_with(
        "def my_sort(xs):\n    return sorted(xs)\n",
        split,
        Limits::default(),
    );
    assert_eq!(honest.outcome, Outcome::Passed, "{honest:?}");
}

#[test]
fn asserts_must_belong_to_a_unit_and_every_test_function_needs_one() {
    let grader = Grader::new(runtime()).unwrap();
    let helper = "def check(n, w):\n    assert sq(n) == w\n\ndef test_a():\n    check(2, 4)\n";
    let problem = grader.check_testing_code(helper).unwrap_err();
    assert!(
        problem.contains("inside a helper") && problem.contains("test_a has no assert"),
        "{problem}"
    );
    let expecting_exception = "def test_raises():\n    try:\n        f(-1)\n        assert False\n    except ValueError:\n        pass\n";
    assert!(grader.check_testing_code(expecting_exception).is_err());
}

#[test]
fn is_true_needs_a_real_true() {
    let tests = "assert is_even(4) is True\nassert is_even(3) is not True\n";
    assert_not_passed_on("def is_even(n):\n    return 1 - n % 2\n", tests);
    let strict = grade_with(
        "def is_even(n):\n    return n % 2 == 0\n",
        tests,
        Limits::default(),
    );
    assert_eq!(strict.outcome, Outcome::Passed, "{strict:?}");
}

#[test]
fn a_huge_result_is_refused_not_buffered() {
    let verdict = assert_not_passed_on("def add(a, b):\n    return 'x' * 10**7\n", FORGE_TESTS);
    assert!(
        matches!(verdict.outcome, Outcome::RuntimeError(_)),
        "{verdict:?}"
    );
    let raised = assert_not_passed_on(
        "def add(a, b):\n    raise ValueError('x' * 10**7)\n",
        FORGE_TESTS,
    );
    assert!(
        raised.explanation().unwrap().chars().count() <= 4097,
        "explanations are bounded"
    );
}
