//! Counters and histograms that survive Spin's per-request instances.
//!
//! Every HTTP request and every Redis message gets a fresh wasm instance, so nothing may live in
//! component memory between requests. Instead:
//!
//! * a request buffers its observations in memory ([`count`], [`observe`]), merged by series;
//! * at its end the platform flushes them ([`flush`]): **one** Redis command, an `EVAL` of a
//!   small Lua script that applies every `HINCRBY` / `HINCRBYFLOAT` to the hash
//!   [`REDIS_KEY`] atomically. [`crate::http::serve`] and
//!   [`crate::events::consume_reading_ahead`] do it (with the request's own duration); code
//!   that records after them calls [`flush`] itself;
//! * `GET /metrics` reads the hash with one `HGETALL` and renders it ([`render`]) in the
//!   Prometheus text format, with HELP and TYPE for every family of [`FAMILIES`] even before
//!   its first observation.
//!
//! A failed flush is logged and never fails the request; a component without a `redis_url`
//! variable records nothing. Histogram buckets are stored non-cumulatively (one field per
//! bucket, plus `sum` and `count`) and accumulated when rendered, so `+Inf` is always `_count`.
//!
//! ```no_run
//! use spincart_platform::metrics;
//!
//! metrics::count("spincart_cart_operations_total", &[("operation", "add_item")], 1);
//! metrics::observe("spincart_saga_duration_seconds", &[("outcome", "confirmed")], 0.042);
//! metrics::flush(); // the platform does this at the end of every request and message
//! ```
//!
//! This module also writes the one structured log line per published or consumed event
//! ([`log_event`]) that carries the saga's correlation id into real Spin's OpenTelemetry
//! export (docs/operations.md, "Tracing").

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The Redis hash every series lives in (one field per series, bucket, sum or count).
pub const REDIS_KEY: &str = "spincart:metrics";

/// What a family is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Counter,
    /// Upper bounds of the buckets, ascending (`+Inf` is implied).
    Histogram(&'static [f64]),
}

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Histogram(_) => "histogram",
        }
    }
}

/// A metric family: its name, kind, help text and label names (in the order they are rendered).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [&'static str],
}

/// Request latencies: 1 ms to 10 s.
const REQUEST_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Checkout to the saga's end: 10 ms to 5 min (a step may wait for the sweep's deadlines).
const SAGA_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Every family the app records. `GET /metrics` renders them in this order; `deploy/validate.py`
/// checks the Grafana dashboard's queries against the names here.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "spincart_request_duration_seconds",
        kind: Kind::Histogram(REQUEST_BUCKETS),
        help: "Time a component took for one request (kind=\"http\", component = the route) or one Redis message (kind=\"event\", component = the consumer).",
        labels: &["component", "kind"],
    },
    Family {
        name: "spincart_saga_duration_seconds",
        kind: Kind::Histogram(SAGA_BUCKETS),
        help: "Checkout sagas from the checkout request to their end, by outcome (confirmed, compensated, cancelled, compensation_failed).",
        labels: &["outcome"],
    },
    Family {
        name: "spincart_cart_operations_total",
        kind: Kind::Counter,
        help: "Cart commands that succeeded, by operation (create, add_item, update_item, remove_item, clear, checkout).",
        labels: &["operation"],
    },
    Family {
        name: "spincart_cache_requests_total",
        kind: Kind::Counter,
        help: "Cache lookups by cache and result (hit, miss).",
        labels: &["cache", "result"],
    },
    Family {
        name: "spincart_stock_lock_conflicts_total",
        kind: Kind::Counter,
        help: "Cart stock locks and reservations refused for insufficient stock.",
        labels: &[],
    },
    Family {
        name: "spincart_events_published_total",
        kind: Kind::Counter,
        help: "Events published on Redis (first publication and the sweep's re-publications), by event type.",
        labels: &["event_type"],
    },
    Family {
        name: "spincart_events_publish_failed_total",
        kind: Kind::Counter,
        help: "Event publications that failed (the sweep publishes them later), by event type.",
        labels: &["event_type"],
    },
    Family {
        name: "spincart_events_consumed_total",
        kind: Kind::Counter,
        help: "Messages a consumer took, by consumer and outcome: applied, duplicate (already processed: nothing changed), failed (recorded for retry) or dead_lettered.",
        labels: &["consumer", "outcome"],
    },
    Family {
        name: "spincart_dead_letters_total",
        kind: Kind::Counter,
        help: "Messages put in the dead-letter table, by consumer.",
        labels: &["consumer"],
    },
];

