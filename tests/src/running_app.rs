//! Starting the whole app as users run it — on the local host or on a real `spin up` — with a
//! fresh database, a Redis of its own and a fixed free port, under a supervisor.
//!
//! * [`Runtime`] says what runs it: the local host (`target/release/spincart-host`, strict
//!   profile) or a real Spin binary (`SPINCART_RUNTIME=/path/to/spin`).
//! * [`Layout`] says how: every component in one process, or HTTP components and
//!   Redis-triggered components in two processes (Spin's selective deployment,
//!   `--component-id`), so that a Redis outage does not take the API down.
//! * Each process is supervised as Kubernetes would: when it exits (real Spin exits when Redis
//!   goes away; a crash test kills it), it is started again with backoff on the same port.
//!
//! Every process runs in a process group of its own under a small shell that kills the group
//! when its standard input closes: `spin up` runs its triggers as child processes, and nothing
//! may outlive the test process or a kill.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spincart_testkit::ports::{self, Port};

use crate::{fresh_database, host_binary, host_port, repo_root, PrivateRedis};

/// The password of every started app's admin ([`RunningApp::admin_email`]).
pub const ADMIN_PASSWORD: &str = "e2e-admin-password";

/// What runs the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// `target/release/spincart-host` (strict profile).
    LocalHost,
    /// A real `spin` binary.
    Spin(PathBuf),
}

impl Runtime {
    /// `SPINCART_RUNTIME`: unset or `local` for the local host, else the path of a `spin`
    /// binary (absolute, or relative to the repository).
    pub fn from_env() -> Runtime {
        match std::env::var("SPINCART_RUNTIME") {
            Err(_) => Runtime::LocalHost,
            Ok(value) if value.is_empty() || value == "local" => Runtime::LocalHost,
            Ok(path) => {
                // Relative to the repository (tests run with their package as the working dir).
                let path = repo_root().join(path);
                assert!(
                    path.exists(),
                    "SPINCART_RUNTIME={path:?}: no such Spin binary"
                );
                Runtime::Spin(path)
            }
        }
    }

    /// "local host", or what the binary says of itself ("spin 4.0.2 (bfc7543b 2026-06-23)").
    pub fn label(&self) -> String {
        match self {
            Runtime::LocalHost => "local host".into(),
            Runtime::Spin(path) => Command::new(path)
                .arg("--version")
                .output()
                .ok()
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| path.display().to_string()),
        }
    }

    pub fn is_spin(&self) -> bool {
        matches!(self, Runtime::Spin(_))
    }
}

/// How the app's components are spread over processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Every component in one process (`spin up`).
    OneProcess,
    /// HTTP components in one process, Redis-triggered components in another.
    Split,
    /// The saga spread over two processes: HTTP components, the catalog projection and the
    /// first half of the saga's shards in one; the other half of the shards in another.
    ShardHalves,
}

/// Which components a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    All,
    Http,
    Consumers,
    /// [`Layout::ShardHalves`]: the HTTP components, the unsharded consumers and shards
    /// `0 .. saga_shards / 2`.
    FrontShards,
    /// [`Layout::ShardHalves`]: shards `saga_shards / 2 .. saga_shards`.
    BackShards,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::All => "app",
            Role::Http => "http",
            Role::Consumers => "consumers",
            Role::FrontShards => "front",
            Role::BackShards => "back",
        }
    }

    fn serves_http(self) -> bool {
        matches!(self, Role::All | Role::Http | Role::FrontShards)
    }
}

/// The saga shard a component runs (`on-checkout-requested-s2` → 2), if it is a shard's.
pub fn shard_of_component(id: &str) -> Option<u32> {
    id.rsplit_once("-s")?.1.parse().ok()
}

/// `saga_shards` of `spin.toml`.
pub fn saga_shards() -> u32 {
    manifest().variables["saga_shards"]
        .default
        .as_deref()
        .and_then(|v| v.parse().ok())
        .expect("spin.toml's saga_shards has a numeric default")
}

fn manifest() -> spincart_host::manifest::AppManifest {
    spincart_host::manifest::AppManifest::from_file(&repo_root().join("spin.toml"))
        .expect("spin.toml parses")
}

/// The components of `spin.toml` by trigger: (HTTP component ids, Redis component ids, Redis
/// channels).
fn components_by_trigger() -> (Vec<String>, Vec<String>, Vec<String>) {
    let manifest = manifest();
    let mut http: Vec<String> = manifest
        .http_triggers
        .iter()
        .map(|t| t.component.clone())
        .collect();
    let mut redis: Vec<String> = manifest
        .redis_triggers
        .iter()
        .map(|t| t.component.clone())
        .collect();
    let mut channels: Vec<String> = manifest
        .redis_triggers
        .iter()
        .map(|t| t.channel.clone())
        .collect();
    for list in [&mut http, &mut redis, &mut channels] {
        list.sort();
        list.dedup();
    }
    (http, redis, channels)
}

