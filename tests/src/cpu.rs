//! CPU by process kind, read from `/proc`, for the bench's figure of merit: CPU per unit of work
//! (per saga, per request) of the app's runtime, of PostgreSQL and of Redis — the load
//! generator left out.
//!
//! * runtime: every process in the app's process groups (the supervisor starts each of its
//!   processes as a group of its own: `spin up` and its trigger processes, or `spincart-host`);
//! * PostgreSQL: every process named `postgres` (the server the suite starts serves only the
//!   apps under test; its background workers are counted too, as they work for them);
//! * Redis: the app's private `redis-server`.

use std::collections::HashSet;

/// Seconds of CPU (user + system) so far, by process kind.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cpu {
    pub runtime: f64,
    pub postgres: f64,
    pub redis: f64,
}

impl Cpu {
    pub fn total(&self) -> f64 {
        self.runtime + self.postgres + self.redis
    }

    /// What was spent between `earlier` and `self`.
    pub fn since(&self, earlier: &Cpu) -> Cpu {
        Cpu {
            runtime: self.runtime - earlier.runtime,
            postgres: self.postgres - earlier.postgres,
            redis: self.redis - earlier.redis,
        }
    }

    /// Per unit of work, in milliseconds.
    pub fn per(&self, units: usize) -> Cpu {
        let n = units.max(1) as f64 / 1000.0;
        Cpu {
            runtime: self.runtime / n,
            postgres: self.postgres / n,
            redis: self.redis / n,
        }
    }
}

/// One process's `/proc/<pid>/stat`: (name, process group, user + system seconds).
fn stat(pid: &str) -> Option<(String, u32, f64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, rest) = text.rsplit_once(") ")?;
    let name = head.split_once(" (")?.1.to_owned();
    // After the name: state(0) ppid(1) pgrp(2) … utime(11) stime(12) (fields 3.. of stat(5)).
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let pgrp: u32 = fields.get(2)?.parse().ok()?;
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((name, pgrp, (utime + stime) / clock_ticks()))
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The CPU used so far by the processes in `groups` (the runtime), by every `postgres`, and by
/// the process `redis` (with its threads).
pub fn sample(groups: &[u32], redis: Option<u32>) -> Cpu {
    let groups: HashSet<u32> = groups.iter().copied().collect();
    let mut cpu = Cpu::default();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return cpu;
    };
    for entry in entries.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Some((name, pgrp, seconds)) = stat(&pid) else {
            continue;
        };
        if groups.contains(&pgrp) {
            cpu.runtime += seconds;
        } else if name == "postgres" {
            cpu.postgres += seconds;
        } else if redis.is_some_and(|r| pid == r.to_string()) {
            cpu.redis += seconds;
        }
    }
    cpu
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_burns_cpu_that_the_sample_sees() {
        let me = std::process::id();
        let before = stat(&me.to_string()).unwrap();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(200) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = stat(&me.to_string()).unwrap();
        assert!(after.2 - before.2 >= 0.1, "{before:?} → {after:?}");
        let pgrp = after.1;
        let cpu = sample(&[pgrp], None);
        assert!(cpu.runtime >= after.2, "{cpu:?}");
    }
}
