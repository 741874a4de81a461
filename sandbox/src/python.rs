//! Python answers: CPython built for WASI into a component by componentize-py, run by
//! Wasmtime.
//!
//! **Setup (once per machine, cached in the runtime folder):** a private venv gets the pinned
//! `componentize-py` from PyPI, which builds `python/runner.py` into a component (~20 MB,
//! seconds); Cranelift compiles it (seconds) and the result is kept as a `.cwasm` keyed by the
//! component's hash and the engine's compatibility hash, so later starts load it in
//! milliseconds.
//!
//! **Each run** gets a fresh store and instance: no preopened folders, no environment, no
//! sockets, output pipes capped, linear memory capped by a limiter that remembers hitting
//! the cap, and a wall-clock deadline. The guest yields at every epoch tick, so a run blocked
//! in `time.sleep` is cancelled at its deadline like a busy loop.
//!
//! **Soundness:** grading runs the testing code's `plan` in an instance that never holds
//! student code, then the student's code with the planned observations in another; the
//! verdict is decided here ([`crate::judge`]), never in a guest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::cases::{add_cases, CaseEnd};
use crate::host::{
    compiled, hex, run, scratch_dir, sha256, start_epoch_ticker, MemoryLimiter, SetupError,
};
use crate::judge::{judge, Plan, Report};
use crate::verdict::{Job, Limits, Outcome, TestCase, Verdict};

/// The pinned componentize-py (PyPI); it bundles CPython 3.14 built for WASI.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
const RUNNER_PY: &str = include_str!("../python/runner.py");
const GRADER_WIT: &str = include_str!("../python/wit/grader.wit");
/// Linear memory kept mapped between runs in a pool slot: the interpreter's working set, so
/// a run does not page-fault it in again (measured in the spike: 4x the throughput).
const KEEP_RESIDENT: usize = 32 << 20;
/// Plans are cached by testing code; past this many the cache starts over.
const PLAN_CACHE_ENTRIES: usize = 1024;
/// A guest's answer larger than this is refused unread (observations are small values).
const MAX_REPORT_BYTES: usize = 4 << 20;

/// What a store holds for one run.
struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// One guest call: how it ended and what it printed.
struct Run {
    end: RunEnd,
    /// Standard output only (standard error is capped but not compared).
    stdout: String,
}

/// How one guest call ended.
enum RunEnd {
    Returned(String),
    Trapped(String),
    Exited(i32),
    TimeLimit,
    MemoryLimit,
    OutputLimit,
}

/// A testing code's plan, or why it cannot grade; shared by every job of that code.
pub type PlanResult = Arc<Result<Plan, String>>;

/// The shared, compiled Python runtime. Cheap to share between threads (`Arc`).
pub struct PythonRuntime {
    engine: Engine,
    pre: InstancePre<Host>,
    plans: Mutex<HashMap<[u8; 32], PlanResult>>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for PythonRuntime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Builds the runner component with the pinned componentize-py, unless already built.
fn build_component(dir: &Path, python: &str) -> Result<PathBuf, SetupError> {
    let key = sha256(&[
        RUNNER_PY.as_bytes(),
        GRADER_WIT.as_bytes(),
        COMPONENTIZE_PY_VERSION.as_bytes(),
    ]);
    let target = dir.join(format!("python-runner-{}.wasm", &hex(&key)[..16]));
    if target.exists() {
        return Ok(target);
    }
    std::fs::create_dir_all(dir)?;
    let venv = dir.join("venv");
    let componentize = venv.join("bin").join("componentize-py");
    if !componentize.exists() {
        tracing::info!(venv = %venv.display(), "installing componentize-py {COMPONENTIZE_PY_VERSION}");
        run(Command::new(python).arg("-m").arg("venv").arg(&venv))?;
        run(Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}")))?;
    }
    tracing::info!(target = %target.display(), "building the Python runner component");
    let scratch = scratch_dir(dir)?;
    std::fs::create_dir_all(scratch.join("wit"))?;
    std::fs::write(scratch.join("runner.py"), RUNNER_PY)?;
    std::fs::write(scratch.join("wit").join("grader.wit"), GRADER_WIT)?;
    let built = run(Command::new(&componentize).current_dir(&scratch).args([
        "-d",
        "wit",
        "-w",
        "grader",
        "componentize",
        "runner",
        "-p",
        ".",
        "-o",
        "grader.wasm",
    ]));
    // Renaming is atomic: a concurrent builder at worst replaces it with the same bytes.
    let moved = built.and_then(|()| Ok(std::fs::rename(scratch.join("grader.wasm"), &target)?));
    let _ = std::fs::remove_dir_all(&scratch);
    moved.map(|()| target)
}

/// Loads the compiled component from the cache, or compiles and caches it.
fn load_compiled(
    engine: &Engine,
    dir: &Path,
    component_file: &Path,
) -> Result<Component, SetupError> {
    let bytes = std::fs::read(component_file)?;
    compiled(
        engine,
        dir,
        "python-runner",
        &bytes,
        // SAFETY: the file is one `compiled` wrote for an engine with this very
        // compatibility hash, in the server's own runtime folder.
        |cached| unsafe { Component::deserialize_file(engine, cached) },
        || {
            let component = Component::new(engine, &bytes)?;
            let serialized = component.serialize()?;
            Ok((component, serialized))
        },
    )
}

fn engine(max_concurrent_runs: u32, limits: &Limits) -> Result<Engine, SetupError> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // Instances come from a pool of pre-reserved slots; the measured Python component needs
    // 14 core instances, 1 memory and 2 tables per component instance.
    let slots = max_concurrent_runs.max(1) + 2;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots * 16)
        .total_memories(slots * 2)
        .total_tables(slots * 4)
        .total_stacks(slots)
        .max_core_instances_per_component(16)
        .max_memories_per_component(2)
        .max_tables_per_component(4)
        .max_memory_size(limits.memory_bytes.max(64 << 20))
        .table_elements(20_000)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(1 << 20)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(1 << 20);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Ok(Engine::new(&config)?)
}

