//! The saga's correlation id in what operators read: the platform writes one structured line
//! to stderr per published and consumed event (`spincart.event action=… correlation_id=…`).
//!
//! * On every runtime the lines are in the app's output, one per step the saga passed.
//! * With `OTEL_EXPORTER_OTLP_ENDPOINT` set, real Spin also exports traces and app logs, and
//!   turns each line into an OTel log record and an event of the trigger's span (docs,
//!   "Tracing"). The local host exports no telemetry: there that test is listed as N/A (the
//!   first test covers the lines it prints). The collector is a tiny OTLP/HTTP receiver here
//!   that keeps every body; OTLP protobuf holds strings verbatim, so the saga id is searched for
//!   in the bytes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spincart_tests::running_app::{RunningApp, Runtime};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::helpers::{own_app, TestApp, E2E_SETTINGS};

/// What the receiver got: (path, body) per request.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A minimal OTLP/HTTP collector: accepts every POST (`/v1/traces`, `/v1/logs`,
/// `/v1/metrics`) with an empty protobuf answer, and keeps the bodies.
struct Collector {
    address: SocketAddr,
    received: Received,
}

impl Collector {
    async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let received: Received = Arc::default();
        let keep = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, keep.clone()));
            }
        });
        Collector { address, received }
    }

    /// The bodies received on `path` so far, each as (lossy) text.
    fn bodies(&self, path: &str) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, body)| String::from_utf8_lossy(body).into_owned())
            .collect()
    }

    /// Writes what was received to `target/test-apps/telemetry-otlp/` (for a failing run).
    fn dump(&self) -> std::path::PathBuf {
        let dir = spincart_tests::repo_root().join("target/test-apps/telemetry-otlp");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, (path, body)) in self.received.lock().unwrap().iter().enumerate() {
            let name = format!("{i:04}{}.pb", path.replace('/', "_"));
            std::fs::write(dir.join(name), body).unwrap();
        }
        dir
    }
}

/// Serves one connection's HTTP/1.1 requests (keep-alive; `Content-Length` or chunked bodies).
async fn serve(stream: tokio::net::TcpStream, received: Received) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if stream.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_owned();
        let (mut length, mut chunked) = (0usize, false);
        loop {
            let mut header = String::new();
            if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = value.parse().unwrap_or(0);
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                if stream.read_line(&mut size).await.unwrap_or(0) == 0 {
                    return;
                }
                let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                if stream.read_exact(&mut chunk).await.is_err() {
                    return;
                }
                body.extend_from_slice(&chunk[..size]);
                if size == 0 {
                    break;
                }
            }
        } else {
            body.resize(length, 0);
            if stream.read_exact(&mut body).await.is_err() {
                return;
            }
        }
        received.lock().unwrap().push((path, body));
        let answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if stream.get_mut().write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The lines every checkout's saga writes, up to its first two steps (checkout requested,
/// inventory reserved, payment authorized).
const FIRST_STEPS: [&str; 3] = [
    "action=published event_type=cart.checkout_requested",
    "action=consumed consumer=inventory-reserve event_type=cart.checkout_requested",
    "action=consumed consumer=payments-authorize event_type=inventory.reserved",
];

#[tokio::test]
async fn the_saga_id_is_in_the_log_line_of_every_step_the_saga_passed() {
    let Some(app) = own_app("reads the app's output").await else {
        return;
    };
    let (user, cart, _) = app.shopper("5.00", 5, 1).await;
    let placed = app.checkout(&user, &cart, "tok_visa").await;
    placed.expect(202);
    let saga = placed.body["saga_id"].as_str().unwrap().to_owned();
    let order = placed.body["order_id"].as_str().unwrap().to_owned();
    let settled = app.order_settled(&user, &order).await;
    assert_eq!(settled["saga"]["status"], "CONFIRMED", "{settled}");
    let correlation = format!("correlation_id={saga}");
    let mut wanted = FIRST_STEPS.to_vec();
    wanted.extend([
        "action=consumed consumer=shipping-create event_type=payment.authorized",
        "action=consumed consumer=orders-confirm event_type=shipment.created",
    ]);
    let log = app.log_path.clone().unwrap();
    spincart_tests::eventually(
        Duration::from_secs(10),
        &format!("every step's line of saga {saga} in {}", log.display()),
        || async {
            let output = std::fs::read_to_string(&log).ok()?;
            let ours: Vec<&str> = output
                .lines()
                .filter(|l| l.contains("spincart.event") && l.contains(&correlation))
                .collect();
            wanted
                .iter()
                .all(|w| ours.iter().any(|l| l.contains(w)))
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn on_real_spin_the_saga_id_reaches_the_otlp_traces_and_logs_of_its_steps() {
    if own_app("starts an app of its own with an OTLP collector")
        .await
        .is_none()
    {
        return;
    }
    if !Runtime::from_env().is_spin() {
        spincart_tests::not_applicable(
            "the local host exports no OpenTelemetry (the log-line test covers what it prints)",
        );
        return;
    }
    let collector = Collector::start().await;
    let endpoint = format!("http://{}", collector.address);
    let mut settings = E2E_SETTINGS.to_vec();
    settings.extend([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        // Export every 200 ms instead of every few seconds.
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "200"),
    ]);
    let running = RunningApp::start("telemetry", &settings).await;
    let app = TestApp::talking_to(&running);
    let (user, cart, _) = app.shopper("5.00", 5, 1).await;
    let placed = app.checkout(&user, &cart, "tok_visa").await;
    placed.expect(202);
    let saga = placed.body["saga_id"].as_str().unwrap().to_owned();
    let order = placed.body["order_id"].as_str().unwrap().to_owned();
    let settled = app.order_settled(&user, &order).await;
    assert_eq!(settled["saga"]["status"], "CONFIRMED", "{settled}");

    let correlation = format!("correlation_id={saga}");
    // The checkout request's line and the first saga steps', in the exported spans (as span
    // events of the trigger's span) and in the exported logs.
    let wanted = FIRST_STEPS;
    let has_all = |bodies: Vec<String>| {
        wanted.iter().all(|w| {
            bodies
                .iter()
                .any(|b| b.lines().any(|l| l.contains(w) && l.contains(&correlation)))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let traces = has_all(collector.bodies("/v1/traces"));
        let logs = has_all(collector.bodies("/v1/logs"));
        if traces && logs {
            break;
        }
        if std::time::Instant::now() > deadline {
            let dir = collector.dump();
            panic!(
                "saga {saga}: in the traces: {traces}, in the logs: {logs}; what the collector \
                 got is in {dir:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
