//! Benchmarks, with numbers for the README (never timed tests).
//!
//! - `bench grading [N]`: the grader pool against one `python3` process per answer.
//! - `bench grading --language python|javascript [N]`: N distinct answers to a 3-case
//!   input/output question through the pool.
//! - `bench live [STUDENTS] [IDLE] [THINK_MS]`: students taking a test over WebSocket while a
//!   teacher watches, then idle connections.
//! - `bench rest [SECONDS] [CONNECTIONS]`: the hot REST routes under load, each next to a
//!   minimal actix-web handler (the framework's ceiling here).
//! - `bench list [COMPLETIONS]`: the server's memory while it answers a whole list.
//! - `bench catalog [COURSES] [USERS]`: seed 000's nested user list and its search.
//! - `bench bodies [SOCKETS] [CASE]`: request bodies that stall, beside a real client.
//! - `bench stats`: the cost of one completion on a test's item statistics, by class size.
//! - `bench cluster [STUDENTS] [SERVERS] [THINK_MS] --store URL`: `bench live`'s round on one
//!   server, then over several on one MongoDB replica set.
//!
//! `live`, `rest`, `list` and `catalog` run the `testit` binary next to this one as the server (so `cargo build
//! --release` first), on a fresh embedded store, or with `--store mongodb://…` on a fresh
//! database of that MongoDB server.
//!
//! # Layout
//! `common.rs`: seeding, the server process, statistics; one module per benchmark.

mod bodies;
mod catalog;
mod cluster;
mod common;
mod grading;
mod list;
mod live;
mod rest;
mod stats;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let store = common::take_store_option(&mut args);
    let language = args.iter().position(|a| a == "--language").map(|at| {
        args.remove(at);
        if at < args.len() {
            args.remove(at)
        } else {
            String::new()
        }
    });
    let number =
        |i: usize, default: usize| args.get(i).and_then(|n| n.parse().ok()).unwrap_or(default);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio");
    match args.first().map(String::as_str) {
        Some("grading") => match language {
            Some(language) => runtime.block_on(grading::run_language(&language, number(1, 300))),
            None => runtime.block_on(grading::run(number(1, 2000))),
        },
        Some("live") => runtime.block_on(live::run(
            number(1, 1000),
            number(2, 10_000),
            std::time::Duration::from_millis(number(3, 1000) as u64),
            store.as_deref(),
        )),
        Some("catalog") => runtime.block_on(catalog::run(
            number(1, 10_000),
            number(2, 100),
            store.as_deref(),
        )),
        Some("bodies") => runtime.block_on(bodies::run(
            number(1, 1000),
            args.get(2).and_then(|n| n.parse().ok()),
            store.as_deref(),
        )),
        Some("stats") => stats::run(),
        Some("cluster") => runtime.block_on(cluster::run(
            number(1, 1000),
            number(2, 3),
            std::time::Duration::from_millis(number(3, 1000) as u64),
            store.as_deref(),
        )),
        Some("list") => runtime.block_on(list::run(number(1, 20_000), store.as_deref())),
        Some("rest") => runtime.block_on(rest::run(
            number(1, 5) as u64,
            number(2, 32),
            store.as_deref(),
        )),
        _ => {
            eprintln!(
                "usage: bench grading [N] | bench grading --language python|javascript [N] | bench live [STUDENTS] [IDLE] [THINK_MS] [--store URL] \
                 | bench rest [SECONDS] [CONNECTIONS] [--store URL] \
                 | bench list [COMPLETIONS] [--store URL] \
                 | bench catalog [COURSES] [USERS] [--store URL] \
                 | bench bodies [SOCKETS] [CASE] [--store URL] | bench stats \
                 | bench cluster [STUDENTS] [SERVERS] [THINK_MS] --store URL"
            );
            std::process::exit(2);
        }
    }
}