impl PythonRuntime {
    /// Builds (first time) or loads the runtime kept in `dir`. `python` is the interpreter
    /// that installs componentize-py (`python3`). Blocking: seconds on first use.
    pub fn prepare(
        dir: &Path,
        python: &str,
        max_concurrent_runs: u32,
    ) -> Result<PythonRuntime, SetupError> {
        let limits = Limits::default();
        let engine = engine(max_concurrent_runs, &limits)?;
        let preparing = crate::host::one_preparation_at_a_time();
        let component_file = build_component(dir, python)?;
        let component = load_compiled(&engine, dir, &component_file)?;
        drop(preparing);
        let mut linker: Linker<Host> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        let pre = linker.instantiate_pre(&component)?;

        let stop_ticker = start_epoch_ticker(&engine)?;
        Ok(PythonRuntime {
            engine,
            pre,
            plans: Mutex::new(HashMap::new()),
            stop_ticker,
        })
    }

    /// Runs one export in a fresh instance under `limits`, with `stdin` as its standard input.
    async fn call(&self, export: &str, argument: &str, limits: &Limits, stdin: &[u8]) -> Run {
        let stdout = MemoryOutputPipe::new(limits.output_bytes);
        let stderr = MemoryOutputPipe::new(limits.output_bytes);
        let wasi = WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new(stdin.to_vec()))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let limiter = MemoryLimiter::new(limits.memory_bytes);
        let host = Host {
            wasi,
            table: ResourceTable::new(),
            limiter,
        };
        let mut store = Store::new(&self.engine, host);
        store.limiter(|host| &mut host.limiter);
        // Yield to the executor at every tick, so the deadline below can fire.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));

