//! Scheduled requests: the local host's stand-in for a cron job (in production, e.g. a
//! Kubernetes CronJob) that calls an endpoint of the app at an interval. Requests go through the
//! app's own HTTP trigger, as any client's would; header values may use `{{ variable }}`
//! templates, expanded with the app's variables.
//!
//! ```text
//! spincart-host up --schedule '15s POST /api/v1/admin/maintenance/run' \
//!                  --schedule-header 'X-Maintenance-Token: {{ maintenance_token }}'
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};

use crate::trigger::http::HttpTrigger;
use crate::variables::Resolver;

/// One scheduled request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub every: Duration,
    pub method: http::Method,
    pub path: String,
}

impl Schedule {
    /// Parses `"<interval> <METHOD> <path>"`, e.g. `"15s POST /api/v1/admin/maintenance/run"`.
    pub fn parse(spec: &str) -> anyhow::Result<Schedule> {
        let parts: Vec<&str> = spec.split_whitespace().collect();
        let [every, method, path] = parts.as_slice() else {
            bail!("a schedule is \"<interval> <METHOD> <path>\", e.g. \"15s POST /api/v1/admin/maintenance/run\"; got {spec:?}");
        };
        if !path.starts_with('/') {
            bail!("the path of a schedule must start with '/': {path:?}");
        }
        Ok(Schedule {
            every: parse_interval(every)?,
            method: method
                .to_uppercase()
                .parse()
                .with_context(|| format!("invalid method {method:?}"))?,
            path: (*path).to_owned(),
        })
    }
}

/// `500ms`, `15s`, `5m`, `1h`.
pub fn parse_interval(text: &str) -> anyhow::Result<Duration> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .with_context(|| format!("invalid interval {text:?}"))?;
    let every = match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => bail!("invalid interval {text:?}: use ms, s, m or h"),
    };
    if every < Duration::from_millis(100) {
        bail!("an interval shorter than 100ms is not allowed: {text:?}");
    }
    Ok(every)
}

/// A `Name: value` header whose value may hold `{{ variable }}` templates.
pub fn parse_header(spec: &str) -> anyhow::Result<(String, String)> {
    let (name, value) = spec
        .split_once(':')
        .with_context(|| format!("a header is \"Name: value\"; got {spec:?}"))?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

/// Runs `schedule` forever against `http`.
pub async fn run(
    schedule: Schedule,
    headers: Vec<(String, String)>,
    resolver: Resolver,
    http: Arc<HttpTrigger>,
) {
    let mut ticker = tokio::time::interval(schedule.every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick is immediate: let the app settle first
    loop {
        ticker.tick().await;
        match call(&schedule, &headers, &resolver, &http).await {
            Ok((status, body)) if status < 400 => {
                tracing::info!(target: "spincart_host::schedule", "{} {} -> {status} {body}", schedule.method, schedule.path)
            }
            Ok((status, body)) => {
                tracing::warn!(target: "spincart_host::schedule", "{} {} -> {status} {body}", schedule.method, schedule.path)
            }
            Err(e) => {
                tracing::warn!(target: "spincart_host::schedule", "{} {} failed: {e:#}", schedule.method, schedule.path)
            }
        }
    }
}

async fn call(
    schedule: &Schedule,
    headers: &[(String, String)],
    resolver: &Resolver,
    http: &HttpTrigger,
) -> anyhow::Result<(u16, String)> {
    let mut request = http::Request::builder()
        .method(schedule.method.clone())
        .uri(format!("http://localhost{}", schedule.path))
        .header(http::header::HOST, "localhost");
    for (name, value) in headers {
        request = request.header(name.as_str(), resolver.resolve_text(value)?);
    }
    let body =
        Empty::<Bytes>::new().map_err(|never| -> wasmtime_wasi_http::Error { match never {} });
    let request = request.body(body)?;
    let client: SocketAddr = "127.0.0.1:0".parse()?;
    let response = http.handle(request, client).await?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading the response: {e:?}"))?
        .to_bytes();
    Ok((
        status,
        String::from_utf8_lossy(&body).chars().take(500).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_interval_method_and_path() {
        let s = Schedule::parse("15s POST /api/v1/admin/maintenance/run").unwrap();
        assert_eq!(s.every, Duration::from_secs(15));
        assert_eq!(s.method, http::Method::POST);
        assert_eq!(s.path, "/api/v1/admin/maintenance/run");
        assert_eq!(parse_interval("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_interval("2m").unwrap(), Duration::from_secs(120));
    }

    #[test]
    fn refuses_malformed_schedules() {
        for bad in [
            "",
            "15s POST",
            "15s POST api/no-slash",
            "soon POST /x",
            "15y POST /x",
            "1ms GET /x",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
        assert!(parse_header("no colon").is_err());
        assert_eq!(
            parse_header("X-Token: {{ t }}").unwrap(),
            ("X-Token".into(), "{{ t }}".into())
        );
    }
}
