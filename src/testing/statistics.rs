//! Item statistics of a test: how hard each question was, whether it separated strong from
//! weak students, what was picked, and the spread and reliability of the whole test.
//!
//! The figures are kept as running sums ([`Accumulator`]): adding one completion touches
//! only its own answers, so the live view can update them per incoming completion at a cost
//! that does not grow with the class (the median is read from a sorted count of scores).
//! [`compute`] is the same fold over completions loaded from the store.
//!
//! Formulas (every graded completion counts once; completions whose code answers are
//! still being graded are left out until they are graded, and counted as `pending`):
//!
//! - **facility** of a question: the points its answers earned over the points they could
//!   earn (mean points / max), 0 to 1.
//! - **discrimination**: the point-biserial (Pearson) correlation between a question's
//!   points and the *rest* of the test (the completion's score minus that question's
//!   points), so the question is not correlated with itself. `null` when either side does
//!   not vary, or with fewer than two completions.
//! - **standard deviation** and item variances: sample (divided by n − 1).
//! - **Cronbach's alpha**: `k / (k − 1) × (1 − Σ item variances / variance of the
//!   scores)` over the k questions answered (or left unanswered) in the completions;
//!   `null` with fewer than two questions or when the scores do not vary.
//! - **median time**: of whole attempts (`submitted_at − started_at`), where the attempt's
//!   start is on record; the store keeps no per-question timestamps.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::access::managed_test;
use crate::error::ApiError;
use crate::store::{Completion, Filter, QuestionKind, Response, Store, Test, User};

/// The share of students picking one variant of a choice question.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VariantShare {
    pub id: i64,
    pub text: String,
    pub is_correct: bool,
    /// Completions that picked it.
    pub picked: u64,
    /// `picked` over the completions counted for the question (0 to 1).
    pub share: f64,
}

/// The figures of one question of the test.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionStatistics {
    pub question: i64,
    pub number_in_test: i64,
    #[serde(rename = "type")]
    pub kind: super::views::Kind,
    pub points: i64,
    /// Completions that answered it.
    pub answered: u64,
    /// Completions that hold it but left it unanswered (or empty).
    pub unanswered: u64,
    pub mean_points: Option<f64>,
    /// Mean points over max points, 0 to 1.
    pub facility: Option<f64>,
    /// Point-biserial correlation with the rest of the test, −1 to 1.
    pub discrimination: Option<f64>,
    /// Radio and check questions: each variant of the current question, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<VariantShare>>,
}

/// The item statistics of a test (`GET /api/tests/{id}/statistics/`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TestStatistics)]
pub struct TestStatistics {
    pub test: i64,
    /// Graded completions counted.
    pub completions: u64,
    /// Completions left out while their code answers are being graded.
    pub pending: u64,
    pub max_score: f64,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    /// Sample standard deviation (n − 1) of the scores.
    pub standard_deviation: Option<f64>,
    pub cronbach_alpha: Option<f64>,
    /// Median seconds from an attempt's start to its submission, where the start is known.
    pub median_seconds: Option<f64>,
    /// The formula behind `discrimination`.
    pub discrimination_formula: &'static str,
    pub questions: Vec<QuestionStatistics>,
}

pub const DISCRIMINATION_FORMULA: &str =
    "point-biserial correlation of the question's points with the rest of the test (score minus the question's points)";

/// Running sums of one question.
#[derive(Debug, Clone, Default)]
struct Item {
    n: u64,
    answered: u64,
    sum_x: f64,
    sum_x2: f64,
    sum_max: f64,
    /// Of the totals of the completions holding the item (not every completion need hold
    /// every question, e.g. one added after some submissions).
    sum_t: f64,
    sum_t2: f64,
    sum_xt: f64,
    picks: BTreeMap<i64, u64>,
}

/// Running sums of a test's statistics, one completion at a time.
#[derive(Debug, Clone)]
pub struct Accumulator {
    test: Test,
    n: u64,
    pending: u64,
    sum_t: f64,
    sum_t2: f64,
    /// Scores (non-negative, so their bit patterns sort as they do) and how many have each.
    scores: BTreeMap<u64, u64>,
    seconds: BTreeMap<i64, u64>,
    /// By question id.
    items: BTreeMap<i64, Item>,
}