/// The app under test; its processes stop when this is dropped or the test process exits.
pub struct RunningApp {
    pub base_url: String,
    pub db_url: String,
    pub redis: PrivateRedis,
    pub runtime: Runtime,
    pub layout: Layout,
    pub jwt_secret: String,
    pub admin_email: String,
    pub maintenance_token: String,
    /// What the (first) process printed.
    pub log_path: PathBuf,
    name: String,
    processes: Vec<Supervised>,
    watch: RestartWatch,
    /// The app's port, reserved for as long as the app lives (restarts bind it again).
    _port: Port,
}

/// Whether an app's processes may restart: a fault test expects it (it kills a process or stops
/// Redis), every other test must fail when the app it talks to restarted under it — a crash
/// that the supervisor hid would otherwise pass. Unexpected restarts are also written to
/// `target/test-apps/unexpected-restarts.log`, which `make test` checks after every suite.
#[derive(Debug, Clone)]
pub struct RestartWatch {
    app: String,
    expected: Arc<AtomicBool>,
    unexpected: Arc<Mutex<Vec<String>>>,
    /// Where unexpected restarts are appended ([`RestartWatch::log_file`] for apps under test).
    log: Option<PathBuf>,
}

impl RestartWatch {
    fn new(app: &str, log: Option<PathBuf>) -> RestartWatch {
        RestartWatch {
            app: app.to_owned(),
            expected: Arc::default(),
            unexpected: Arc::default(),
            log,
        }
    }

    /// The file every unexpected restart of a suite's apps is appended to.
    pub fn log_file() -> PathBuf {
        repo_root().join("target/test-apps/unexpected-restarts.log")
    }

    fn restarted(&self, role: Role, how: &str, log_path: &Path) {
        if self.expected.load(Ordering::SeqCst) {
            return;
        }
        let line = format!(
            "the {} app's {} process exited ({how}) and was restarted, unexpectedly; see {}",
            self.app,
            role.name(),
            log_path.display()
        );
        if let Some(Ok(mut file)) = self.log.as_ref().map(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        }) {
            let _ = writeln!(file, "{line}");
        }
        self.unexpected.lock().unwrap().push(line);
    }

    /// Fails the calling test when a process of the app restarted without a test expecting it.
    pub fn assert_no_unexpected_restart(&self) {
        let unexpected = self.unexpected.lock().unwrap();
        assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    }
}

impl RunningApp {
    /// Starts the app on the runtime named by `SPINCART_RUNTIME`, in one process; `env` adds or
    /// overrides variables (e.g. `SPIN_VARIABLE_X`).
    pub async fn start(name: &str, env: &[(&str, &str)]) -> RunningApp {
        Self::start_with(name, env, Runtime::from_env(), Layout::OneProcess).await
    }

    /// Starts the app on `runtime` with `layout`, and waits until it serves and consumes.
    pub async fn start_with(
        name: &str,
        env: &[(&str, &str)],
        runtime: Runtime,
        layout: Layout,
    ) -> RunningApp {
        Self::start_on(name, env, runtime, layout, PrivateRedis::start()).await
    }

