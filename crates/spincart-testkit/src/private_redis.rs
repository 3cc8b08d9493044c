//! A redis-server of a test's own: apps under test never share a Redis (pub/sub channels are
//! global to a server, so two apps on one Redis would consume each other's events), and fault
//! tests stop and restart it.
//!
//! It listens on a [reserved](crate::ports) port, and it is only taken as ready once the server
//! answering there reports the process id of the one started here: a foreign Redis on the port
//! is an error, never mistaken for ours. The server runs under a small shell that stops it when
//! its standard input closes, so it goes away with the test process even when nothing drops
//! this handle (it may live in a static).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ports::{self, Port};

pub struct PrivateRedis {
    port: Port,
    server: Option<Server>,
}

/// The running server: its supervising shell and its own process id.
struct Server {
    shell: Child,
    pid: u32,
}

/// The `process_id` the server on `port` reports, if one answers.
fn process_id_on(port: u16) -> Option<u32> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    let mut connection = client
        .get_connection_with_timeout(Duration::from_millis(500))
        .ok()?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut connection)
        .ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}

impl PrivateRedis {
    /// Starts a redis-server on a reserved port and waits until it answers.
    pub fn start() -> PrivateRedis {
        let mut redis = PrivateRedis {
            port: ports::reserve(),
            server: None,
        };
        redis.restart();
        redis
    }

    /// Starts it again on the same port (after [`PrivateRedis::stop`]), and waits until the
    /// server answering on the port is this one.
    pub fn restart(&mut self) {
        assert!(
            self.server.is_none(),
            "the private Redis is running already"
        );
        let port = self.port.number();
        let script = format!(
            "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
             server=$!
             echo $server
             cat >/dev/null
             kill $server
             wait $server"
        );
        let mut shell = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh starts");
        let mut first_line = String::new();
        BufReader::new(shell.stdout.take().expect("piped"))
            .read_line(&mut first_line)
            .expect("the shell prints the server's pid");
        let pid: u32 = first_line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("not a pid: {first_line:?}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match process_id_on(port) {
                Some(answering) if answering == pid => break,
                Some(other) => panic!(
                    "port {port} is answered by a Redis that is not ours (process {other}, ours \
                     is {pid}): something outside the suites took a reserved port"
                ),
                None => {}
            }
            if shell.try_wait().ok().flatten().is_some() {
                panic!(
                    "redis-server on port {port} ended at once (scripts/services.sh installs it)"
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.server = Some(Server { shell, pid });
    }

    /// Stops it (connections drop; nothing is kept): closing the shell's input makes it kill
    /// the server and wait for it.
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            drop(server.shell.stdin.take());
            let _ = server.shell.wait();
        }
    }

    pub fn port(&self) -> u16 {
        self.port.number()
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().map(|s| s.pid)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port.number())
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_redis_answers_stops_and_comes_back_on_its_port() {
        let mut redis = PrivateRedis::start();
        let first = redis.pid().unwrap();
        assert_eq!(process_id_on(redis.port()), Some(first));
        redis.stop();
        assert_eq!(process_id_on(redis.port()), None);
        redis.restart();
        let second = redis.pid().unwrap();
        assert_ne!(first, second);
        assert_eq!(process_id_on(redis.port()), Some(second));
    }

    #[test]
    fn a_foreign_redis_on_the_port_is_never_taken_for_ours() {
        let port = ports::reserve();
        let number = port.number();
        let mut foreign = Command::new("redis-server")
            .args(["--port", &number.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while process_id_on(number).is_none() {
            assert!(Instant::now() < deadline, "the foreign Redis answers");
            std::thread::sleep(Duration::from_millis(10));
        }
        let taken = std::panic::catch_unwind(move || {
            let mut ours = PrivateRedis { port, server: None };
            ours.restart();
        });
        let _ = foreign.kill();
        let _ = foreign.wait();
        let message = *taken
            .expect_err("a Redis that is not ours must not pass for it")
            .downcast::<String>()
            .unwrap();
        assert!(message.contains("not ours"), "{message}");
    }
}