        let result = {
            let run = async {
                let instance = self.pre.instantiate_async(&mut store).await?;
                let function = instance.get_typed_func::<(&str,), (String,)>(&mut store, export)?;
                let (answer,) = function.call_async(&mut store, (argument,)).await?;
                Ok::<_, wasmtime::Error>(answer)
            };
            tokio::time::timeout(limits.time, run).await
        };
        let refused = store.data().limiter.refused;
        let (stdout, stderr) = (stdout.contents(), stderr.contents());
        let output_full =
            stdout.len() >= limits.output_bytes || stderr.len() >= limits.output_bytes;
        let end = match result {
            Err(_elapsed) => RunEnd::TimeLimit,
            Ok(_) if refused => RunEnd::MemoryLimit,
            Ok(_) if output_full => RunEnd::OutputLimit,
            Ok(Ok(answer)) => RunEnd::Returned(answer),
            Ok(Err(err)) => match err.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => RunEnd::Exited(exit.0),
                None => RunEnd::Trapped(format!("{err:#}")),
            },
        };
        Run {
            end,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
        }
    }

    /// Runs the answer as a program on one test case's input.
    async fn run_case(&self, code: &str, case: &TestCase, limits: &Limits) -> CaseEnd {
        let run = self
            .call("run-program", code, limits, case.stdin.as_bytes())
            .await;
        let error = match run.end {
            RunEnd::TimeLimit => return CaseEnd::TimeLimit,
            RunEnd::MemoryLimit => return CaseEnd::MemoryLimit,
            RunEnd::OutputLimit => return CaseEnd::OutputLimit,
            RunEnd::Returned(stopped) if stopped.is_empty() => None,
            RunEnd::Returned(stopped) => Some(stopped),
            RunEnd::Exited(0) => None,
            RunEnd::Exited(code) => Some(format!("exit code {code}")),
            RunEnd::Trapped(trap) => Some(format!("the program crashed the interpreter: {trap}")),
        };
        CaseEnd::Finished {
            stdout: run.stdout,
            error,
        }
    }

    /// The plan of a testing code: from the cache, or from a trusted instance.
    pub async fn plan(&self, testing_code: &str, limits: &Limits) -> PlanResult {
        let key = sha256(&[testing_code.as_bytes()]);
        if let Some(plan) = self
            .plans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Arc::clone(plan);
        }
        // Limits may be hit because the machine is busy: such failures are not remembered.
        let (plan, remember) = match self.call("plan", testing_code, limits, b"").await.end {
            RunEnd::Returned(json) if json.len() > MAX_REPORT_BYTES => {
                (Err("the plan is too large".to_owned()), true)
            }
            RunEnd::Returned(json) => match serde_json::from_str::<Plan>(&json) {
                Ok(plan) => match &plan.error {
                    Some(error) => (Err(format!("the testing code cannot grade: {error}")), true),
                    None => (Ok(plan), true),
                },
                Err(err) => (Err(format!("unreadable plan: {err}")), true),
            },
            RunEnd::TimeLimit => (Err("the testing code ran out of time".to_owned()), false),
            RunEnd::MemoryLimit => (Err("the testing code ran out of memory".to_owned()), false),
            RunEnd::OutputLimit => (Err("the testing code printed too much".to_owned()), true),
            RunEnd::Exited(code) => (
                Err(format!("the testing code exited with code {code}")),
                true,
            ),
            RunEnd::Trapped(trap) => (
                Err(format!("the testing code crashed the interpreter: {trap}")),
                false,
            ),
        };
        let plan = Arc::new(plan);
        if remember {
            let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
            if plans.len() >= PLAN_CACHE_ENTRIES {
                plans.clear();
            }
            plans.insert(key, Arc::clone(&plan));
        }
        plan
    }

    /// Grades one job: its testing code's units (if any), then its test cases (if any).
    pub async fn grade(&self, job: &Job) -> Verdict {
        let verdict = if job.testing_code.trim().is_empty() {
            if job.test_cases.is_empty() {
                let why = "the question has neither testing code nor test cases".to_owned();
                return Verdict::ended_early(Outcome::InternalError(why), &[]);
            }
            Verdict::ended_early(Outcome::Passed, &[])
        } else {
            self.grade_testing_code(job).await
        };
        if job.test_cases.is_empty() || matches!(verdict.outcome, Outcome::InternalError(_)) {
            return verdict;
        }
        let mut ends = Vec::with_capacity(job.test_cases.len());
        for case in &job.test_cases {
            ends.push(self.run_case(&job.code, case, &job.limits).await);
        }
        add_cases(verdict, &job.test_cases, &ends)
    }

    /// Grades the testing code's asserts: plan (trusted), observe (student), judge (here).
    async fn grade_testing_code(&self, job: &Job) -> Verdict {
        let plan = self.plan(&job.testing_code, &job.limits).await;
        let plan = match plan.as_ref() {
            Ok(plan) => plan,
            Err(problem) => {
                return Verdict::ended_early(Outcome::InternalError(problem.clone()), &[])
            }
        };
        let units = plan.units();
        let request =
            serde_json::json!({ "code": job.code, "tests": plan.student_source }).to_string();
        let report = match self.call("observe", &request, &job.limits, b"").await.end {
            RunEnd::Returned(json) if json.len() > MAX_REPORT_BYTES => {
                let why = "The program's results are too large to report.".to_owned();
                return Verdict::ended_early(Outcome::RuntimeError(why), &units);
            }
            RunEnd::Returned(json) => json,
            RunEnd::TimeLimit => return Verdict::ended_early(Outcome::TimeLimit, &units),
            RunEnd::MemoryLimit => return Verdict::ended_early(Outcome::MemoryLimit, &units),
            RunEnd::OutputLimit => return Verdict::ended_early(Outcome::OutputLimit, &units),
            RunEnd::Exited(code) => {
                let why = format!("The program exited (code {code}) before the checks ran.");
                return Verdict::ended_early(Outcome::RuntimeError(why), &units);
            }
            RunEnd::Trapped(trap) => {
                let why = format!("The program crashed the interpreter: {trap}");
                return Verdict::ended_early(Outcome::RuntimeError(why), &units);
            }
        };
        match serde_json::from_str::<Report>(&report) {
            Ok(report) if report.truncated => Verdict::ended_early(Outcome::OutputLimit, &units),
            Ok(report) => judge(plan, &report),
            // Only a tampered runner answers something else.
            Err(_) => Verdict::ended_early(
                Outcome::RuntimeError("The program broke the grading runner.".to_owned()),
                &units,
            ),
        }
    }
}
