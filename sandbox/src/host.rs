//! What every runtime shares: setup errors and helpers, the memory limiter, the epoch
//! ticker.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::Engine;

/// How often the engines' epoch advances: the granularity of every deadline.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("building the Python runtime failed: {0}")]
    Build(String),
    #[error("wasmtime: {0:#}")]
    Wasmtime(#[from] wasmtime::Error),
}

/// Caps linear memory and remembers refusing, so a `MemoryError` is reported as the memory
/// limit rather than as the student's bug.
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    pub(crate) refused: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(max_bytes: usize) -> MemoryLimiter {
        MemoryLimiter {
            max_bytes,
            refused: false,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max_bytes;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn run(command: &mut Command) -> Result<(), SetupError> {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .map_err(|e| SetupError::Build(format!("{shown}: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(SetupError::Build(format!(
            "{shown} failed: {}",
            stderr.trim()
        )))
    }
}

/// A fresh folder under `dir` for a build, unique to this process and moment.
pub(crate) fn scratch_dir(dir: &Path) -> Result<PathBuf, SetupError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let scratch = dir.join(format!("build-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    Ok(scratch)
}

/// Starts the thread that advances `engine`'s epoch every tick, until the flag is set.
pub(crate) fn start_epoch_ticker(engine: &Engine) -> std::io::Result<Arc<AtomicBool>> {
    let stop_ticker = Arc::new(AtomicBool::new(false));
    let (ticking, stop) = (engine.clone(), Arc::clone(&stop_ticker));
    std::thread::Builder::new()
        .name("wasm-epoch".to_owned())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                ticking.increment_epoch();
            }
        })?;
    Ok(stop_ticker)
}

/// Runtimes are prepared one at a time in a process: the first server (or test server) that
/// needs one builds and compiles it into the runtime folder, and the others then load it
/// from there, instead of each building and compiling a copy of its own at once (the Python
/// component's build is not byte-for-byte reproducible, so each copy was compiled again:
/// seconds of CPU and hundreds of MiB each).
pub(crate) fn one_preparation_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static PREPARING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    PREPARING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The compiled form of a runtime's WebAssembly (`bytes`), from the cache in `dir` or
/// compiled and cached there: `<name>-<hash of the bytes>-<engine's compatibility hash>.cwasm`,
/// so a new runtime version or another engine configuration never loads a stale one.
/// `load` reads a cached file, `compile` compiles the bytes and gives the artifact with its
/// serialized form.
pub(crate) fn compiled<T>(
    engine: &Engine,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    load: impl FnOnce(&Path) -> wasmtime::Result<T>,
    compile: impl FnOnce() -> wasmtime::Result<(T, Vec<u8>)>,
) -> Result<T, SetupError> {
    use std::hash::{Hash, Hasher};
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let key = format!(
        "{}-{:016x}",
        &hex(&sha256(&[bytes]))[..16],
        engine_hash.finish()
    );
    let cached = dir.join(format!("{name}-{key}.cwasm"));
    if cached.exists() {
        match load(&cached) {
            Ok(artifact) => return Ok(artifact),
            Err(err) => tracing::warn!(%err, name, "compiled runtime unusable; compiling again"),
        }
    }
    tracing::info!(name, "compiling a runtime with Cranelift");
    let (artifact, serialized) = compile()?;
    let scratch = scratch_dir(dir)?;
    let file = scratch.join("runtime.cwasm");
    std::fs::write(&file, serialized)?;
    // Renaming is atomic: a reader sees no file or a whole one.
    std::fs::rename(&file, &cached)?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(artifact)
}
