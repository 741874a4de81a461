//! `bench stats`: the cost of one incoming completion on a test's item statistics, with the
//! class already counted (100, 1,000, 5,000 students), in process: the running sums of
//! `testing::statistics` take the completion and give the figures the live view would send.

use std::time::Instant;

use testit::store::{Answer, Completion, Question, QuestionKind, Response, Test, Variant};
use testit::testing::statistics::Accumulator;

const QUESTIONS: i64 = 10;

fn test() -> Test {
    let questions = (0..QUESTIONS)
        .map(|i| Question {
            id: i + 1,
            text: format!("Question {i}"),
            kind: QuestionKind::Radio,
            number_in_test: i + 1,
            points: 1,
            variants: (0..4)
                .map(|v| Variant {
                    id: i * 10 + v,
                    text: format!("{v}"),
                    is_correct: v == 0,
                })
                .collect(),
            testing_code: None,
            strict_score: true,
            version: 0,
            language: Default::default(),
            test_cases: Vec::new(),
        })
        .collect();
    Test {
        id: 1,
        organization_id: 1,
        creator_id: 1,
        name: "Bench".into(),
        public_uuid: String::new(),
        questions,
        available_for: vec![],
        time_limit_seconds: None,
        max_attempts: None,
        opens_at: None,
        closes_at: None,
        group_windows: vec![],
        created_at: 0,
    }
}

/// Student `n`'s completion: picks spread by a fixed rule, so scores vary.
fn completion(test: &Test, n: usize) -> Completion {
    let answers: Vec<Answer> = test
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let pick = q.variants[(n * 7 + i * 3) % 4].id;
            let right = q.variants.iter().any(|v| v.id == pick && v.is_correct);
            Answer {
                question: q.clone(),
                response: Response::Single(pick),
                is_correct: Some(right),
                points: if right { 1.0 } else { 0.0 },
                runtime_errors: None,
                checks: Vec::new(),
                answer_id: None,
            }
        })
        .collect();
    Completion {
        id: n as i64,
        test_id: test.id,
        test_uuid: String::new(),
        test_name: String::new(),
        organization_id: 1,
        creator_id: 1,
        user_id: n as i64,
        groups: vec![],
        submitted_at: 1_000 + n as i64,
        started_at: Some(n as i64),
        score: answers.iter().map(|a| a.points).sum(),
        max_score: QUESTIONS as f64,
        answers,
        pending: false,
        attempt_key: None,
    }
}

pub fn run() {
    let test = test();
    println!("bench stats: one completion (10 radio questions) added to the running sums, then the figures read");
    println!(
        "{:>9} {:>14} {:>16}",
        "students", "µs per event", "full fold (ms)"
    );
    for class in [100usize, 1_000, 5_000] {
        let completions: Vec<Completion> = (0..class).map(|n| completion(&test, n)).collect();
        let started = Instant::now();
        let mut sums = Accumulator::new(&test);
        for c in &completions {
            sums.add(c);
        }
        std::hint::black_box(sums.statistics());
        let fold = started.elapsed();
        // Events on top of the class, each read back as the live view would.
        let events: Vec<Completion> = (class..class + 1_000)
            .map(|n| completion(&test, n))
            .collect();
        let started = Instant::now();
        for event in &events {
            sums.add(event);
            std::hint::black_box(sums.statistics());
        }
        let per_event = started.elapsed().as_secs_f64() * 1e6 / events.len() as f64;
        println!(
            "{class:>9} {per_event:>14.1} {:>16.1}",
            fold.as_secs_f64() * 1e3
        );
    }
}
