//! The grader pool: an actor in front of worker threads that run the sandbox.
//!
//! Grading is CPU work of up to seconds, so it never runs on an actor's or HTTP worker's
//! thread: [`GraderPool`] queues each [`Grade`] request for one of its OS threads and answers
//! with a future. Each thread owns a [`sandbox::Grader`]. A worker that panics gets a fresh
//! grader and its job is retried once; a second panic is answered as an internal error.
//! The Python runtime is prepared (built on first use, seconds) in the background when the
//! pool starts; jobs sent meanwhile wait in the queue. The JavaScript runtime is prepared
//! next on the same thread; a worker that takes a JavaScript job before it is ready waits
//! for it. C and C++ have no runtime yet: their status says so.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};

use actix::prelude::*;
use sandbox::Pending;
use sandbox::{Grader, JavascriptRuntime, Job, Language, Outcome, PythonRuntime, Verdict};
use tokio::sync::oneshot;

/// How the pool is set up.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Worker threads (default: the machine's cores).
    pub workers: usize,
    /// Where the compiled runtime is kept.
    pub runtime_dir: PathBuf,
    /// The interpreter that installs componentize-py on first use.
    pub python: String,
}

/// The state of a language's runtime, for `/api/languages/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeStatus {
    Preparing,
    Ready,
    Failed(String),
}

/// Grades one code answer. Answers the verdict (never an error: failures are verdicts).
#[derive(Message)]
#[rtype(result = "Verdict")]
pub struct Grade(pub Job);

/// Asks for the state of a language's runtime.
#[derive(Message)]
#[rtype(result = "RuntimeStatus")]
pub struct Status(pub Language);

/// Why C and C++ answers cannot be graded (listed as unavailable, never faked).
pub const C_UNAVAILABLE: &str =
    "not built yet: the clang toolchain (npm's @yowasp/clang) is not installed by this server";

/// Checks a testing code without any answer: the reason it cannot grade, if any.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct CheckTestingCode(pub String);

enum Work {
    Grade(Job),
    Check(String),
}

enum Done {
    Graded(Verdict),
    Checked(Result<(), String>),
}

struct Task {
    work: Work,
    reply: oneshot::Sender<Done>,
    retried: bool,
}

/// The pool actor. Cheap: it only forwards to its threads' queue.
pub struct GraderPool {
    queue: mpsc::Sender<Task>,
    status: Arc<RwLock<RuntimeStatus>>,
    javascript: Arc<Pending<JavascriptRuntime>>,
}

impl Actor for GraderPool {
    type Context = Context<Self>;
}

/// Restarted by its supervisor with the same queue and threads: the actor holds no state
/// a restart could lose.
impl actix::Supervised for GraderPool {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::warn!("grader pool actor restarting");
    }
}

fn internal(why: impl Into<String>) -> Verdict {
    Verdict::ended_early(Outcome::InternalError(why.into()), &[])
}

fn run(grader: &Grader, work: &Work) -> Done {
    match work {
        Work::Grade(job) => Done::Graded(grader.grade(job)),
        Work::Check(code) => Done::Checked(grader.check_testing_code(code)),
    }
}

fn failed(work: &Work, why: String) -> Done {
    match work {
        Work::Grade(_) => Done::Graded(internal(why)),
        Work::Check(_) => Done::Checked(Err(why)),
    }
}

/// One worker thread: takes tasks until the pool is gone.
fn work(
    runtime: Arc<PythonRuntime>,
    javascript: Arc<Pending<JavascriptRuntime>>,
    tasks: Arc<Mutex<mpsc::Receiver<Task>>>,
    requeue: mpsc::Sender<Task>,
) {
    let new_grader =
        || Grader::new(Arc::clone(&runtime)).map(|g| g.with_javascript(Arc::clone(&javascript)));
    let mut grader = new_grader();
    loop {
        let task = match tasks.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(task) => task,
            Err(_) => return, // the pool is gone
        };
        if task.reply.is_closed() {
            continue; // whoever asked is gone (e.g. a timed-out check): no work for nobody
        }
        let Ok(current) = &grader else {
            let _ = task
                .reply
                .send(failed(&task.work, "cannot start a grader thread".into()));
            grader = new_grader();
            continue;
        };
        match catch_unwind(AssertUnwindSafe(|| run(current, &task.work))) {
            Ok(done) => {
                let _ = task.reply.send(done);
            }
            Err(_) => {
                tracing::error!(
                    retried = task.retried,
                    "grader worker panicked; replacing its grader"
                );
                grader = new_grader();
                if task.retried {
                    let _ = task.reply.send(failed(
                        &task.work,
                        "the grader crashed twice on this answer".into(),
                    ));
                } else {
                    let _ = requeue.send(Task {
                        retried: true,
                        ..task
                    });
                }
            }
        }
    }
}

/// Answers every task with `why` (the runtime could not be prepared).
fn refuse_all(tasks: Arc<Mutex<mpsc::Receiver<Task>>>, why: String) {
    while let Ok(task) = tasks.lock().unwrap_or_else(|p| p.into_inner()).recv() {
        let _ = task.reply.send(failed(&task.work, why.clone()));
    }
}