/// The declared family called `name`.
pub fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// An increment waiting for the flush.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Delta {
    Int(i64),
    Float(f64),
}

impl Delta {
    fn add(&mut self, other: Delta) {
        *self = match (*self, other) {
            (Delta::Int(a), Delta::Int(b)) => Delta::Int(a.saturating_add(b)),
            (Delta::Float(a), Delta::Float(b)) => Delta::Float(a + b),
            (Delta::Int(a), Delta::Float(b)) | (Delta::Float(b), Delta::Int(a)) => {
                Delta::Float(a as f64 + b)
            }
        };
    }
}

/// This request's observations, by Redis field. One instance serves one request, so a
/// thread-local buffer is the request's own.
#[derive(Debug, Default)]
struct Buffer {
    deltas: BTreeMap<String, Delta>,
}

impl Buffer {
    fn add(&mut self, field: String, delta: Delta) {
        self.deltas
            .entry(field)
            .and_modify(|d| d.add(delta))
            .or_insert(delta);
    }

    fn count(&mut self, family: &str, labels: &[(&str, &str)], by: u64) -> Result<(), String> {
        let declared = declared(family, labels)?;
        if declared.kind != Kind::Counter {
            return Err(format!("{family} is not a counter"));
        }
        let by = i64::try_from(by).unwrap_or(i64::MAX);
        self.add(field(family, Part::Value, labels), Delta::Int(by));
        Ok(())
    }

    fn observe(
        &mut self,
        family: &str,
        labels: &[(&str, &str)],
        seconds: f64,
    ) -> Result<(), String> {
        let declared = declared(family, labels)?;
        let Kind::Histogram(bounds) = declared.kind else {
            return Err(format!("{family} is not a histogram"));
        };
        if !seconds.is_finite() {
            return Err(format!("{family}: {seconds} is not an observation"));
        }
        let seconds = seconds.max(0.0);
        if let Some(bucket) = bounds.iter().position(|bound| seconds <= *bound) {
            self.add(
                field(family, Part::Bucket(bounds[bucket]), labels),
                Delta::Int(1),
            );
        }
        self.add(field(family, Part::Count, labels), Delta::Int(1));
        self.add(field(family, Part::Sum, labels), Delta::Float(seconds));
        Ok(())
    }
}

/// The family, when it is declared with exactly these label names (in its order).
fn declared(family: &str, labels: &[(&str, &str)]) -> Result<&'static Family, String> {
    let declared = self::family(family).ok_or_else(|| format!("{family} is not declared"))?;
    if declared.labels.len() != labels.len()
        || declared.labels.iter().zip(labels).any(|(d, (l, _))| d != l)
    {
        return Err(format!(
            "{family} has the labels {:?}, not {:?}",
            declared.labels,
            labels.iter().map(|(l, _)| l).collect::<Vec<_>>()
        ));
    }
    Ok(declared)
}

thread_local! {
    static BUFFER: RefCell<Buffer> = RefCell::new(Buffer::default());
}

/// Adds `by` to the counter `family` with these labels (in the family's label order).
pub fn count(family: &'static str, labels: &[(&'static str, &str)], by: u64) {
    if let Err(e) = BUFFER.with(|b| b.borrow_mut().count(family, labels, by)) {
        eprintln!("metrics: {e}");
    }
}

/// Records one observation of `seconds` in the histogram `family` with these labels.
pub fn observe(family: &'static str, labels: &[(&'static str, &str)], seconds: f64) {
    if let Err(e) = BUFFER.with(|b| b.borrow_mut().observe(family, labels, seconds)) {
        eprintln!("metrics: {e}");
    }
}

/// Sends what this request recorded to Redis in one `EVAL` and empties the buffer. Nothing
/// recorded, or no `redis_url` variable: no command. A failure is logged, never returned.
pub fn flush() {
    let deltas = BUFFER.with(|b| std::mem::take(&mut b.borrow_mut().deltas));
    if deltas.is_empty() {
        return;
    }
    if spin_sdk::variables::get("redis_url").is_err() {
        return;
    }
    let arguments: Vec<spin_sdk::redis::RedisParameter> = flush_arguments(&deltas)
        .into_iter()
        .map(spin_sdk::redis::RedisParameter::Binary)
        .collect();
    let sent = crate::redis::connection().and_then(|connection| {
        connection.execute("EVAL", &arguments).map_err(|e| {
            crate::redis::forget();
            format!("{e:?}")
        })
    });
    if let Err(e) = sent {
        eprintln!(
            "metrics: flushing {} series to Redis failed (they are lost): {e:?}",
            deltas.len()
        );
    }
}

