//! Benchmarks, with numbers for the README (never timed tests).
//!
//! - `bench grading [N]`: the grader pool against one `python3` process per answer.
//! - `bench live [STUDENTS] [IDLE] [THINK_MS]`: students taking a test over WebSocket while a teacher
//!   watches, then idle connections; needs `cargo build --release` first (it runs the
//!   `testit` binary next to it as the server).

mod grading;
mod live;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |i: usize, default: usize| args.get(i).and_then(|n| n.parse().ok()).unwrap_or(default);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio");
    match args.first().map(String::as_str) {
        Some("grading") => runtime.block_on(grading::run(number(1, 2000))),
        Some("live") => runtime.block_on(live::run(
            number(1, 1000),
            number(2, 10_000),
            std::time::Duration::from_millis(number(3, 1000) as u64),
        )),
        _ => {
            eprintln!("usage: bench grading [N] | bench live [STUDENTS] [IDLE] [THINK_MS]");
            std::process::exit(2);
        }
    }
}
