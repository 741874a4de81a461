//! `cargo run --release --bin bench -- grading [N]` grades N trivial and N/10 CPU-heavier
//! Python answers through the grader pool (closed loop, two clients per worker, so a worker
//! never waits for a client's round trip; latency includes that queueing), then the same
//! jobs the way the original server did: one native `python3` subprocess each (a client per
//! core). It prints jobs/s, p50/p99 latency and peak RSS for both.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Addr;
use actors::grader::{Grade, GraderPool, PoolConfig, RuntimeStatus, Status};
use actors::sandbox::{Job, Language, Limits, Outcome, TestCase};

const TRIVIAL_CODE: &str = "def add(a, b):\n    return a + b\n";
const TRIVIAL_TESTS: &str =
    "def test_small():\n    assert add(2, 3) == 5\n\ndef test_negative():\n    assert add(-1, 1) == 0\n";
const CPU_CODE: &str =
    "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n";
const CPU_TESTS: &str = "def test_total():\n    assert total(10**6) == 499999500000\n";

struct Run {
    label: String,
    jobs: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.jobs as f64 / self.elapsed.as_secs_f64()
    }

    fn row(&mut self, peak_rss_mib: f64) -> String {
        self.latencies.sort();
        let last = self.latencies.len() - 1;
        let at = |q: f64| self.latencies[((self.latencies.len() as f64 * q) as usize).min(last)];
        format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.0} |",
            self.label,
            self.jobs,
            self.rate(),
            at(0.50).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            peak_rss_mib
        )
    }
}

