//! A redis-server of a test's own, on a free port: apps under test never share a Redis (pub/sub
//! channels are global to a server, so two apps on one Redis would consume each other's events),
//! and fault tests can stop and restart it.
//!
//! The server runs under a small shell that stops it when its standard input closes, so it goes
//! away with the test process even when nothing drops this handle (it may live in a static).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn answers(port: u16) -> bool {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .and_then(|c| c.get_connection())
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
        .is_ok()
}

impl PrivateRedis {
    /// Starts a redis-server on a free port and waits until it answers.
    pub fn start() -> PrivateRedis {
        let mut redis = PrivateRedis {
            port: free_port(),
            child: None,
        };
        redis.restart();
        redis
    }

    /// Starts it again on the same port (after [`PrivateRedis::stop`]).
    pub fn restart(&mut self) {
        let server = format!(
            "redis-server --port {} --bind 127.0.0.1 --save '' --appendonly no",
            self.port
        );
        let child = Command::new("sh")
            .args([
                "-c",
                &format!("{server} & server=$!; cat >/dev/null; kill $server; wait $server"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sh starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers(self.port) {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {} (scripts/services.sh installs it)",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops it (connections drop; nothing is kept): closing the shell's input makes it kill
    /// the server and wait for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
