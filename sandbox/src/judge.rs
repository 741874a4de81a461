//! The verdict, decided on the host: the trusted plan's expected values against the values
//! the student's instance observed. Nothing the student's instance says is taken as a
//! verdict; a check passes only when its observed value equals (or, for `!=`, differs from)
//! the expected one, or has the required truthiness.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use crate::verdict::{Outcome, UnitResult, Verdict};

/// The unit of top-level asserts.
pub const MODULE_UNIT: &str = "<module>";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `==`: equal as Python compares (`True == 1`).
    Eq,
    /// `!=`.
    Ne,
    /// `is None` / `is True` / `is False`: equal and of the same kind.
    Is,
    IsNot,
    Truthy,
    Falsy,
}

/// Longest value shown in an explanation.
const MAX_SHOWN: usize = 300;

/// One assert of the testing code.
#[derive(Debug, Clone, Deserialize)]
pub struct Check {
    pub id: usize,
    /// The unit it belongs to.
    pub test: String,
    pub line: u32,
    /// The assert's source (never sent to the student's instance).
    pub text: String,
    pub op: Op,
    /// Canonical expected value per evaluation (`eq`/`ne` only; a check in a loop is
    /// evaluated once per iteration).
    #[serde(default)]
    pub expected: Option<Vec<Value>>,
    /// How many times the check runs.
    #[serde(default = "one")]
    pub evaluations: usize,
}

fn one() -> usize {
    1
}

/// What the trusted instance made of the testing code.
#[derive(Debug, Clone, Deserialize)]
pub struct Plan {
    /// Why the testing code cannot grade anything, if it cannot.
    pub error: Option<String>,
    #[serde(default)]
    pub checks: Vec<Check>,
    /// The `test_*` functions, in order.
    #[serde(default)]
    pub tests: Vec<String>,
    /// The testing code with each assert replaced by an observation; no expected values.
    #[serde(default)]
    pub student_source: String,
}

impl Plan {
    /// The scored units: each `test_*` function, and the top-level asserts as one more unit
    /// (the only one when there are no test functions).
    pub fn units(&self) -> Vec<String> {
        let mut units = self.tests.clone();
        if units.is_empty() || self.checks.iter().any(|c| c.test == MODULE_UNIT) {
            units.insert(0, MODULE_UNIT.to_owned());
        }
        units
    }
}

/// What the student's instance reported. Untrusted.
#[derive(Debug, Default, Deserialize)]
pub struct Report {
    /// The answer itself failed to compile or run.
    #[serde(default)]
    pub error: Option<String>,
    /// Check id to one `{"value": canonical}` or `{"raised": traceback}` per evaluation.
    #[serde(default)]
    pub observations: HashMap<String, Vec<serde_json::Map<String, Value>>>,
    /// Unit to the traceback that stopped it.
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
    #[serde(default)]
    pub stdout: String,
    /// The program printed more than the output limit.
    #[serde(default)]
    pub truncated: bool,
}

/// The kind and content of a canonical value (`{"num": "1", "bool": true}` is a `num`).
fn tagged(value: &Value) -> Option<(&str, &Value)> {
    value
        .as_object()?
        .iter()
        .find(|(tag, _)| tag.as_str() != "bool")
        .map(|(t, v)| (t.as_str(), v))
}

/// The value with booleans made plain numbers, as `==` sees them.
fn loosened(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(tag, _)| tag.as_str() != "bool")
                .map(|(t, v)| (t.clone(), loosened(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(loosened).collect()),
        other => other.clone(),
    }
}

fn is_plain(value: &Value) -> bool {
    match value {
        Value::Object(object) => !object.contains_key("opaque") && object.values().all(is_plain),
        Value::Array(items) => items.iter().all(is_plain),
        _ => true,
    }
}