    /// [`RunningApp::start_with`] on a Redis of the caller's (e.g. one under an ACL).
    pub async fn start_on(
        name: &str,
        env: &[(&str, &str)],
        runtime: Runtime,
        layout: Layout,
        redis: PrivateRedis,
    ) -> RunningApp {
        let db_url = fresh_database().await;
        // The app's admin, made as an operator makes one (`spincart-admin create`).
        let admin_email = format!("admin-{}@{name}.test", uuid::Uuid::new_v4().simple());
        spincart_admin::ensure_admin(&db_url, &admin_email, ADMIN_PASSWORD, "Test Admin")
            .await
            .expect("creating the app's admin");
        let jwt_secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let maintenance_token = uuid::Uuid::new_v4().to_string();
        let logs = repo_root().join("target/test-apps");
        std::fs::create_dir_all(&logs).unwrap();
        let reserved = ports::reserve();
        let port = reserved.number();
        let watch = RestartWatch::new(name, Some(RestartWatch::log_file()));
        let mut variables: Vec<(String, String)> = vec![
            ("SPIN_VARIABLE_DB_URL".into(), db_url.clone()),
            ("SPIN_VARIABLE_DB_HOST".into(), host_port(&db_url)),
            ("SPIN_VARIABLE_REDIS_URL".into(), redis.url()),
            ("SPIN_VARIABLE_REDIS_HOST".into(), host_port(&redis.url())),
            ("SPIN_VARIABLE_JWT_SECRET".into(), jwt_secret.clone()),
            (
                "SPIN_VARIABLE_MAINTENANCE_TOKEN".into(),
                maintenance_token.clone(),
            ),
        ];
        // The local host logs each request and message at `info` (the bench reads instantiation
        // times from it); Spin keeps its default, as users run it.
        if runtime == Runtime::LocalHost {
            variables.push(("RUST_LOG".into(), "info".into()));
        }
        variables.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));

        let roles: &[Role] = match layout {
            Layout::OneProcess => &[Role::All],
            Layout::Split => &[Role::Http, Role::Consumers],
            Layout::ShardHalves => &[Role::FrontShards, Role::BackShards],
        };
        let (http_ids, redis_ids, channels) = components_by_trigger();
        let half = saga_shards() / 2;
        let front_consumers = redis_ids
            .iter()
            .filter(|id| shard_of_component(id).is_none_or(|k| k < half));
        let processes: Vec<Supervised> = roles
            .iter()
            .map(|&role| {
                let log_path = logs.join(format!("{name}-{}.log", role.name()));
                std::fs::write(&log_path, "").unwrap();
                let state_dir = logs.join(format!("{name}-{}-state", role.name()));
                let ids = match role {
                    Role::All => Vec::new(),
                    Role::Http => http_ids.clone(),
                    Role::Consumers => redis_ids.clone(),
                    Role::FrontShards => http_ids
                        .iter()
                        .chain(front_consumers.clone())
                        .cloned()
                        .collect(),
                    Role::BackShards => redis_ids
                        .iter()
                        .filter(|id| shard_of_component(id).is_some_and(|k| k >= half))
                        .cloned()
                        .collect(),
                };
                Supervised::start(
                    Launch {
                        role,
                        runtime: runtime.clone(),
                        port,
                        components: ids,
                        env: variables.clone(),
                        log_path,
                        state_dir,
                    },
                    watch.clone(),
                )
            })
            .collect();
        let app = RunningApp {
            base_url: format!("http://127.0.0.1:{port}"),
            db_url,
            redis,
            log_path: processes[0].launch.log_path.clone(),
            runtime,
            layout,
            jwt_secret,
            admin_email,
            maintenance_token,
            name: name.to_owned(),
            processes,
            watch,
            _port: reserved,
        };
        app.wait_until_ready(&channels, Duration::from_secs(300))
            .await;
        app
    }

    /// Waits until the app answers HTTP and every channel has a subscriber (after a start or
    /// a restart).
    pub async fn wait_until_ready(&self, channels: &[String], timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let client = reqwest::Client::new();
        loop {
            let serving = client
                .get(format!("{}/.well-known/spin/health", self.base_url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok();
            if serving && self.subscribed(channels).await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the {} app on {} is not ready after {timeout:?}; see {:?}",
                self.name,
                self.runtime.label(),
                self.log_path
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// [`RunningApp::wait_until_ready`] for this app's channels.
    pub async fn ready(&self) {
        let (_, _, channels) = components_by_trigger();
        self.wait_until_ready(&channels, Duration::from_secs(120))
            .await;
    }

    /// Whether every channel has a subscriber on the app's (private) Redis.
    async fn subscribed(&self, channels: &[String]) -> bool {
        if channels.is_empty() {
            return true;
        }
        let Ok(client) = redis::Client::open(self.redis.suite_url()) else {
            return false;
        };
        let Ok(mut connection) = client.get_multiplexed_async_connection().await else {
            return false;
        };
        let counts: Result<Vec<(String, i64)>, _> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channels)
            .query_async(&mut connection)
            .await;
        counts.is_ok_and(|c| c.len() == channels.len() && c.iter().all(|(_, n)| *n > 0))
    }

    /// Says that this app's processes will exit and be restarted (a fault test's doing), so
    /// that a restart does not fail the tests talking to it.
    pub fn expect_restarts(&self) {
        self.watch.expected.store(true, Ordering::SeqCst);
    }

    /// What tells whether the app restarted unexpectedly (see [`RestartWatch`]).
    pub fn restart_watch(&self) -> RestartWatch {
        self.watch.clone()
    }

    /// Kills every process of the app at once (SIGKILL: nothing is flushed), as a node failure
    /// would; the supervisor starts them again. Call [`RunningApp::ready`] to wait for that.
    pub fn kill(&self) {
        self.expect_restarts();
        for process in &self.processes {
            process.kill();
        }
    }

    /// Kills the process running `role`'s components; the supervisor starts it again.
    pub fn kill_role(&self, role: Role) {
        self.expect_restarts();
        for process in self.processes.iter().filter(|p| p.launch.role == role) {
            process.kill();
        }
    }

    /// The process groups of the app's processes (each is started as a group of its own): what
    /// [`crate::cpu::sample`] counts as the runtime.
    pub fn process_groups(&self) -> Vec<u32> {
        self.processes
            .iter()
            .filter_map(|p| p.shared.state.lock().unwrap().child.as_ref().map(Child::id))
            .collect()
    }

    /// CPU used so far by the app's runtime, by PostgreSQL and by the app's Redis.
    pub fn cpu(&self) -> crate::cpu::Cpu {
        crate::cpu::sample(&self.process_groups(), self.redis.pid())
    }

    /// How many times the supervisor has started each process (1 = never restarted), by role.
    pub fn starts(&self) -> Vec<(Role, u32)> {
        self.processes
            .iter()
            .map(|p| (p.launch.role, p.shared.state.lock().unwrap().starts))
            .collect()
    }

    /// A connection to the app's database as a role of the suite's own
    /// (`spincart_observer`, superuser), with `pg_stat_statements` installed: what it sends is
    /// never counted as the app's.
    pub async fn observer(&self) -> tokio_postgres::Client {
        let server = crate::connect(&crate::pg_url()).await;
        server
            .batch_execute(
                "DO $$ BEGIN
                     IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spincart_observer') THEN
                         CREATE ROLE spincart_observer LOGIN SUPERUSER;
                     END IF;
                 END $$",
            )
            .await
            .unwrap();
        let observer_url = self
            .db_url
            .replacen("://spincart@", "://spincart_observer@", 1);
        let observer = crate::connect(&observer_url).await;
        observer
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .await
            .expect(
                "pg_stat_statements is loaded (scripts/services.sh starts PostgreSQL with it; \
                 `make stop` and start again if yours predates that)",
            );
        observer
    }

    /// Connections the app holds on PostgreSQL now, as `pg_stat_activity` sees them.
    pub async fn pg_connections(&self) -> i64 {
        let database = self.db_url.rsplit('/').next().unwrap().to_owned();
        let admin = crate::connect(&crate::pg_url()).await;
        admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                &[&database],
            )
            .await
            .unwrap()
            .get(0)
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        for process in &self.processes {
            process.stop();
        }
    }
}

/// Everything needed to start one process (again).
#[derive(Debug, Clone)]
struct Launch {
    role: Role,
    runtime: Runtime,
    port: u16,
    /// `--component-id`s; empty: all.
    components: Vec<String>,
    env: Vec<(String, String)>,
    log_path: PathBuf,
    state_dir: PathBuf,
}

impl Launch {
    /// The command line of the runtime.
    fn argv(&self) -> Vec<String> {
        let manifest = repo_root().join("spin.toml").display().to_string();
        let mut argv: Vec<String> = match &self.runtime {
            Runtime::LocalHost => vec![
                host_binary().display().to_string(),
                "up".into(),
                "--manifest".into(),
                manifest,
                "--state-dir".into(),
                self.state_dir.display().to_string(),
            ],
            Runtime::Spin(binary) => vec![
                binary.display().to_string(),
                "up".into(),
                "--from".into(),
                manifest,
                "--state-dir".into(),
                self.state_dir.display().to_string(),
            ],
        };
        if self.role.serves_http() {
            argv.push("--listen".into());
            argv.push(format!("127.0.0.1:{}", self.port));
        }
        for id in &self.components {
            argv.push("--component-id".into());
            argv.push(id.clone());
        }
        argv
    }

    /// Starts the process in a group of its own, under a shell that kills the group when its
    /// standard input closes and otherwise exits with the runtime's status.
    fn spawn(&self) -> Child {
        const SUPERVISED: &str = r#"
exec 3<&0
"$@" </dev/null 3<&- &
app=$!
{ cat <&3 >/dev/null; kill -KILL 0; } &
exec 3<&-
wait "$app"
"#;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(SUPERVISED)
            .arg("supervised")
            .args(self.argv())
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Runtime::Spin(_) = self.runtime {
            // Spin writes under $HOME (its wasmtime cache); keep that out of the user's home.
            command.env("HOME", repo_root().join("target/spin-home"));
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("starting the app under test");
        let log = Arc::new(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log_path)
                .unwrap(),
        ));
        copy_lines(child.stdout.take().unwrap(), log.clone());
        copy_lines(child.stderr.take().unwrap(), log);
        child
    }
}