impl GraderPool {
    /// Makes the pool: prepares the runtime on a background thread, then the workers.
    fn new(config: PoolConfig) -> GraderPool {
        let (queue, tasks) = mpsc::channel::<Task>();
        let tasks = Arc::new(Mutex::new(tasks));
        let status = Arc::new(RwLock::new(RuntimeStatus::Preparing));
        let (requeue, shared_status) = (queue.clone(), Arc::clone(&status));
        let workers = config.workers.max(1);
        let (dir, python) = (config.runtime_dir.clone(), config.python.clone());
        let javascript = Arc::new(Pending::new(move || {
            let prepared = JavascriptRuntime::prepare(&dir, &python);
            match &prepared {
                Ok(_) => tracing::info!("JavaScript runtime ready"),
                Err(err) => tracing::error!(%err, "the JavaScript runtime is unavailable"),
            }
            prepared.map_err(|err| err.to_string())
        }));
        let shared_javascript = Arc::clone(&javascript);
        let spawned = std::thread::Builder::new()
            .name("grader-setup".into())
            .spawn(move || {
                let prepared =
                    PythonRuntime::prepare(&config.runtime_dir, &config.python, workers as u32);
                let runtime = match prepared {
                    Ok(runtime) => Arc::new(runtime),
                    Err(err) => {
                        tracing::error!(%err, "the Python runtime is unavailable");
                        let why = format!("the Python runtime is unavailable: {err}");
                        *shared_status.write().unwrap_or_else(|p| p.into_inner()) =
                            RuntimeStatus::Failed(why.clone());
                        // The workers need the Python runtime to start, so no answer can
                        // be graded; JavaScript's state is still told truly.
                        let _ = shared_javascript.get();
                        return refuse_all(tasks, why);
                    }
                };
                tracing::info!(workers, "Python runtime ready");
                *shared_status.write().unwrap_or_else(|p| p.into_inner()) = RuntimeStatus::Ready;
                for i in 0..workers {
                    let (runtime, javascript, tasks, requeue) = (
                        Arc::clone(&runtime),
                        Arc::clone(&shared_javascript),
                        Arc::clone(&tasks),
                        requeue.clone(),
                    );
                    let name = format!("grader-{i}");
                    if let Err(err) = std::thread::Builder::new()
                        .name(name)
                        .spawn(move || work(runtime, javascript, tasks, requeue))
                    {
                        tracing::error!(%err, "cannot start a grader thread");
                    }
                }
                // Prepared now rather than by the first JavaScript answer, so that
                // `/api/languages/` says ready (or why not) without anyone waiting.
                let _ = shared_javascript.get();
            });
        if let Err(err) = spawned {
            *status.write().unwrap_or_else(|p| p.into_inner()) =
                RuntimeStatus::Failed(err.to_string());
        }
        GraderPool {
            queue,
            status,
            javascript,
        }
    }

    /// Starts the pool under a supervisor in the current actix system.
    pub fn start(config: PoolConfig) -> Addr<GraderPool> {
        let pool = Self::new(config);
        actix::Supervisor::start(|_| pool)
    }

    /// Starts the pool under a supervisor on a system thread of its own, so callers on any
    /// runtime (actix-web workers, plain tokio tests) can send to it.
    pub fn start_detached(config: PoolConfig) -> std::io::Result<Addr<GraderPool>> {
        crate::on_own_system("grader-pool", move || GraderPool::start(config))
    }

    fn submit(&self, work: Work) -> oneshot::Receiver<Done> {
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::SendError(task)) = self.queue.send(Task {
            work,
            reply,
            retried: false,
        }) {
            let _ = task
                .reply
                .send(failed(&task.work, "the grader pool is stopped".into()));
        }
        answer
    }
}

impl Handler<Grade> for GraderPool {
    type Result = ResponseFuture<Verdict>;

    fn handle(&mut self, Grade(job): Grade, _: &mut Context<Self>) -> Self::Result {
        let answer = self.submit(Work::Grade(job));
        Box::pin(async move {
            match answer.await {
                Ok(Done::Graded(verdict)) => verdict,
                _ => internal("the grader stopped before answering"),
            }
        })
    }
}

impl Handler<CheckTestingCode> for GraderPool {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(
        &mut self,
        CheckTestingCode(code): CheckTestingCode,
        _: &mut Context<Self>,
    ) -> Self::Result {
        let answer = self.submit(Work::Check(code));
        Box::pin(async move {
            match answer.await {
                Ok(Done::Checked(result)) => result,
                _ => Err("the grader stopped before answering".to_owned()),
            }
        })
    }
}

impl Handler<Status> for GraderPool {
    type Result = MessageResult<Status>;

    fn handle(&mut self, Status(language): Status, _: &mut Context<Self>) -> Self::Result {
        MessageResult(match language {
            Language::Python => self
                .status
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            Language::Javascript => match self.javascript.state() {
                None => RuntimeStatus::Preparing,
                Some(Ok(_)) => RuntimeStatus::Ready,
                Some(Err(why)) => RuntimeStatus::Failed(why.clone()),
            },
            Language::C | Language::Cpp => RuntimeStatus::Failed(C_UNAVAILABLE.to_owned()),
        })
    }
}