/// Python truthiness of a canonical value; `None` for values that cannot be judged.
fn truthy(value: &Value) -> Option<bool> {
    if value.is_null() {
        return Some(false);
    }
    match tagged(value)? {
        ("num", Value::String(n)) => Some(n != "0"),
        ("float", _) => Some(true),
        ("str" | "bytes", Value::String(s)) => Some(!s.is_empty()),
        ("list" | "tuple" | "set" | "dict", Value::Array(items)) => Some(!items.is_empty()),
        _ => None,
    }
}

/// A canonical value as Python would print it, for teachers (cut to a few hundred chars).
pub fn display(value: &Value) -> String {
    let shown = show(value);
    match shown.char_indices().nth(MAX_SHOWN) {
        Some((cut, _)) => format!("{}…", &shown[..cut]),
        None => shown,
    }
}

fn show(value: &Value) -> String {
    let join = |items: &[Value]| items.iter().map(show).collect::<Vec<_>>().join(", ");
    if value.get("bool").is_some() {
        return if value.get("num") == Some(&Value::from("1")) {
            "True"
        } else {
            "False"
        }
        .to_owned();
    }
    let Some((tag, inner)) = tagged(value) else {
        return "None".to_owned();
    };
    match (tag, inner) {
        ("num" | "float", Value::String(n)) => n.clone(),
        ("str", Value::String(s)) => format!("{s:?}"),
        ("bytes", Value::String(h)) => format!("bytes.fromhex('{h}')"),
        ("list", Value::Array(items)) => format!("[{}]", join(items)),
        ("tuple", Value::Array(items)) if items.len() == 1 => format!("({},)", join(items)),
        ("tuple", Value::Array(items)) => format!("({})", join(items)),
        ("set", Value::Array(items)) if items.is_empty() => "set()".to_owned(),
        ("set", Value::Array(items)) => format!("{{{}}}", join(items)),
        ("dict", Value::Array(pairs)) => {
            let pairs: Vec<String> = pairs
                .iter()
                .filter_map(|p| Some(format!("{}: {}", show(p.get(0)?), show(p.get(1)?))))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
        ("opaque", Value::String(kind)) => format!("<{kind}>"),
        _ => "<?>".to_owned(),
    }
}

enum CheckResult {
    Passed,
    Mismatch(String),
    Raised(String),
}

fn judge_check(check: &Check, report: &Report) -> CheckResult {
    let where_ = format!("line {}: `{}`", check.line, check.text);
    let observed = report
        .observations
        .get(&check.id.to_string())
        .map_or(&[][..], Vec::as_slice);
    if observed.len() > check.evaluations {
        return CheckResult::Mismatch(format!(
            "{where_}: reported {} times, runs {}",
            observed.len(),
            check.evaluations
        ));
    }
    for (i, evaluation) in observed.iter().enumerate() {
        if let Some(traceback) = evaluation.get("raised").and_then(Value::as_str) {
            return CheckResult::Raised(format!("{where_} raised:\n{traceback}"));
        }
        let Some(value) = evaluation.get("value") else {
            return CheckResult::Mismatch(format!("{where_}: no value was observed"));
        };
        let expected = check.expected.as_ref().and_then(|e| e.get(i));
        let plain = is_plain(value);
        let equal = expected.is_some_and(|e| loosened(e) == loosened(value));
        let identical = expected == Some(value);
        let passed = match check.op {
            Op::Eq => plain && equal,
            Op::Ne => plain && expected.is_some() && !equal,
            Op::Is => plain && identical,
            Op::IsNot => plain && expected.is_some() && !identical,
            Op::Truthy => truthy(value) == Some(true),
            Op::Falsy => truthy(value) == Some(false),
        };
        if !passed {
            return CheckResult::Mismatch(format!("{where_}: got {}", display(value)));
        }
    }
    if observed.len() != check.evaluations {
        return CheckResult::Mismatch(format!(
            "{where_}: ran {} of {} times",
            observed.len(),
            check.evaluations
        ));
    }
    CheckResult::Passed
}

/// Decides the verdict of a run that completed (limits and traps are decided by the caller).
pub fn judge(plan: &Plan, report: &Report) -> Verdict {
    let unit_names = plan.units();
    let stdout = report.stdout.clone();
    if let Some(error) = &report.error {
        let mut verdict = Verdict::ended_early(Outcome::RuntimeError(error.clone()), &unit_names);
        verdict.stdout = stdout;
        return verdict;
    }
    let mut first_failure: Option<Outcome> = None;
    let mut units = Vec::with_capacity(unit_names.len());
    for name in &unit_names {
        let mut failure = report
            .errors
            .get(name)
            .map(|tb| Outcome::RuntimeError(format!("{name} raised:\n{tb}")));
        for check in plan.checks.iter().filter(|c| &c.test == name) {
            match judge_check(check, report) {
                CheckResult::Passed => {}
                CheckResult::Raised(detail) => {
                    failure.get_or_insert(Outcome::RuntimeError(detail));
                }
                CheckResult::Mismatch(detail) => {
                    failure.get_or_insert(Outcome::Failed(detail));
                }
            }
        }
        units.push(UnitResult::new(name.clone(), failure.is_none()));
        if let Some(failure) = failure {
            first_failure.get_or_insert(failure);
        }
    }
    Verdict {
        outcome: first_failure.unwrap_or(Outcome::Passed),
        units,
        stdout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan() -> Plan {
        serde_json::from_value(json!({
            "error": null,
            "tests": ["test_add", "test_sign"],
            "student_source": "",
            "checks": [
                {"id": 0, "test": "test_add", "line": 2, "text": "assert add(1, 2) == 3", "op": "eq", "expected": [{"num": "3"}]},
                {"id": 1, "test": "test_sign", "line": 4, "text": "assert is_pos(1)", "op": "truthy"},
                {"id": 2, "test": "test_sign", "line": 5, "text": "assert not is_pos(-1)", "op": "falsy"},
            ],
        }))
        .unwrap()
    }

    fn report(observations: Value) -> Report {
        serde_json::from_value(json!({"observations": observations})).unwrap()
    }

    #[test]
    fn matching_observations_pass_every_unit() {
        let r = report(
            json!({"0": [{"value": {"num": "3"}}], "1": [{"value": {"num": "1"}}], "2": [{"value": {"num": "0"}}]}),
        );
        let verdict = judge(&plan(), &r);
        assert_eq!(verdict.outcome, Outcome::Passed);
        assert_eq!(verdict.passed_units(), 2);
    }

    #[test]
    fn a_wrong_value_fails_its_unit_naming_the_check() {
        let r = report(
            json!({"0": [{"value": {"num": "4"}}], "1": [{"value": {"num": "1"}}], "2": [{"value": {"num": "0"}}]}),
        );
        let verdict = judge(&plan(), &r);
        assert_eq!(
            verdict.outcome,
            Outcome::Failed("line 2: `assert add(1, 2) == 3`: got 4".to_owned())
        );
        assert_eq!(
            verdict.units,
            vec![
                UnitResult::new("test_add", false),
                UnitResult::new("test_sign", true),
            ]
        );
    }

    #[test]
    fn a_forged_report_of_all_true_does_not_pass() {
        // What patching the observer to say `True` everywhere gives.
        let forged = report(
            json!({"0": [{"value": {"num": "1"}}], "1": [{"value": {"num": "1"}}], "2": [{"value": {"num": "1"}}]}),
        );
        let verdict = judge(&plan(), &forged);
        assert_eq!(verdict.passed_units(), 0);
    }

    #[test]
    fn missing_observations_and_opaque_values_fail() {
        let verdict = judge(&plan(), &report(json!({})));
        assert_eq!(verdict.passed_units(), 0);
        assert!(matches!(verdict.outcome, Outcome::Failed(ref d) if d.contains("ran 0 of 1")));
        let opaque = report(json!({"0": [{"value": {"opaque": "AlwaysEqual"}}]}));
        assert!(!judge(&plan(), &opaque).units[0].passed);
    }

    #[test]
    fn an_answer_that_raised_is_a_runtime_error() {
        let r: Report = serde_json::from_value(json!({"error": "NameError: x"})).unwrap();
        let verdict = judge(&plan(), &r);
        assert_eq!(
            verdict.outcome,
            Outcome::RuntimeError("NameError: x".to_owned())
        );
        assert_eq!(verdict.passed_units(), 0);
        let r = report(json!({"0": [{"raised": "ZeroDivisionError"}]}));
        assert!(
            matches!(judge(&plan(), &r).outcome, Outcome::RuntimeError(ref d) if d.contains("ZeroDivisionError"))
        );
    }

    #[test]
    fn top_level_asserts_are_one_unit_when_there_are_no_test_functions() {
        let plan: Plan = serde_json::from_value(json!({"error": null, "tests": [], "checks": [
            {"id": 0, "test": "<module>", "line": 1, "text": "assert f() == []", "op": "eq", "expected": [{"list": []}]}]}))
        .unwrap();
        assert_eq!(plan.units(), vec!["<module>"]);
        assert_eq!(
            judge(&plan, &report(json!({"0": [{"value": {"list": []}}]}))).outcome,
            Outcome::Passed
        );
        assert!(!judge(&plan, &report(json!({"0": [{"value": {"tuple": []}}]}))).units[0].passed);
    }

    #[test]
    fn a_check_in_a_loop_must_match_every_evaluation() {
        let plan: Plan = serde_json::from_value(json!({"error": null, "tests": [], "checks": [
            {"id": 0, "test": "<module>", "line": 2, "text": "assert double(x) == x * 2", "op": "eq",
             "expected": [{"num": "2"}, {"num": "4"}], "evaluations": 2}]}))
        .unwrap();
        let all = report(json!({"0": [{"value": {"num": "2"}}, {"value": {"num": "4"}}]}));
        assert_eq!(judge(&plan, &all).outcome, Outcome::Passed);
        let short = report(json!({"0": [{"value": {"num": "2"}}]}));
        assert!(
            matches!(judge(&plan, &short).outcome, Outcome::Failed(ref d) if d.contains("ran 1 of 2"))
        );
        let wrong = report(json!({"0": [{"value": {"num": "2"}}, {"value": {"num": "5"}}]}));
        assert!(!judge(&plan, &wrong).units[0].passed);
    }

    #[test]
    fn booleans_equal_numbers_but_are_not_them() {
        let check = |op: &str, observed: Value| {
            let plan: Plan = serde_json::from_value(json!({"error": null, "tests": [], "checks": [
                {"id": 0, "test": "<module>", "line": 1, "text": "assert f() is True", "op": op,
                 "expected": [{"num": "1", "bool": true}]}]}))
            .unwrap();
            judge(&plan, &report(json!({"0": [{"value": observed}]}))).outcome == Outcome::Passed
        };
        assert!(check("eq", json!({"num": "1"})));
        assert!(!check("is", json!({"num": "1"})));
        assert!(check("is", json!({"num": "1", "bool": true})));
        assert!(check("is_not", json!({"num": "0", "bool": true})));
    }

    #[test]
    fn reporting_a_check_more_often_than_it_runs_fails_it() {
        let r = report(
            json!({"0": [{"value": {"num": "3"}}, {"value": {"num": "3"}}],
                              "1": [{"value": {"num": "1"}}], "2": [{"value": {"num": "0"}}]}),
        );
        assert!(!judge(&plan(), &r).units[0].passed);
    }

    #[test]
    fn values_display_as_python_prints_them() {
        let v = json!({"dict": [[{"str": "a"}, {"tuple": [{"num": "1"}]}], [{"str": "b"}, {"set": []}]]});
        assert_eq!(display(&v), "{\"a\": (1,), \"b\": set()}");
        assert_eq!(display(&Value::Null), "None");
        assert_eq!(display(&json!({"num": "0", "bool": true})), "False");
        assert!(display(&json!({"str": "x".repeat(1000)})).chars().count() <= MAX_SHOWN + 1);
    }
}