/// Sample variance from a count, a sum and a sum of squares.
fn variance(n: f64, sum: f64, sum2: f64) -> Option<f64> {
    if n < 2.0 {
        return None;
    }
    Some(((sum2 - sum * sum / n) / (n - 1.0)).max(0.0))
}

/// The median of sorted counts of values.
fn median<K: Copy>(counts: &BTreeMap<K, u64>, total: u64, value: impl Fn(K) -> f64) -> Option<f64> {
    if total == 0 {
        return None;
    }
    // The (total-1)/2-th and total/2-th values, 0-based: one and the same for odd totals.
    let (lo, hi) = ((total - 1) / 2, total / 2);
    let (mut seen, mut low) = (0u64, None);
    for (&key, &count) in counts {
        let next = seen + count;
        if low.is_none() && lo < next {
            low = Some(value(key));
        }
        if hi < next {
            return low.map(|l| (l + value(key)) / 2.0);
        }
        seen = next;
    }
    None
}

/// Tolerance below which a spread counts as none (sums of exact points are not exact).
const EPSILON: f64 = 1e-12;

impl Accumulator {
    pub fn new(test: &Test) -> Accumulator {
        Accumulator {
            items: test
                .questions
                .iter()
                .map(|q| (q.id, Item::default()))
                .collect(),
            test: test.clone(),
            n: 0,
            pending: 0,
            sum_t: 0.0,
            sum_t2: 0.0,
            scores: BTreeMap::new(),
            seconds: BTreeMap::new(),
        }
    }

    /// Counts one completion of the test. Answers to questions no longer in the test are
    /// left out of the items but stay in the completion's score.
    pub fn add(&mut self, completion: &Completion) {
        if completion.pending {
            self.pending += 1;
            return;
        }
        let t = completion.score.max(0.0);
        self.n += 1;
        self.sum_t += t;
        self.sum_t2 += t * t;
        *self.scores.entry(t.to_bits()).or_default() += 1;
        if let Some(start) = completion.started_at {
            *self
                .seconds
                .entry((completion.submitted_at - start).max(0))
                .or_default() += 1;
        }
        for answer in &completion.answers {
            let Some(item) = self.items.get_mut(&answer.question.id) else {
                continue;
            };
            let x = answer.points;
            item.n += 1;
            item.sum_x += x;
            item.sum_x2 += x * x;
            item.sum_max += answer.question.points as f64;
            item.sum_t += t;
            item.sum_t2 += t * t;
            item.sum_xt += x * t;
            match &answer.response {
                Response::Unanswered => {}
                Response::Single(id) => {
                    item.answered += 1;
                    *item.picks.entry(*id).or_default() += 1;
                }
                Response::Multiple(ids) => {
                    item.answered += 1;
                    for id in ids {
                        *item.picks.entry(*id).or_default() += 1;
                    }
                }
                Response::Text(_) | Response::Code(_) => item.answered += 1,
            }
        }
    }

