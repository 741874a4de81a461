//! Input/output test cases, really run: Python (CPython in a component) and JavaScript
//! (QuickJS-NG), both prepared once per machine into `target/tmp`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sandbox::Pending;
use sandbox::{
    Grader, JavascriptRuntime, Job, Language, Limits, Outcome, PythonRuntime, TestCase, Verdict,
};

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("testit-runtimes")
}

fn grader() -> Grader {
    static PYTHON: OnceLock<Arc<PythonRuntime>> = OnceLock::new();
    static JAVASCRIPT: OnceLock<Arc<Pending<JavascriptRuntime>>> = OnceLock::new();
    let python = PYTHON
        .get_or_init(|| {
            Arc::new(
                PythonRuntime::prepare(&dir(), "python3", 4).expect("the Python runtime builds"),
            )
        })
        .clone();
    let javascript = JAVASCRIPT
        .get_or_init(|| {
            Arc::new(Pending::new(|| {
                JavascriptRuntime::prepare(&dir(), "python3").map_err(|e| e.to_string())
            }))
        })
        .clone();
    Grader::new(python).unwrap().with_javascript(javascript)
}

/// Sums two integers; the third case is the kind a teacher hides.
fn sum_cases() -> Vec<TestCase> {
    [
        ("1 2\n", "3\n", 1),
        ("10 -4\n", "6\n", 2),
        ("100000000000 1", "100000000001", 1),
    ]
    .into_iter()
    .map(|(stdin, expected, points)| TestCase {
        stdin: stdin.into(),
        expected_output: expected.into(),
        points,
    })
    .collect()
}

const PY_SUM: &str = "a, b = map(int, input().split())\nprint(a + b)\n";
const JS_SUM: &str =
    "const [a, b] = readline().trim().split(/\\s+/).map(Number);\nconsole.log(a + b);\n";

fn grade_with(language: Language, code: &str, limits: Limits) -> Verdict {
    let grader = grader();
    let job = |code: &str, limits| Job {
        language,
        code: code.to_owned(),
        testing_code: String::new(),
        test_cases: sum_cases(),
        limits,
    };
    let verdict = grader.grade(&job(code, limits));
    // Whatever happened, the sandbox still grades the next answer.
    let correct = if language == Language::Python {
        PY_SUM
    } else {
        JS_SUM
    };
    let follow_up = grader.grade(&job(correct, Limits::default()));
    assert_eq!(
        follow_up.outcome,
        Outcome::Passed,
        "unhealthy after {code:?}"
    );
    verdict
}

fn grade(language: Language, code: &str) -> Verdict {
    grade_with(language, code, Limits::default())
}

/// Hostile answers get a short time limit, so the suite stays quick.
fn short() -> Limits {
    Limits {
        time: Duration::from_millis(700),
        ..Limits::default()
    }
}

fn assert_all_failed(verdict: &Verdict) {
    assert_ne!(verdict.outcome, Outcome::Passed, "{verdict:?}");
    assert_eq!(verdict.passed_weight(), (0, 4), "{verdict:?}");
}

#[test]
fn a_correct_program_passes_every_case_in_both_languages() {
    for (language, code) in [(Language::Python, PY_SUM), (Language::Javascript, JS_SUM)] {
        let verdict = grade(language, code);
        assert_eq!(
            verdict.outcome,
            Outcome::Passed,
            "{language:?}: {verdict:?}"
        );
        assert_eq!(verdict.passed_weight(), (4, 4));
    }
}

#[test]
fn a_wrong_program_earns_the_points_of_the_cases_it_passes_and_names_the_first_difference() {
    let python = "a, b = map(int, input().split())\nprint(a + b if a < 5 else a - b)\n";
    let javascript =
        "const [a, b] = readline().split(' ').map(Number);\nconsole.log(a < 5 ? a + b : a - b);\n";
    for (language, code) in [
        (Language::Python, python),
        (Language::Javascript, javascript),
    ] {
        let verdict = grade(language, code);
        assert_eq!(verdict.passed_weight(), (1, 4), "{language:?}: {verdict:?}");
        assert_eq!(
            verdict.outcome,
            Outcome::Failed("case 2: line 1: expected \"6\", got \"14\"".into()),
            "{language:?}"
        );
        assert_eq!(
            verdict.units[1].detail.as_deref(),
            Some("case 2: line 1: expected \"6\", got \"14\"")
        );
    }
}

#[test]
fn an_uncaught_error_fails_its_case_with_the_message() {
    for (language, code, message) in [
        (
            Language::Python,
            "print(3)\nraise ValueError('boom')\n",
            "ValueError: boom",
        ),
        (
            Language::Javascript,
            "console.log(3);\nthrow new Error('boom');\n",
            "boom",
        ),
    ] {
        let verdict = grade(language, code);
        assert_all_failed(&verdict);
        let Outcome::RuntimeError(detail) = &verdict.outcome else {
            panic!("{language:?}: {verdict:?}")
        };
        assert!(detail.contains(message), "{language:?}: {detail}");
    }
}