fn copy_lines(from: impl std::io::Read + Send + 'static, to: Arc<Mutex<std::fs::File>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            let _ = writeln!(to.lock().unwrap(), "{line}");
        }
    });
}

fn note(path: &Path, line: &str) {
    if let Ok(mut file) = std::fs::OpenOptions::new().append(true).open(path) {
        let _ = writeln!(file, "[supervisor] {line}");
    }
}

struct ProcessState {
    child: Option<Child>,
    /// False once the app is dropped: the watcher stops the process and ends.
    wanted: bool,
    starts: u32,
}

struct Shared {
    state: Mutex<ProcessState>,
}

/// A process kept running by a watcher thread, as a supervisor (Kubernetes) would.
struct Supervised {
    launch: Launch,
    shared: Arc<Shared>,
    watch: RestartWatch,
}

impl Supervised {
    fn start(launch: Launch, watch: RestartWatch) -> Supervised {
        let shared = Arc::new(Shared {
            state: Mutex::new(ProcessState {
                child: Some(launch.spawn()),
                wanted: true,
                starts: 1,
            }),
        });
        let watcher = Supervised {
            launch: launch.clone(),
            shared: shared.clone(),
            watch: watch.clone(),
        };
        std::thread::spawn(move || watcher.watch());
        Supervised {
            launch,
            shared,
            watch,
        }
    }

