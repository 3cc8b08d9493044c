//! Starting the whole app on the local host, as `spin up` would run it: a fresh database, the
//! shared Redis, a free port. Used by the end-to-end suite and the benchmarks.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::private_redis::PrivateRedis;
use crate::{fresh_database, host_binary, host_port, repo_root};

/// The app running on the local host, stopped when this is dropped or the process exits
/// (the host exits when its standard input closes). It has a database and a redis-server of its
/// own.
pub struct LocalApp {
    pub base_url: String,
    pub db_url: String,
    pub redis: PrivateRedis,
    name: String,
    env: Vec<(String, String)>,
    pub jwt_secret: String,
    pub admin_email: String,
    pub maintenance_token: String,
    /// Everything the host printed.
    pub log_path: PathBuf,
    child: Option<Child>,
}

impl LocalApp {
    /// Starts the host; `env` adds or overrides variables (e.g. `SPIN_VARIABLE_X`).
    pub async fn start(name: &str, env: &[(&str, &str)]) -> LocalApp {
        let db_url = fresh_database().await;
        let redis = PrivateRedis::start();
        let admin_email = format!("admin-{}@{name}.test", uuid::Uuid::new_v4().simple());
        let jwt_secret = uuid::Uuid::new_v4().to_string();
        let maintenance_token = uuid::Uuid::new_v4().to_string();
        let log_path = repo_root().join(format!("target/{name}-host.log"));
        std::fs::write(&log_path, "").unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut app = LocalApp {
            base_url: String::new(),
            db_url,
            redis,
            name: name.to_owned(),
            env,
            jwt_secret,
            admin_email,
            maintenance_token,
            log_path,
            child: None,
        };
        app.launch();
        app
    }

    /// Starts the host process (again) on this app's database and Redis.
    pub fn launch(&mut self) {
        let redis = self.redis.url();
        let db_url = self.db_url.clone();
        let mut command = Command::new(host_binary());
        command
            .args([
                "up",
                "--listen",
                "127.0.0.1:0",
                "--exit-on-stdin-eof",
                "--manifest",
            ])
            .arg(repo_root().join("spin.toml"))
            .env("SPIN_VARIABLE_DB_URL", &db_url)
            .env("SPIN_VARIABLE_DB_HOST", host_port(&db_url))
            .env("SPIN_VARIABLE_REDIS_URL", &redis)
            .env("SPIN_VARIABLE_REDIS_HOST", host_port(&redis))
            .env("SPIN_VARIABLE_JWT_SECRET", &self.jwt_secret)
            .env("SPIN_VARIABLE_ADMIN_EMAILS", &self.admin_email)
            .env("SPIN_VARIABLE_MAINTENANCE_TOKEN", &self.maintenance_token)
            .env("RUST_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("starting the local host");

        // Everything the host prints goes to the log; its address comes from "Serving".
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap();
        let log = Arc::new(Mutex::new(log_file));
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let out_log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Serving ") {
                    let _ = url_tx.send(url.trim().to_owned());
                }
                let _ = writeln!(out_log.lock().unwrap(), "{line}");
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(log.lock().unwrap(), "{line}");
            }
        });
        let base_url = url_rx
            .recv_timeout(Duration::from_secs(300))
            .unwrap_or_else(|_| {
                panic!(
                    "the {} host did not start; see {:?}",
                    self.name, self.log_path
                )
            });
        self.base_url = base_url;
        self.child = Some(child);
    }

    /// Stops the host (kill -9: nothing is flushed; for crash tests).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LocalApp {
    fn drop(&mut self) {
        self.kill();
    }
}