#[test]
fn a_non_zero_exit_fails_even_with_the_right_output() {
    let verdict = grade(
        Language::Python,
        "import sys\na, b = map(int, input().split())\nprint(a + b)\nsys.exit(3)\n",
    );
    assert_all_failed(&verdict);
    let verdict = grade(
        Language::Javascript,
        "const [a, b] = readline().split(' ').map(Number);\nconsole.log(a + b);\nstd.exit(3);\n",
    );
    assert_all_failed(&verdict);
}

#[test]
fn infinite_loops_and_sleeping_hit_the_time_limit() {
    for (language, code) in [
        (Language::Python, "while True:\n    pass\n"),
        (Language::Python, "import time\ntime.sleep(30)\n"),
        (Language::Javascript, "for (;;) {}\n"),
        (Language::Javascript, "os.sleep(30000);\n"),
    ] {
        let verdict = grade_with(language, code, short());
        assert_all_failed(&verdict);
        assert_eq!(verdict.outcome, Outcome::TimeLimit, "{language:?} {code}");
    }
}

#[test]
fn memory_bombs_fail_at_a_limit() {
    for (language, code, limits) in [
        (
            Language::Python,
            "x = bytearray(10**9)\n",
            Limits::default(),
        ),
        (
            Language::Javascript,
            "const b = new Uint8Array(1e9);\nconsole.log(b.length);\n",
            Limits::default(),
        ),
        // Grows slowly (QuickJS collects garbage ever more often near its cap): whichever
        // limit comes first.
        (
            Language::Javascript,
            "const a = []; for (;;) a.push(new Array(1e6).fill(1));\n",
            short(),
        ),
    ] {
        let verdict = grade_with(language, code, limits);
        assert_all_failed(&verdict);
        assert!(
            matches!(verdict.outcome, Outcome::MemoryLimit | Outcome::TimeLimit),
            "{language:?}: {verdict:?}"
        );
    }
}

#[test]
fn giant_outputs_hit_the_output_limit() {
    for (language, code) in [
        (Language::Python, "while True:\n    print('x' * 1000)\n"),
        (
            Language::Javascript,
            "const s = 'x'.repeat(1000); for (;;) console.log(s);\n",
        ),
    ] {
        let verdict = grade_with(language, code, short());
        assert_all_failed(&verdict);
        assert_eq!(
            verdict.outcome,
            Outcome::OutputLimit,
            "{language:?}: {verdict:?}"
        );
    }
}

#[test]
fn host_files_are_out_of_reach() {
    for (language, code) in [
        (Language::Python, "print(open('/etc/passwd').read())\n"),
        (Language::Javascript, "console.log(std.loadFile('/etc/passwd'));\nconsole.log(std.open('/etc/passwd', 'r'));\n"),
    ] {
        let verdict = grade(language, code);
        assert_all_failed(&verdict);
        assert!(!verdict.stdout.contains("root:"), "{language:?}: {verdict:?}");
    }
}

#[test]
fn printing_every_cases_expected_output_passes_none() {
    // The only way to know other cases' outputs is to print them all; that fails them all.
    for (language, code) in [
        (Language::Python, "print('3\\n6\\n100000000001')\n"),
        (
            Language::Javascript,
            "console.log('3\\n6\\n100000000001');\n",
        ),
    ] {
        assert_all_failed(&grade(language, code));
    }
}

#[test]
fn python_test_cases_and_testing_code_add_up() {
    let job = Job {
        language: Language::Python,
        // Asserts run the answer too, with empty standard input.
        code: "import sys\n\ndef add(a, b):\n    return a + b\n\ndata = sys.stdin.read().split()\nif data:\n    print(add(int(data[0]), int(data[1])))\n".into(),
        testing_code: "assert add(2, 2) == 4\n".into(),
        test_cases: sum_cases(),
        limits: Limits::default(),
    };
    let verdict = grader().grade(&job);
    assert_eq!(verdict.outcome, Outcome::Passed, "{verdict:?}");
    assert_eq!(verdict.passed_weight(), (5, 5));
    assert_eq!(verdict.units[0].name, "<module>");
    assert_eq!(verdict.units[3].name, "case 3");
}

#[test]
fn c_and_cpp_are_refused_not_faked() {
    for language in [Language::C, Language::Cpp] {
        let job = Job {
            language,
            code: "int main(void) { return 0; }".into(),
            testing_code: String::new(),
            test_cases: sum_cases(),
            limits: Limits::default(),
        };
        assert!(matches!(
            grader().grade(&job).outcome,
            Outcome::InternalError(_)
        ));
    }
}

#[test]
fn starting_a_process_fails_so_the_correct_code_after_it_never_runs() {
    for (language, code) in [
        (
            Language::Python,
            format!("import subprocess\nsubprocess.run(['true'])\n{PY_SUM}"),
        ),
        (
            Language::Javascript,
            format!("os.exec(['true']);\n{JS_SUM}"),
        ),
    ] {
        assert_all_failed(&grade(language, &code));
    }
}