/// `VmHWM` (peak RSS) of this process, MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Runs `jobs` jobs with `clients` clients, each sending its next job when the last is done.
async fn pool_run(
    pool: &Addr<GraderPool>,
    label: &str,
    code: &str,
    tests: &str,
    jobs: usize,
    clients: usize,
) -> Run {
    let limits = Limits {
        time: Duration::from_secs(10),
        ..Limits::default()
    };
    let job = Job::python(code, tests, limits);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (pool, job) = (pool.clone(), job.clone());
        let share = jobs / clients + usize::from(client < jobs % clients);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            for _ in 0..share {
                let sent = Instant::now();
                let verdict = pool.send(Grade(job.clone())).await.expect("pool answers");
                assert_eq!(verdict.outcome, Outcome::Passed, "{verdict:?}");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(jobs);
    for task in tasks {
        latencies.extend(task.await.expect("client finished"));
    }
    Run {
        label: label.to_owned(),
        jobs,
        elapsed: started.elapsed(),
        latencies,
    }
}

/// The original's way: the answer and the tests in one file, one `python3` process each.
/// Also answers the largest peak RSS of one `python3` process, MiB (each job prints its
/// own `VmHWM`: `ru_maxrss` survives `execve` and would count the forked parent's pages).
fn native_run(label: &str, code: &str, tests: &str, jobs: usize, clients: usize) -> (Run, f64) {
    let dir = std::env::temp_dir().join(format!("testit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let source = Arc::new(format!(
        "{code}\n{tests}\nfor _name, _f in list(globals().items()):\n    if _name.startswith('test_'):\n        _f()\n\
         print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))\n"
    ));
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|client| {
            let (source, dir) = (Arc::clone(&source), dir.clone());
            let share = jobs / clients + usize::from(client < jobs % clients);
            std::thread::spawn(move || {
                let (mut latencies, mut peak_kib) = (Vec::with_capacity(share), 0.0_f64);
                for i in 0..share {
                    let sent = Instant::now();
                    let file = dir.join(format!("job-{client}-{i}.py"));
                    std::fs::File::create(&file)
                        .and_then(|mut f| f.write_all(source.as_bytes()))
                        .expect("job file");
                    let out = Command::new("python3")
                        .arg(&file)
                        .stdin(Stdio::null())
                        .output()
                        .expect("python3 runs");
                    assert!(
                        out.status.success() && out.stderr.is_empty(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    let _ = std::fs::remove_file(&file);
                    latencies.push(sent.elapsed());
                    let kib: f64 = String::from_utf8_lossy(&out.stdout)
                        .trim()
                        .parse()
                        .unwrap_or(0.0);
                    peak_kib = peak_kib.max(kib);
                }
                (latencies, peak_kib)
            })
        })
        .collect();
    let (mut latencies, mut peak_kib) = (Vec::with_capacity(jobs), 0.0_f64);
    for handle in handles {
        let (mine, peak) = handle.join().expect("client finished");
        latencies.extend(mine);
        peak_kib = peak_kib.max(peak);
    }
    let _ = std::fs::remove_dir_all(&dir);
    (
        Run {
            label: label.to_owned(),
            jobs,
            elapsed: started.elapsed(),
            latencies,
        },
        peak_kib / 1024.0,
    )
}

pub async fn run(jobs: usize) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime_dir = std::env::var_os("TESTIT_RUNTIME_DIR")
        .map_or_else(|| PathBuf::from("data/runtimes"), PathBuf::from);
    let config = PoolConfig {
        workers,
        runtime_dir,
        python: "python3".into(),
    };
    let pool = GraderPool::start_detached(config).expect("pool starts");
    let prepared = Instant::now();
    loop {
        match pool
            .send(Status(Language::Python))
            .await
            .expect("pool answers")
        {
            RuntimeStatus::Ready => break,
            RuntimeStatus::Failed(why) => panic!("{why}"),
            RuntimeStatus::Preparing => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    eprintln!(
        "runtime ready in {:.2?}; {workers} workers",
        prepared.elapsed()
    );
    // Two clients per worker: a worker never idles while its client makes a round trip.
    let clients = workers * 2;
    pool_run(&pool, "warm-up", TRIVIAL_CODE, TRIVIAL_TESTS, 50, clients).await;

    let cpu_jobs = (jobs / 10).max(workers);
    let mut trivial = pool_run(
        &pool,
        "pool, trivial",
        TRIVIAL_CODE,
        TRIVIAL_TESTS,
        jobs,
        clients,
    )
    .await;
    let trivial_row = trivial.row(peak_rss_mib());
    let mut cpu = pool_run(
        &pool,
        "pool, CPU (10^6-step loop)",
        CPU_CODE,
        CPU_TESTS,
        cpu_jobs,
        clients,
    )
    .await;
    let cpu_row = cpu.row(peak_rss_mib());
    let (mut native, rss) = native_run(
        "python3 subprocess, trivial",
        TRIVIAL_CODE,
        TRIVIAL_TESTS,
        jobs,
        workers,
    );
    let native_row = native.row(rss);
    let (mut native_cpu, rss) = native_run(
        "python3 subprocess, CPU (10^6-step loop)",
        CPU_CODE,
        CPU_TESTS,
        cpu_jobs,
        workers,
    );
    let native_cpu_row = native_cpu.row(rss);

    println!("| run | jobs | jobs/s | p50 ms | p99 ms | peak RSS MiB |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for row in [trivial_row, cpu_row, native_row, native_cpu_row] {
        println!("{row}");
    }
    println!(
        "\ntrivial throughput, pool vs subprocess: {:.1}x. Peak RSS: the whole process hosting the pool, \
         vs one python3 process.",
        trivial.rate() / native.rate()
    );
}

/// The sum program each language's answers are variations of (`{}` takes a distinct no-op,
/// so no two answers are the same text).
fn sum_program(language: Language) -> Option<&'static str> {
    match language {
        Language::Python => Some("a, b = map(int, input().split())\nprint(a + b)  # {}\n"),
        Language::Javascript => {
            Some("const [a, b] = readline().split(' ').map(Number);\nconsole.log(a + b); // {}\n")
        }
        Language::C | Language::Cpp => None,
    }
}

/// `bench grading --language L [N]`: N distinct answers to a 3-case question, through the
/// pool (a worker per core, two clients per worker). Prints answers/s, case runs/s and
/// p50/p99 per answer.
pub async fn run_language(name: &str, answers: usize) {
    let Some(language) = Language::parse(name) else {
        eprintln!("unknown language {name:?}");
        std::process::exit(2);
    };
    let Some(template) = sum_program(language) else {
        eprintln!("{name}: no runtime on this server yet");
        std::process::exit(2);
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime_dir = std::env::var_os("TESTIT_RUNTIME_DIR")
        .map_or_else(|| PathBuf::from("data/runtimes"), PathBuf::from);
    let config = PoolConfig {
        workers,
        runtime_dir,
        python: "python3".into(),
    };
    let pool = GraderPool::start_detached(config).expect("pool starts");
    let prepared = Instant::now();
    loop {
        match pool.send(Status(language)).await.expect("pool answers") {
            RuntimeStatus::Ready => break,
            RuntimeStatus::Failed(why) => panic!("{why}"),
            RuntimeStatus::Preparing => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    eprintln!(
        "{name} ready in {:.2?}; {workers} workers",
        prepared.elapsed()
    );
    let cases: Vec<TestCase> = [("1 2\n", "3\n"), ("10 -4\n", "6\n"), ("7 7\n", "14\n")]
        .into_iter()
        .map(|(stdin, expected)| TestCase {
            stdin: stdin.into(),
            expected_output: expected.into(),
            points: 1,
        })
        .collect();
    let job = |n: usize| Job {
        language,
        code: template.replace("{}", &n.to_string()),
        testing_code: String::new(),
        test_cases: cases.clone(),
        limits: Limits::default(),
    };
    let clients = workers * 2;
    let round = |offset: usize, count: usize| {
        let pool = pool.clone();
        let jobs: Vec<Job> = (offset..offset + count).map(job).collect();
        async move {
            let started = Instant::now();
            let jobs = Arc::new(std::sync::Mutex::new(jobs));
            let mut tasks = Vec::new();
            for _ in 0..clients {
                let (pool, jobs) = (pool.clone(), Arc::clone(&jobs));
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    loop {
                        let Some(job) = jobs.lock().expect("jobs").pop() else {
                            return latencies;
                        };
                        let sent = Instant::now();
                        let verdict = pool.send(Grade(job)).await.expect("pool answers");
                        assert_eq!(verdict.outcome, Outcome::Passed, "{verdict:?}");
                        latencies.push(sent.elapsed());
                    }
                }));
            }
            let mut latencies = Vec::new();
            for task in tasks {
                latencies.extend(task.await.expect("client finished"));
            }
            (started.elapsed(), latencies)
        }
    };
    round(0, 20).await; // warm-up
    let (elapsed, latencies) = round(1_000, answers).await;
    let mut run = Run {
        label: format!("{name}, 3 test cases"),
        jobs: answers,
        elapsed,
        latencies,
    };
    let row = run.row(peak_rss_mib());
    println!("| run | answers | answers/s | p50 ms | p99 ms | peak RSS MiB |");
    println!("| --- | --- | --- | --- | --- | --- |");
    println!("{row}");
    println!(
        "\ncase runs/s: {:.0} (each case a fresh instance; no compile step for {name})",
        run.rate() * 3.0
    );
}
