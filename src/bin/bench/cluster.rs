//! `bench cluster [STUDENTS] [SERVERS] [THINK_MS] --store mongodb://…`: the `bench live`
//! round (STUDENTS, default 1,000, each saving 10 answers and submitting while one teacher
//! watches) on one server, then spread over SERVERS (default 3) `testit` processes on the
//! same MongoDB, the teacher watching on another server than most students: live events
//! cross servers through the store's change stream. Needs a replica set (SecantusDB without
//! `--standalone`, as `scripts/test-mongodb` starts it).

use std::time::Duration;

use crate::common::{make_test, seed_class, start_server, Place};
use crate::live::{round, tokens, Ports};

const QUESTIONS: usize = 10;

pub async fn run(students: usize, servers: usize, think: Duration, store: Option<&str>) {
    let Some(store) = store else {
        eprintln!("bench cluster needs --store mongodb://… (a replica set)");
        std::process::exit(2);
    };
    let place = Place::new("cluster", Some(store));
    let seeded = place.open().await;
    let class = seed_class(&seeded, students).await;
    let test = make_test(&seeded, &class, QUESTIONS, 0).await;
    drop(seeded);
    let (teacher, tokens) = tokens(&class);
    eprintln!("{students} students, store {}", place.label());

    println!("| servers | students | think time | save→ack p50 ms | p99 ms | submit→teacher p50 ms | p99 ms | messages/s | first server's peak RSS MiB |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for count in [1, servers.max(1)] {
        let mut running = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..count {
            let (server, port) = start_server(&place).await;
            running.push(server);
            ports.push(port);
        }
        let pid = running[0].pid();
        let label = count.to_string();
        let ports = Ports {
            students: &ports,
            teacher: *ports.last().unwrap_or(&0),
        };
        for think in [think, Duration::ZERO] {
            round(&ports, &tokens, &teacher, (&test, &label), think, pid).await;
        }
        drop(running);
    }
    place.clean_up().await;
}