    /// Restarts the process whenever it has ended, with backoff (100 ms doubling to 2 s, as a
    /// crash-looping pod), until the app is dropped.
    fn watch(self) {
        let mut backoff = Duration::from_millis(100);
        let mut started = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(25));
            let mut state = self.shared.state.lock().unwrap();
            if !state.wanted {
                if let Some(child) = state.child.take() {
                    end(child);
                }
                return;
            }
            let exited = match state.child.as_mut() {
                None => Some("killed".to_owned()),
                Some(child) => match child.try_wait() {
                    Ok(Some(status)) => Some(status.to_string()),
                    _ => None,
                },
            };
            let Some(how) = exited else { continue };
            if let Some(child) = state.child.take() {
                end(child);
            }
            drop(state);
            if started.elapsed() > Duration::from_secs(10) {
                backoff = Duration::from_millis(100);
            }
            note(
                &self.launch.log_path,
                &format!(
                    "{} exited ({how}); starting it again in {backoff:?}",
                    self.launch.role.name()
                ),
            );
            self.watch
                .restarted(self.launch.role, &how, &self.launch.log_path);
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
            let mut state = self.shared.state.lock().unwrap();
            if !state.wanted {
                return;
            }
            state.child = Some(self.launch.spawn());
            state.starts += 1;
            started = Instant::now();
        }
    }

    /// Kills the whole process group now; the watcher starts it again.
    fn kill(&self) {
        let mut state = self.shared.state.lock().unwrap();
        if let Some(child) = state.child.take() {
            end(child);
        }
    }

    /// Stops the process for good.
    fn stop(&self) {
        let mut state = self.shared.state.lock().unwrap();
        state.wanted = false;
        if let Some(child) = state.child.take() {
            end(child);
        }
    }
}

/// Ends a supervised process: closing its shell's input kills its whole group (SIGKILL).
fn end(mut child: Child) {
    drop(child.stdin.take());
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_nobody_expected_fails_whoever_talks_to_the_app_next() {
        let log = std::env::temp_dir().join(format!("restarts-{}.log", uuid::Uuid::new_v4()));
        let watch = RestartWatch::new("checkout", Some(log.clone()));
        watch.assert_no_unexpected_restart();
        watch.restarted(Role::Consumers, "signal: 9", Path::new("app.log"));
        let failed = std::panic::catch_unwind(|| watch.assert_no_unexpected_restart());
        let message = *failed.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.contains("the checkout app's consumers process exited (signal: 9)"),
            "{message}"
        );
        assert!(std::fs::read_to_string(&log).unwrap().contains(&message));
        std::fs::remove_file(log).unwrap();
    }

    #[test]
    fn a_restart_a_fault_test_expects_fails_nothing() {
        let watch = RestartWatch::new("fault-kill", None);
        watch.expected.store(true, Ordering::SeqCst);
        watch.restarted(Role::All, "signal: 9", Path::new("app.log"));
        watch.assert_no_unexpected_restart();
    }
}