    /// The figures as they stand.
    pub fn statistics(&self) -> TestStatistics {
        let n = self.n as f64;
        let var_t = variance(n, self.sum_t, self.sum_t2);
        let mut item_variances = Vec::new();
        let questions = self
            .test
            .questions
            .iter()
            .map(|q| {
                let item = self.items.get(&q.id).cloned().unwrap_or_default();
                let ni = item.n as f64;
                if item.n > 0 {
                    item_variances.push(variance(ni, item.sum_x, item.sum_x2));
                }
                let variants =
                    matches!(q.kind, QuestionKind::Radio | QuestionKind::Check).then(|| {
                        q.variants
                            .iter()
                            .map(|v| {
                                let picked = item.picks.get(&v.id).copied().unwrap_or(0);
                                VariantShare {
                                    id: v.id,
                                    text: v.text.clone(),
                                    is_correct: v.is_correct,
                                    picked,
                                    share: if item.n > 0 { picked as f64 / ni } else { 0.0 },
                                }
                            })
                            .collect()
                    });
                QuestionStatistics {
                    question: q.id,
                    number_in_test: q.number_in_test,
                    kind: q.kind.into(),
                    points: q.points,
                    answered: item.answered,
                    unanswered: item.n - item.answered,
                    mean_points: (item.n > 0).then(|| item.sum_x / ni),
                    facility: (item.sum_max > 0.0).then(|| item.sum_x / item.sum_max),
                    discrimination: discrimination(&item),
                    variants,
                }
            })
            .collect();
        let alpha = match (var_t, item_variances.len()) {
            (Some(var_t), k) if k >= 2 && var_t > EPSILON => {
                let sum: Option<f64> = item_variances.iter().copied().sum();
                sum.map(|s| {
                    let k = k as f64;
                    k / (k - 1.0) * (1.0 - s / var_t)
                })
            }
            _ => None,
        };
        TestStatistics {
            test: self.test.id,
            completions: self.n,
            pending: self.pending,
            max_score: self.test.questions.iter().map(|q| q.points as f64).sum(),
            mean: (self.n > 0).then(|| self.sum_t / n),
            median: median(&self.scores, self.n, f64::from_bits),
            standard_deviation: var_t.map(f64::sqrt),
            cronbach_alpha: alpha,
            median_seconds: median(&self.seconds, self.seconds.values().sum(), |s| s as f64),
            discrimination_formula: DISCRIMINATION_FORMULA,
            questions,
        }
    }
}

/// Pearson correlation of the item's points x with the rest r = t − x, from running sums.
fn discrimination(item: &Item) -> Option<f64> {
    if item.n < 2 {
        return None;
    }
    let n = item.n as f64;
    let sum_r = item.sum_t - item.sum_x;
    let sum_r2 = item.sum_t2 - 2.0 * item.sum_xt + item.sum_x2;
    let sum_xr = item.sum_xt - item.sum_x2;
    let sxx = n * item.sum_x2 - item.sum_x * item.sum_x;
    let srr = n * sum_r2 - sum_r * sum_r;
    if sxx <= EPSILON * n * n || srr <= EPSILON * n * n {
        return None;
    }
    Some(((n * sum_xr - item.sum_x * sum_r) / (sxx * srr).sqrt()).clamp(-1.0, 1.0))
}

/// The statistics of a test over the given completions (a pure fold).
pub fn compute<'a>(
    test: &Test,
    completions: impl IntoIterator<Item = &'a Completion>,
) -> TestStatistics {
    let mut sums = Accumulator::new(test);
    for completion in completions {
        sums.add(completion);
    }
    sums.statistics()
}

/// The statistics of a test the caller manages, over all its completions.
pub async fn of_test(store: &Store, me: &User, test_id: i64) -> Result<TestStatistics, ApiError> {
    let test = managed_test(store, me, test_id).await?;
    let completions = store
        .completions()
        .find(&Filter::Eq("test_id", test.id.into()), None)
        .await?;
    Ok(compute(&test, &completions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_counts_takes_the_middle_or_the_mean_of_the_two_middles() {
        let odd: BTreeMap<i64, u64> = [(1, 1), (5, 1), (9, 1)].into();
        assert_eq!(median(&odd, 3, |k| k as f64), Some(5.0));
        let even: BTreeMap<i64, u64> = [(1, 2), (3, 1), (7, 1)].into();
        assert_eq!(median(&even, 4, |k| k as f64), Some(2.0));
        assert_eq!(median(&BTreeMap::<i64, u64>::new(), 0, |k| k as f64), None);
    }

    #[test]
    fn the_discrimination_of_a_question_matches_pearson_with_the_rest() {
        // x = [1, 1, 0, 0], totals [4, 2, 2, 0]: rest [3, 1, 2, 0], r = 1/√5.
        let mut item = Item::default();
        for (x, t) in [(1.0, 4.0), (1.0, 2.0), (0.0, 2.0), (0.0, 0.0)] {
            item.n += 1;
            item.sum_x += x;
            item.sum_x2 += x * x;
            item.sum_t += t;
            item.sum_t2 += t * t;
            item.sum_xt += x * t;
        }
        let r = discrimination(&item).unwrap();
        assert!((r - 1.0 / 5f64.sqrt()).abs() < 1e-12, "{r}");
    }
}