/// Applies `(i|f, field, increment)` triples to the hash `KEYS[1]`.
const FLUSH_SCRIPT: &str = "\
for i = 1, #ARGV, 3 do
  if ARGV[i] == 'f' then
    redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i + 1], ARGV[i + 2])
  else
    redis.call('HINCRBY', KEYS[1], ARGV[i + 1], ARGV[i + 2])
  end
end
return (#ARGV) / 3";

/// The arguments of the flush's `EVAL`: the script, one key, then a triple per field.
fn flush_arguments(deltas: &BTreeMap<String, Delta>) -> Vec<Vec<u8>> {
    let mut arguments = Vec::with_capacity(3 + 3 * deltas.len());
    arguments.push(FLUSH_SCRIPT.as_bytes().to_vec());
    arguments.push(b"1".to_vec());
    arguments.push(REDIS_KEY.as_bytes().to_vec());
    for (field, delta) in deltas {
        let (kind, value) = match delta {
            Delta::Int(v) => ("i", v.to_string()),
            Delta::Float(v) => ("f", v.to_string()),
        };
        arguments.push(kind.as_bytes().to_vec());
        arguments.push(field.as_bytes().to_vec());
        arguments.push(value.into_bytes());
    }
    arguments
}

/// Times a request or message; when dropped, records it in `spincart_request_duration_seconds`
/// and flushes everything the request recorded.
pub struct RequestTimer {
    component: String,
    kind: &'static str,
    started: std::time::Instant,
}

impl RequestTimer {
    /// Starts timing one request of `component` (`kind`: `http` or `event`).
    pub fn start(component: &str, kind: &'static str) -> RequestTimer {
        RequestTimer {
            component: component.to_owned(),
            kind,
            started: std::time::Instant::now(),
        }
    }
}

impl Drop for RequestTimer {
    fn drop(&mut self) {
        observe(
            "spincart_request_duration_seconds",
            &[("component", self.component.as_str()), ("kind", self.kind)],
            self.started.elapsed().as_secs_f64(),
        );
        flush();
    }
}

/// What a Redis field holds for its series.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// A counter's value.
    Value,
    /// The observations in the bucket ending at this bound (not cumulative).
    Bucket(f64),
    Sum,
    Count,
}

/// Separates a field's parts: never in a name, and dropped from label values.
const SEP: char = '\u{1f}';

/// `family SEP part SEP name=value SEP name=value…`.
fn field(family: &str, part: Part, labels: &[(&str, &str)]) -> String {
    let mut out = String::from(family);
    out.push(SEP);
    match part {
        Part::Value => {}
        Part::Bucket(bound) => {
            let _ = write!(out, "le={bound}");
        }
        Part::Sum => out.push_str("sum"),
        Part::Count => out.push_str("count"),
    }
    for (name, value) in labels {
        out.push(SEP);
        out.push_str(name);
        out.push('=');
        out.extend(value.chars().filter(|c| *c != SEP));
    }
    out
}

/// A stored field read back: family, part, labels.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    family: String,
    part: Part,
    labels: Vec<(String, String)>,
}

