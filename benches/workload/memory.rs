//! The benchmark process's own resident memory and CPU time, sampled from a thread of its
//! own while the bot works in the same process (`/proc/self`, through `load/procfs.rs`).
// Each benchmark reads part of a sample.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::procfs;

/// One reading of the process.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub at: Instant,
    /// `VmRSS`: resident now.
    pub rss_kib: u64,
    /// `VmHWM`: the peak resident set (since start, or since [`reset_peak`]).
    pub hwm_kib: u64,
    /// Of `VmRSS`: anonymous memory (the heap), file pages mapped (the binary, SQLite's
    /// files if it maps them), and shared memory (SQLite's WAL index, the `-shm` file).
    pub anon_kib: u64,
    pub file_kib: u64,
    pub shmem_kib: u64,
    /// User and system CPU of all threads so far.
    pub cpu_secs: f64,
}

pub fn sample() -> Sample {
    let pid = std::process::id();
    Sample {
        at: Instant::now(),
        rss_kib: procfs::status_kib(pid, "VmRSS").unwrap_or(0),
        hwm_kib: procfs::status_kib(pid, "VmHWM").unwrap_or(0),
        anon_kib: procfs::status_kib(pid, "RssAnon").unwrap_or(0),
        file_kib: procfs::status_kib(pid, "RssFile").unwrap_or(0),
        shmem_kib: procfs::status_kib(pid, "RssShmem").unwrap_or(0),
        cpu_secs: procfs::cpu_seconds(pid).unwrap_or(0.0),
    }
}

/// Samples the process every `every` on a thread of its own (not a task: a busy runtime
/// does not delay it) until `stop` turns true; returns the samples, the first taken at once.
pub fn sampler(every: Duration, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<Sample>> {
    std::thread::spawn(move || {
        let mut samples = vec![sample()];
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(every);
            samples.push(sample());
        }
        samples.push(sample());
        samples
    })
}

/// Resets the process's `VmHWM` to its present resident set (`/proc/self/clear_refs`,
/// Linux 4.0 on); false if Linux refused.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The 1, 5 and 15 minute load averages, as `uptime` shows them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
