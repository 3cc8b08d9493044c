//! `spincart-host up`: load the app, serve HTTP, subscribe to Redis, stop on Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::runtime::{App, HostOptions};
use crate::trigger::http::HttpTrigger;
use crate::trigger::redis::RedisTrigger;

/// Options of `spincart-host up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub manifest: PathBuf,
    pub listen: SocketAddr,
    /// Run only these components (Spin's `--component-id`); empty: all of them.
    pub components: Vec<String>,
    pub host: HostOptions,
    /// Exit when standard input closes (lets a test process own the host's lifetime).
    pub exit_on_stdin_eof: bool,
    /// Requests to make at intervals (a cron job's stand-in), and the headers they carry.
    pub schedules: Vec<crate::schedule::Schedule>,
    pub schedule_headers: Vec<(String, String)>,
}

/// Runs the app until Ctrl-C (or stdin EOF when asked).
pub async fn up(options: UpOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    eprintln!("Loading {} ...", options.manifest.display());
    let app =
        Arc::new(App::load(&options.manifest, &options.components, options.host.clone()).await?);
    for name in app.services.resolver.unresolved_required() {
        tracing::warn!(
            "required variable {name:?} has no value; set SPIN_VARIABLE_{}",
            name.to_ascii_uppercase()
        );
    }
    let http = Arc::new(HttpTrigger::new(app.clone())?);
    let redis = Arc::new(RedisTrigger::new(app.clone())?);
    eprintln!(
        "Loaded {} components in {:.1?} (profile: {})",
        app.components.len(),
        started.elapsed(),
        options.host.profile
    );
    // Like `spin up`: no HTTP listener when no HTTP component is selected.
    let listener = if http.router().routes().is_empty() {
        None
    } else {
        let listener = TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("Unable to listen on {}", options.listen))?;
        let base = format!("http://{}", listener.local_addr()?);
        println!("\nServing {base}");
        println!("Available Routes:");
        for route in http.router().routes() {
            let shown = route
                .based
                .strip_suffix("/...")
                .map(|prefix| format!("{base}{prefix} (wildcard)"))
                .unwrap_or_else(|| format!("{base}{}", route.based));
            println!("  {}: {shown}", route.component);
        }
        Some(listener)
    };

    // As in Spin, the Redis trigger ending (strict profile: Redis went away) ends the process.
    let redis_ended = {
        let redis = redis.clone();
        async move {
            if redis.is_empty() {
                std::future::pending::<anyhow::Result<()>>().await
            } else {
                redis.run().await
            }
        }
    };
    for schedule in options.schedules.clone() {
        println!(
            "Scheduled: {} {} every {:?}",
            schedule.method, schedule.path, schedule.every
        );
        tokio::spawn(crate::schedule::run(
            schedule,
            options.schedule_headers.clone(),
            app.services.resolver.clone(),
            http.clone(),
        ));
    }
    let exit_on_stdin_eof = options.exit_on_stdin_eof;
    let shutdown = async move {
        let stdin_closed = async {
            if exit_on_stdin_eof {
                let mut stdin = tokio::io::stdin();
                let mut buf = [0u8; 64];
                loop {
                    match tokio::io::AsyncReadExt::read(&mut stdin, &mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => continue,
                    }
                }
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => eprintln!("Shutting down (Ctrl-C)"),
            () = stdin_closed => eprintln!("Shutting down (stdin closed)"),
        }
    };
    let served = async move {
        match listener {
            Some(listener) => http.serve(listener, shutdown).await,
            None => {
                shutdown.await;
                Ok(())
            }
        }
    };
    tokio::select! {
        served = served => served,
        ended = redis_ended => {
            let error = ended.err().unwrap_or_else(|| anyhow::anyhow!("the Redis trigger ended"));
            Err(error.context(
                "the Redis trigger stopped, and with it the app (as in Spin; run the Redis-triggered \
                 components as a process of their own to keep HTTP up: see docs/real-spin.md)",
            ))
        }
    }
}
