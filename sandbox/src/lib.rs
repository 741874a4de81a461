//! The sandbox that grades code answers.
//!
//! It will own one thing: running a grading job (student code plus hidden checks) inside
//! Wasmtime with hard limits on CPU time, memory and output, with no network and no host
//! files, and turning what happened into a verdict. It is synchronous and knows nothing of
//! actors, HTTP or storage: job in, verdict out.
//!
//! # Layout
//!
//! Empty for now: the grading issue fills it in (runtimes behind one interface, the job and
//! verdict types, the limits).