fn parse_field(field: &str) -> Option<Stored> {
    let mut parts = field.split(SEP);
    let family = parts.next()?.to_owned();
    let part = match parts.next()? {
        "" => Part::Value,
        "sum" => Part::Sum,
        "count" => Part::Count,
        other => Part::Bucket(other.strip_prefix("le=")?.parse().ok()?),
    };
    let labels = parts
        .map(|pair| {
            pair.split_once('=')
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Stored {
        family,
        part,
        labels,
    })
}

/// Reads every stored series: one `HGETALL`. Without a `redis_url` variable, nothing.
pub fn read_stored() -> Result<Vec<(String, String)>, String> {
    if spin_sdk::variables::get("redis_url").is_err() {
        return Ok(Vec::new());
    }
    let connection = crate::redis::connection()?;
    let reply = connection
        .execute(
            "HGETALL",
            &[spin_sdk::redis::RedisParameter::Binary(
                REDIS_KEY.as_bytes().to_vec(),
            )],
        )
        .map_err(|e| format!("{e:?}"))?;
    let text = |value: &spin_sdk::redis::RedisResult| match value {
        spin_sdk::redis::RedisResult::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        spin_sdk::redis::RedisResult::Status(s) => s.clone(),
        spin_sdk::redis::RedisResult::Int64(v) => v.to_string(),
        spin_sdk::redis::RedisResult::Nil => String::new(),
    };
    Ok(reply
        .chunks_exact(2)
        .map(|pair| (text(&pair[0]), text(&pair[1])))
        .collect())
}

/// A label value escaped for the text format (`\`, `"` and newlines).
pub fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text escaped for the text format (`\` and newlines).
pub fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// `{a="x",b="y"}` (empty for no labels).
pub fn label_set(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = labels
        .iter()
        .map(|(n, v)| format!("{n}=\"{}\"", escape_label_value(v)))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// A sample value: integers without a fraction, `+Inf`/`-Inf`/`NaN` spelled as Prometheus does.
pub fn sample_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        value.to_string()
    }
}

/// A family's stored series: label values (in the family's order) → their parts and values.
type SeriesOf = BTreeMap<Vec<String>, Vec<(Part, f64)>>;

/// The Prometheus text of every declared family from the stored fields `(field, value)`.
/// Fields of unknown families, or with other label names than declared, are skipped.
pub fn render(stored: &[(String, String)], out: &mut String) {
    let mut series: BTreeMap<&str, SeriesOf> = BTreeMap::new();
    for (field, value) in stored {
        let Some(parsed) = parse_field(field) else {
            continue;
        };
        let Some(family) = family(&parsed.family) else {
            continue;
        };
        let names: Vec<&str> = parsed.labels.iter().map(|(n, _)| n.as_str()).collect();
        if names != family.labels {
            continue;
        }
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        series
            .entry(family.name)
            .or_default()
            .entry(parsed.labels.into_iter().map(|(_, v)| v).collect())
            .or_default()
            .push((parsed.part, value));
    }
    for family in FAMILIES {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}",
            name = family.name,
            help = escape_help(family.help),
            kind = family.kind.type_name()
        );
        let empty = BTreeMap::new();
        let by_labels = series.get(family.name).unwrap_or(&empty);
        if by_labels.is_empty() && family.labels.is_empty() && family.kind == Kind::Counter {
            let _ = writeln!(out, "{} 0", family.name);
        }
        for (values, parts) in by_labels {
            let labels: Vec<(&str, &str)> = family
                .labels
                .iter()
                .copied()
                .zip(values.iter().map(String::as_str))
                .collect();
            match family.kind {
                Kind::Counter => {
                    let total: f64 = parts
                        .iter()
                        .filter(|(p, _)| *p == Part::Value)
                        .map(|(_, v)| v)
                        .sum();
                    let _ = writeln!(
                        out,
                        "{}{} {}",
                        family.name,
                        label_set(&labels),
                        sample_value(total)
                    );
                }
                Kind::Histogram(bounds) => {
                    render_histogram(out, family.name, bounds, &labels, parts)
                }
            }
        }
    }
}

fn render_histogram(
    out: &mut String,
    name: &str,
    bounds: &[f64],
    labels: &[(&str, &str)],
    parts: &[(Part, f64)],
) {
    let of = |wanted: Part| -> f64 {
        parts
            .iter()
            .filter(|(p, _)| *p == wanted)
            .map(|(_, v)| v)
            .sum()
    };
    let count = of(Part::Count);
    let mut cumulative = 0.0;
    for bound in bounds {
        cumulative += of(Part::Bucket(*bound));
        let le = bound.to_string();
        let mut with_le = labels.to_vec();
        with_le.push(("le", &le));
        let _ = writeln!(
            out,
            "{name}_bucket{} {}",
            label_set(&with_le),
            sample_value(cumulative.min(count))
        );
    }
    let mut with_le = labels.to_vec();
    with_le.push(("le", "+Inf"));
    let _ = writeln!(
        out,
        "{name}_bucket{} {}",
        label_set(&with_le),
        sample_value(count)
    );
    let _ = writeln!(
        out,
        "{name}_sum{} {}",
        label_set(labels),
        sample_value(of(Part::Sum))
    );
    let _ = writeln!(
        out,
        "{name}_count{} {}",
        label_set(labels),
        sample_value(count)
    );
}

/// Writes one structured line to stderr for an event published or consumed, in a single write
/// so that real Spin turns it into one log record / span event inside the trigger's span:
/// `spincart.event action=consumed consumer=… event_type=… event_id=… correlation_id=…`.
pub fn log_event(
    action: &str,
    consumer: Option<&str>,
    event: &spincart_domain::events::EventEnvelope,
) {
    let mut line = format!("spincart.event action={action}");
    if let Some(consumer) = consumer {
        let _ = write!(line, " consumer={consumer}");
    }
    let _ = writeln!(
        line,
        " event_type={} event_id={} correlation_id={}",
        event.event_type, event.event_id, event.correlation_id
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(buffer: &Buffer) -> Vec<(String, String)> {
        buffer
            .deltas
            .iter()
            .map(|(field, delta)| {
                let value = match delta {
                    Delta::Int(v) => v.to_string(),
                    Delta::Float(v) => v.to_string(),
                };
                (field.clone(), value)
            })
            .collect()
    }

    fn rendered(buffer: &Buffer) -> String {
        let mut out = String::new();
        render(&stored(buffer), &mut out);
        out
    }

    fn lines_of<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
        text.lines().filter(|l| l.starts_with(prefix)).collect()
    }

    #[test]
    fn every_family_has_help_and_type_before_its_first_observation() {
        let out = rendered(&Buffer::default());
        for family in FAMILIES {
            assert!(out.contains(&format!("# HELP {} ", family.name)), "{out}");
            let kind = family.kind.type_name();
            assert!(
                out.contains(&format!("# TYPE {} {kind}\n", family.name)),
                "{out}"
            );
        }
        assert!(
            out.contains("\nspincart_stock_lock_conflicts_total 0\n"),
            "{out}"
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_inf_equals_count() {
        let mut buffer = Buffer::default();
        for seconds in [0.0005, 0.003, 0.003, 0.2, 42.0] {
            buffer
                .observe(
                    "spincart_request_duration_seconds",
                    &[("component", "/api/v1/carts/:id"), ("kind", "http")],
                    seconds,
                )
                .unwrap();
        }
        let out = rendered(&buffer);
        let buckets = lines_of(&out, "spincart_request_duration_seconds_bucket{");
        assert_eq!(buckets.len(), REQUEST_BUCKETS.len() + 1, "{out}");
        let values: Vec<f64> = buckets
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{out}");
        assert_eq!(values[0], 1.0); // le=0.001
        assert_eq!(values[2], 3.0); // le=0.005
        assert_eq!(values[REQUEST_BUCKETS.len() - 1], 4.0); // le=10: not the 42 s one
        assert!(buckets.last().unwrap().contains("le=\"+Inf\"} 5"), "{out}");
        assert!(
            out.contains("spincart_request_duration_seconds_count{component=\"/api/v1/carts/:id\",kind=\"http\"} 5\n"),
            "{out}"
        );
        let sum = lines_of(&out, "spincart_request_duration_seconds_sum{")[0];
        let sum: f64 = sum.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((sum - 42.2065).abs() < 1e-9, "{sum}");
        assert!(buckets[0].contains(",le=\"0.001\"}"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut buffer = Buffer::default();
        buffer
            .count(
                "spincart_dead_letters_total",
                &[("consumer", "a \"quoted\\path\"\nnext")],
                2,
            )
            .unwrap();
        let out = rendered(&buffer);
        assert!(
            out.contains(
                "spincart_dead_letters_total{consumer=\"a \\\"quoted\\\\path\\\"\\nnext\"} 2\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn observations_of_one_series_are_merged_before_the_flush() {
        let mut buffer = Buffer::default();
        let labels = [("operation", "add_item")];
        buffer
            .count("spincart_cart_operations_total", &labels, 1)
            .unwrap();
        buffer
            .count("spincart_cart_operations_total", &labels, 2)
            .unwrap();
        assert_eq!(buffer.deltas.len(), 1);
        assert!(rendered(&buffer)
            .contains("spincart_cart_operations_total{operation=\"add_item\"} 3\n"));
    }

    #[test]
    fn the_flush_is_one_eval_with_a_triple_per_field() {
        let mut buffer = Buffer::default();
        buffer
            .observe(
                "spincart_saga_duration_seconds",
                &[("outcome", "confirmed")],
                0.3,
            )
            .unwrap();
        buffer
            .count(
                "spincart_events_published_total",
                &[("event_type", "order.confirmed")],
                1,
            )
            .unwrap();
        let arguments = flush_arguments(&buffer.deltas);
        assert_eq!(arguments[0], FLUSH_SCRIPT.as_bytes());
        assert_eq!(arguments[1], b"1");
        assert_eq!(arguments[2], REDIS_KEY.as_bytes());
        let triples: Vec<(String, String, String)> = arguments[3..]
            .chunks_exact(3)
            .map(|t| {
                let text = |b: &Vec<u8>| String::from_utf8(b.clone()).unwrap();
                (text(&t[0]), text(&t[1]), text(&t[2]))
            })
            .collect();
        assert_eq!(arguments.len(), 3 + 3 * triples.len());
        // bucket 0.5, count, sum of the saga; the counter.
        assert_eq!(triples.len(), 4);
        let find = |part: &str| {
            triples
                .iter()
                .find(|(_, f, _)| {
                    f.starts_with(&format!("spincart_saga_duration_seconds{SEP}{part}"))
                })
                .unwrap()
                .clone()
        };
        assert_eq!(find("le=0.5").0, "i");
        assert_eq!(find("le=0.5").2, "1");
        assert_eq!(find("count").2, "1");
        assert_eq!(find("sum").0, "f");
        assert_eq!(find("sum").2, "0.3");
        let counter = triples
            .iter()
            .find(|(_, f, _)| f.starts_with("spincart_events_published_total"))
            .unwrap();
        assert_eq!(counter.0, "i");
        assert_eq!(
            counter.1,
            format!("spincart_events_published_total{SEP}{SEP}event_type=order.confirmed")
        );
    }

    #[test]
    fn the_lua_script_reads_triples_and_applies_both_kinds() {
        assert!(FLUSH_SCRIPT.contains("for i = 1, #ARGV, 3 do"));
        assert!(FLUSH_SCRIPT.contains("HINCRBYFLOAT', KEYS[1], ARGV[i + 1], ARGV[i + 2]"));
        assert!(FLUSH_SCRIPT.contains("HINCRBY', KEYS[1], ARGV[i + 1], ARGV[i + 2]"));
    }

    #[test]
    fn fields_round_trip_and_separators_are_dropped_from_values() {
        let f = field(
            "spincart_cache_requests_total",
            Part::Value,
            &[("cache", "ca\u{1f}rt"), ("result", "a=b")],
        );
        let parsed = parse_field(&f).unwrap();
        assert_eq!(parsed.family, "spincart_cache_requests_total");
        assert_eq!(parsed.part, Part::Value);
        assert_eq!(
            parsed.labels,
            vec![
                ("cache".to_owned(), "cart".to_owned()),
                ("result".to_owned(), "a=b".to_owned())
            ]
        );
        let bucket = parse_field(&field(
            "spincart_saga_duration_seconds",
            Part::Bucket(2.5),
            &[("outcome", "x")],
        ))
        .unwrap();
        assert_eq!(bucket.part, Part::Bucket(2.5));
    }

    #[test]
    fn undeclared_families_wrong_labels_and_wrong_kinds_are_refused() {
        let mut buffer = Buffer::default();
        assert!(buffer.count("spincart_nothing_total", &[], 1).is_err());
        assert!(buffer
            .count("spincart_cart_operations_total", &[("op", "x")], 1)
            .is_err());
        assert!(buffer
            .count(
                "spincart_saga_duration_seconds",
                &[("outcome", "confirmed")],
                1
            )
            .is_err());
        assert!(buffer
            .observe("spincart_cart_operations_total", &[("operation", "x")], 1.0)
            .is_err());
        assert!(buffer
            .observe(
                "spincart_saga_duration_seconds",
                &[("outcome", "x")],
                f64::NAN
            )
            .is_err());
        assert!(buffer.deltas.is_empty());
    }

    #[test]
    fn stored_fields_of_unknown_families_or_labels_are_skipped() {
        let stored = vec![
            (format!("spincart_gone_total{SEP}{SEP}a=b"), "3".to_owned()),
            (
                format!("spincart_cart_operations_total{SEP}{SEP}op=create"),
                "3".to_owned(),
            ),
            ("garbage".to_owned(), "1".to_owned()),
        ];
        let mut out = String::new();
        render(&stored, &mut out);
        assert!(!out.contains("spincart_gone_total"));
        assert!(!out.contains("op=\"create\""));
    }

    #[test]
    fn help_texts_escape_backslashes_and_newlines() {
        assert_eq!(escape_help("a\\b\nc"), "a\\\\b\\nc");
        assert_eq!(sample_value(f64::NAN), "NaN");
        assert_eq!(sample_value(3.0), "3");
        assert_eq!(sample_value(0.25), "0.25");
    }
}
