//! The `spincart-host` command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use spincart_host::key_value::StateDir;
use spincart_host::runtime::HostOptions;
use spincart_host::up::{up, UpOptions};

#[derive(Parser)]
#[command(
    name = "spincart-host",
    version,
    about = "A Spin-compatible local host for spincart (and any Spin app using HTTP, Redis, Postgres, key-value and variables)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the application (like `spin up`).
    Up {
        /// The Spin manifest.
        #[arg(long, short = 'f', default_value = "spin.toml")]
        manifest: PathBuf,
        /// Address to serve HTTP on.
        #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// Do not cache compiled components on disk.
        #[arg(long)]
        disable_cache: bool,
        /// Do not use wasmtime's pooling allocator.
        #[arg(long)]
        disable_pooling: bool,
        /// Run only this component (and its triggers); may be repeated. Like `spin up
        /// --component-id`: e.g. the HTTP components in one process, the Redis-triggered ones
        /// in another.
        #[arg(long = "component-id", short = 'c')]
        components: Vec<String>,
        /// `strict` (default): behave as real Spin 4.0.2 does where it is rough (a query with
        /// zero rows fails instead of hanging, query errors arrive as text, a Postgres pool per
        /// component, the process exits when Redis drops). `lenient`: kinder than any released
        /// Spin; for comparisons, never for tests.
        #[arg(long, env = "SPINCART_HOST_PROFILE", default_value = "strict")]
        profile: spincart_host::profile::Profile,
        /// The app's state directory, e.g. for the default key-value store
        /// (`sqlite_key_value.db`); like `spin up --state-dir`: `.spin/` next to the manifest
        /// when absent, none at all (the default store in memory) when empty.
        #[arg(long)]
        state_dir: Option<String>,
        /// Exit when standard input is closed (for test runners that own the host).
        #[arg(long)]
        exit_on_stdin_eof: bool,
        /// Call an endpoint at an interval, like a cron job: "<interval> <METHOD> <path>",
        /// e.g. "15s POST /api/v1/admin/maintenance/run". May be repeated.
        #[arg(long)]
        schedule: Vec<String>,
        /// A header for scheduled requests, "Name: value"; `{{ variable }}` templates are
        /// expanded with the app's variables. May be repeated.
        #[arg(long)]
        schedule_header: Vec<String>,
    },
    /// Apply SQL migrations (ordered, recorded, safe to run twice).
    Migrate {
        /// The database; defaults to SPIN_VARIABLE_DB_URL.
        #[arg(long, env = "SPIN_VARIABLE_DB_URL")]
        db_url: String,
        /// The folder of NNNN_name.sql files.
        #[arg(long, default_value = "migrations")]
        dir: PathBuf,
    },
    /// Check a manifest without running it.
    Check {
        #[arg(long, short = 'f', default_value = "spin.toml")]
        manifest: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Error texts given to components must not carry host backtraces (Spin's do not by default).
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();

    match Cli::parse().command {
        Command::Up {
            manifest,
            listen,
            components,
            profile,
            disable_cache,
            disable_pooling,
            state_dir,
            exit_on_stdin_eof,
            schedule,
            schedule_header,
        } => {
            let schedules = schedule
                .iter()
                .map(|s| spincart_host::schedule::Schedule::parse(s))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let schedule_headers = schedule_header
                .iter()
                .map(|h| spincart_host::schedule::parse_header(h))
                .collect::<anyhow::Result<Vec<_>>>()?;
            up(UpOptions {
                manifest,
                listen,
                components,
                host: HostOptions {
                    compilation_cache: !disable_cache,
                    pooling: !disable_pooling,
                    profile,
                    state_dir: StateDir::from_flag(state_dir.as_deref()),
                    ..HostOptions::default()
                },
                exit_on_stdin_eof,
                schedules,
                schedule_headers,
            })
            .await
        }
        Command::Migrate { db_url, dir } => {
            let report = spincart_host::migrate::migrate(&db_url, &dir).await?;
            for name in &report.applied {
                eprintln!("applied {name}");
            }
            eprintln!(
                "migrations: {} applied now, {} already applied ({})",
                report.applied.len(),
                report.already_applied,
                spincart_host::migrate::redact(&db_url)
            );
            Ok(())
        }
        Command::Check { manifest } => {
            let m = spincart_host::manifest::AppManifest::from_file(&manifest)?;
            println!(
                "{}: {} components, {} HTTP routes, {} Redis channels",
                manifest.display(),
                m.components.len(),
                m.http_triggers.len(),
                m.redis_triggers.len()
            );
            Ok(())
        }
    }
}
