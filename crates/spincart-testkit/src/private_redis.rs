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
    acl: Option<Acl>,
}

/// An ACL the server runs under: its file, the app's user and password, and the suite's own
/// user (every command, for checks such as `INFO` and `PUBSUB` that the app's user may not run).
struct Acl {
    file: std::path::PathBuf,
    user: String,
    password: String,
    suite_password: String,
}

/// The running server: its supervising shell and its own process id.
struct Server {
    shell: Child,
    pid: u32,
}

/// The `process_id` the server on `port` reports, if one answers.
fn process_id_on(url: &str) -> Option<u32> {
    let client = redis::Client::open(url).ok()?;
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
            acl: None,
        };
        redis.restart();
        redis
    }

    /// Starts a redis-server under the ACL file `template` (a Redis ACL file whose app user's
    /// password is `CHANGE_ME_REDIS_PASSWORD`), with `user`'s password replaced by a random one
    /// and a user of the suite's own added; [`PrivateRedis::url`] then logs in as `user`.
    pub fn start_with_acl(template: &std::path::Path, user: &str) -> PrivateRedis {
        // A test password: random enough that no other process guesses it.
        let random = || {
            use std::hash::BuildHasher;
            let keys = std::collections::hash_map::RandomState::new();
            format!("{:016x}{:016x}", keys.hash_one(1u8), keys.hash_one(2u8))
        };
        let (password, suite_password) = (random(), random());
        let text = std::fs::read_to_string(template)
            .unwrap_or_else(|e| panic!("reading the ACL {template:?}: {e}"));
        assert!(
            text.contains("CHANGE_ME_REDIS_PASSWORD"),
            "{template:?} has no CHANGE_ME_REDIS_PASSWORD to replace"
        );
        let port = ports::reserve();
        let file = std::env::temp_dir().join(format!("spincart-redis-{}.acl", port.number()));
        std::fs::write(
            &file,
            format!(
                "{}\nuser spincart-testkit on >{suite_password} ~* &* +@all\n",
                text.replace("CHANGE_ME_REDIS_PASSWORD", &password)
            ),
        )
        .expect("writing the ACL file");
        let mut redis = PrivateRedis {
            port,
            server: None,
            acl: Some(Acl {
                file,
                user: user.to_owned(),
                password,
                suite_password,
            }),
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
        let acl = match &self.acl {
            Some(acl) => format!("--aclfile '{}'", acl.file.display()),
            None => String::new(),
        };
        let script = format!(
            "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no {acl} >/dev/null 2>&1 &
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
        let suite_url = self.suite_url();
        loop {
            match process_id_on(&suite_url) {
                Some(answering) if answering == pid => break,
                Some(other) => panic!(
                    "port {port} is answered by a Redis that is not ours (process {other}, ours \
                     is {pid}): something outside the suites took a reserved port"
                ),
                None => {}
            }
            // Gone, or a zombie its shell has not reaped yet (the shell waits on its input).
            let server_gone =
                std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
                    stat.rsplit_once(") ")
                        .is_some_and(|(_, rest)| rest.starts_with('Z'))
                });
            if server_gone || shell.try_wait().ok().flatten().is_some() {
                panic!(
                    "redis-server on port {port} ended at once (is it installed? \
                     scripts/services.sh installs it; under an ACL: does the file load?)"
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

    /// The URL the app uses (as its ACL user, when it runs under an ACL).
    pub fn url(&self) -> String {
        match &self.acl {
            Some(acl) => format!(
                "redis://{}:{}@127.0.0.1:{}",
                acl.user,
                acl.password,
                self.port.number()
            ),
            None => format!("redis://127.0.0.1:{}", self.port.number()),
        }
    }

    /// The URL the suite itself uses: every command allowed (the same as [`PrivateRedis::url`]
    /// without an ACL).
    pub fn suite_url(&self) -> String {
        match &self.acl {
            Some(acl) => format!(
                "redis://spincart-testkit:{}@127.0.0.1:{}",
                acl.suite_password,
                self.port.number()
            ),
            None => format!("redis://127.0.0.1:{}", self.port.number()),
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
        if let Some(acl) = &self.acl {
            let _ = std::fs::remove_file(&acl.file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_redis_answers_stops_and_comes_back_on_its_port() {
        let mut redis = PrivateRedis::start();
        let first = redis.pid().unwrap();
        assert_eq!(process_id_on(&redis.url()), Some(first));
        redis.stop();
        assert_eq!(process_id_on(&redis.url()), None);
        redis.restart();
        let second = redis.pid().unwrap();
        assert_ne!(first, second);
        assert_eq!(process_id_on(&redis.url()), Some(second));
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
        while process_id_on(&format!("redis://127.0.0.1:{number}")).is_none() {
            assert!(Instant::now() < deadline, "the foreign Redis answers");
            std::thread::sleep(Duration::from_millis(10));
        }
        let taken = std::panic::catch_unwind(move || {
            let mut ours = PrivateRedis {
                port,
                server: None,
                acl: None,
            };
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

#[cfg(test)]
mod acl_tests {
    use super::*;

    #[test]
    fn under_an_acl_the_app_user_may_only_what_the_file_allows() {
        let template =
            std::env::temp_dir().join(format!("acl-template-{}.acl", std::process::id()));
        std::fs::write(
            &template,
            "user default off\nuser app on >CHANGE_ME_REDIS_PASSWORD resetkeys ~app:* -@all +get +set\n",
        )
        .unwrap();
        let redis = PrivateRedis::start_with_acl(&template, "app");
        std::fs::remove_file(&template).unwrap();
        let mut app = redis::Client::open(redis.url())
            .unwrap()
            .get_connection()
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg("app:x")
            .arg(1)
            .query(&mut app)
            .unwrap();
        let denied: redis::RedisResult<()> = redis::cmd("SET").arg("other").arg(1).query(&mut app);
        assert!(denied.unwrap_err().to_string().contains("NOPERM"));
        let denied: redis::RedisResult<String> = redis::cmd("INFO").query(&mut app);
        assert!(denied.is_err());
        assert_eq!(process_id_on(&redis.suite_url()), redis.pid());
        assert!(
            redis::Client::open(format!("redis://127.0.0.1:{}", redis.port()))
                .unwrap()
                .get_connection()
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_err(),
            "the default user is off"
        );
    }
}
