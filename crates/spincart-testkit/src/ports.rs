//! Loopback ports that two test suites on one machine can never both be given.
//!
//! Binding port 0 and releasing it (the usual trick) leaves a window in which another process —
//! another suite, or an outgoing connection — takes the port before the app binds it. Instead a
//! port is reserved: it comes from below Linux's ephemeral range (32768–60999), so no outgoing
//! connection is ever given it, and a file lock per port (`$TMPDIR/spincart-test-ports/<port>`)
//! keeps every other reservation away for as long as the [`Port`] lives. The lock goes with its
//! process, so a killed suite frees its ports. A port that something outside the suites already
//! listens on is skipped.

use std::collections::hash_map::RandomState;
use std::fs::{File, OpenOptions, TryLockError};
use std::hash::BuildHasher;
use std::net::TcpListener;
use std::path::PathBuf;

/// The reservable ports: above the services `make up` starts (15432, 16379) and below the
/// ephemeral range.
pub const RANGE: std::ops::Range<u16> = 20000..32000;

/// A reserved port; the reservation ends when this is dropped.
#[derive(Debug)]
pub struct Port {
    number: u16,
    _lock: File,
}

impl Port {
    pub fn number(&self) -> u16 {
        self.number
    }
}

fn lock_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("spincart-test-ports");
    std::fs::create_dir_all(&dir).expect("creating the port lock directory");
    dir
}

/// Reserves a free loopback port (see the module documentation).
pub fn reserve() -> Port {
    let dir = lock_dir();
    let span = u64::from(RANGE.end - RANGE.start);
    let start = RandomState::new().hash_one(std::process::id()) % span;
    for i in 0..span {
        let number = RANGE.start + ((start + i) % span) as u16;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(number.to_string()))
            .expect("opening a port lock file");
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(e)) => panic!("locking port {number}: {e}"),
        }
        // Held by no suite; is something else listening on it?
        if TcpListener::bind(("127.0.0.1", number)).is_ok() {
            return Port {
                number,
                _lock: lock,
            };
        }
    }
    panic!("no free port in {RANGE:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserved_port_is_never_handed_out_twice() {
        let ports: Vec<Port> = (0..50).map(|_| reserve()).collect();
        let mut numbers: Vec<u16> = ports.iter().map(Port::number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), 50);
        assert!(numbers.iter().all(|n| RANGE.contains(n)));
    }

    #[test]
    fn a_port_something_listens_on_is_skipped() {
        let first = reserve();
        let taken = first.number();
        // Release the reservation but keep the port busy, as a foreign server would.
        drop(first);
        let listener = TcpListener::bind(("127.0.0.1", taken)).unwrap();
        for _ in 0..200 {
            assert_ne!(reserve().number(), taken);
        }
        drop(listener);
    }

    #[test]
    fn a_dropped_reservation_frees_its_port() {
        let port = reserve();
        let number = port.number();
        let path = lock_dir().join(number.to_string());
        let other = OpenOptions::new().write(true).open(&path).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop(port);
        assert!(other.try_lock().is_ok());
    }
}
