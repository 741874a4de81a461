//! The blocking handle a worker thread owns, over every language's runtime.

use std::sync::{Arc, Mutex, OnceLock};

use crate::javascript::JavascriptRuntime;
use crate::python::PythonRuntime;
use crate::verdict::{Job, Language, Limits, Outcome, Verdict};

/// A runtime prepared on first need, once, by whichever thread needs it first; the others
/// wait for it. Its state is readable without waiting.
pub struct Pending<T> {
    cell: OnceLock<Result<Arc<T>, String>>,
    prepare: Mutex<Option<PrepareFn<T>>>,
}

type PrepareFn<T> = Box<dyn FnOnce() -> Result<T, String> + Send>;

impl<T> Pending<T> {
    pub fn new(prepare: impl FnOnce() -> Result<T, String> + Send + 'static) -> Pending<T> {
        Pending {
            cell: OnceLock::new(),
            prepare: Mutex::new(Some(Box::new(prepare))),
        }
    }

    /// The runtime, prepared now if nobody has yet (blocking), or why it is unavailable.
    pub fn get(&self) -> &Result<Arc<T>, String> {
        self.cell.get_or_init(|| {
            let prepare = self
                .prepare
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            match prepare {
                Some(prepare) => prepare().map(Arc::new),
                None => Err("its preparation failed".to_owned()),
            }
        })
    }

    /// `None` while it is being prepared (or nobody asked yet).
    pub fn state(&self) -> Option<&Result<Arc<T>, String>> {
        self.cell.get()
    }
}

/// A blocking handle for one worker thread: `job in, verdict out`.
pub struct Grader {
    runtime: Arc<PythonRuntime>,
    javascript: Option<Arc<Pending<JavascriptRuntime>>>,
    executor: tokio::runtime::Runtime,
}

impl Grader {
    pub fn new(runtime: Arc<PythonRuntime>) -> std::io::Result<Grader> {
        let executor = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        Ok(Grader {
            runtime,
            javascript: None,
            executor,
        })
    }

    /// Grades JavaScript answers with this runtime too (waiting for it if it is being
    /// prepared).
    pub fn with_javascript(mut self, javascript: Arc<Pending<JavascriptRuntime>>) -> Grader {
        self.javascript = Some(javascript);
        self
    }

    /// Grades a job, blocking the calling thread until the verdict (at most about the job's
    /// time limit per run: plan and observe, then once per test case).
    pub fn grade(&self, job: &Job) -> Verdict {
        let unavailable = |why: String| Verdict::ended_early(Outcome::InternalError(why), &[]);
        match job.language {
            Language::Python => self.executor.block_on(self.runtime.grade(job)),
            Language::Javascript => match self.javascript.as_deref().map(Pending::get) {
                Some(Ok(runtime)) => self.executor.block_on(runtime.grade(job)),
                Some(Err(why)) => {
                    unavailable(format!("the JavaScript runtime is unavailable: {why}"))
                }
                None => unavailable("this grader has no JavaScript runtime".to_owned()),
            },
            Language::C | Language::Cpp => unavailable(format!(
                "{} answers cannot be graded on this server yet",
                job.language.as_str()
            )),
        }
    }

    /// Checks a testing code on its own: the reason it cannot grade, if it cannot.
    pub fn check_testing_code(&self, testing_code: &str) -> Result<(), String> {
        let plan = self
            .executor
            .block_on(self.runtime.plan(testing_code, &Limits::default()));
        plan.as_ref().as_ref().map(|_| ()).map_err(Clone::clone)
    }
}
