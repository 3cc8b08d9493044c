//! `GET /health`: PostgreSQL and Redis, each checked for real (`SELECT 1`, `PING`).
//!
//! `GET /health?deep=1` (or `deep=true`) runs one more statement that also checks what the
//! event-driven parts rely on (see [`Deep`]):
//!
//! * `event_store`: the versions of every aggregate whose type numbers its events 1..n by
//!   construction are exactly 1..n ([`GAP_FREE_TYPES`]), and no event waits unpublished longer
//!   than the sweep takes to re-publish it ([`UNPUBLISHED_STUCK_AFTER_SECONDS`]);
//! * `sagas`: no saga is past its step deadline longer than the sweep takes to re-drive it
//!   ([`SAGA_OVERDUE_AFTER_SECONDS`]), and how many sagas in `COMPENSATION_FAILED` wait for an
//!   admin (degraded, still 200).
//!
//! The thresholds assume the sweep runs at least every [`SWEEP_PERIOD_SECONDS`] (the CronJob in
//! `deploy/` runs it every minute, `make up` every 15 s). The plain `/health` runs exactly what
//! it ran before deep mode existed.

use serde::Serialize;
use spin_sdk::redis;

use spincart_platform::db::{Db, DbError};
use spincart_platform::http::{ApiError, Ctx, Reply};

/// 200 `{"status":"ok","checks":{"postgres":"ok","redis":"ok"}}`, or 503 naming what failed.
/// With `?deep=1` the checks also hold `event_store` and `sagas`, and `status` may be
/// `degraded` (200): something needs an operator, but the app runs.
pub fn check(ctx: &Ctx) -> Result<Reply, ApiError> {
    let deep = deep_requested(ctx.query_param("deep").as_deref())?;
    let postgres = check_postgres();
    let redis = check_redis();
    let healthy = postgres.is_ok() && redis.is_ok();
    let mut checks = serde_json::json!({
        "postgres": describe(&postgres, "postgres"),
        "redis": describe(&redis, "redis"),
    });
    let mut level = if healthy { Level::Ok } else { Level::Unhealthy };
    if deep {
        let deep = match &postgres {
            Ok(db) => Deep::run(db),
            Err(_) => Deep::not_run("not checked: the postgres check failed".into()),
        };
        level = level.max(deep.level());
        checks["event_store"] = serde_json::json!(deep.event_store);
        checks["sagas"] = serde_json::json!(deep.sagas);
    }
    let body = serde_json::json!({ "status": level.overall(), "checks": checks });
    Ok(Reply::json(level.http_status(), &body))
}

/// `ok`, or `failed` with the cause in the log only: a public endpoint does not hand driver
/// errors (addresses, user names, versions) to whoever asks.
fn describe<T>(check: &Result<T, String>, what: &str) -> String {
    match check {
        Ok(_) => "ok".to_owned(),
        Err(e) => {
            eprintln!("health: the {what} check failed: {e}");
            "failed (the cause is in the health component's log)".to_owned()
        }
    }
}

/// `deep`: absent is the plain check; `1` or `true` the deep one; anything else a 400.
pub fn deep_requested(value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(_) => Err(ApiError::invalid_field("deep", "must be 1 or true")),
    }
}

/// The connection, once it answered `SELECT 1` (deep checks use it too).
fn check_postgres() -> Result<Db, String> {
    let db = Db::connect().map_err(|e| e.to_string())?;
    let row = db.query_one("SELECT 1", &[]).map_err(|e| e.to_string())?;
    match row.get::<i32>(0) {
        Ok(1) => Ok(db),
        other => Err(format!("unexpected answer {other:?}")),
    }
}

fn check_redis() -> Result<(), String> {
    // The request's one connection: the metrics flush at its end reuses it.
    let connection = spincart_platform::redis::connection()?;
    match connection.execute("PING", &[]) {
        Ok(results)
            if results
                .iter()
                .any(|r| matches!(r, redis::RedisResult::Status(s) if s == "PONG")) =>
        {
            Ok(())
        }
        Ok(other) => Err(format!("unexpected answer {other:?}")),
        Err(e) => {
            spincart_platform::redis::forget();
            Err(format!("{e:?}"))
        }
    }
}

/// How often the sweep is assumed to run, at least: the CronJob in `deploy/` runs it every
/// minute (the most often cron can), `make up` every 15 s. The deep thresholds are built on it.
pub const SWEEP_PERIOD_SECONDS: i64 = 60;

/// The sweep re-publishes an unpublished event once it is this old (`claim_unpublished(tx, 5,
/// …)` in the maintenance sweep's `republish_outbox`).
pub const OUTBOX_CLAIM_DELAY_SECONDS: i64 = 5;

/// An event unpublished for longer than this (125 s) is stuck: the sweep claims it once it is
/// [`OUTBOX_CLAIM_DELAY_SECONDS`] old, so a sweep running every [`SWEEP_PERIOD_SECONDS`] has tried
/// it once within claim delay + one period, and a second time (Redis may have failed the first)
/// within one more.
pub const UNPUBLISHED_STUCK_AFTER_SECONDS: i64 =
    OUTBOX_CLAIM_DELAY_SECONDS + 2 * SWEEP_PERIOD_SECONDS;

/// A saga past its step deadline for longer than this (120 s) is overdue: every sweep re-drives
/// the sagas past their deadline (or times their step out), which sets a new deadline, so past
/// two periods the sweep has missed it twice — it is not running, or fails.
pub const SAGA_OVERDUE_AFTER_SECONDS: i64 = 2 * SWEEP_PERIOD_SECONDS;

/// The aggregate types whose events are their truth (event-sourced, or a single event at
/// version 1): each event is appended at the version after the aggregate's last, and the store's
/// unique (type, id, version) refuses a second one, so the versions are exactly 1..n. The other
/// types number events with a row version that also changes without an event (`cart`,
/// `product`, `stock`, `saga`; `payment` may start at 0), or fixed numbers a reservation an admin
/// made for an order's reference can break (`reservation`): their versions are not checked.
pub const GAP_FREE_TYPES: [&str; 3] = ["order", "shipment", "user"];

/// How a check came out; the worst one decides the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    /// Needs an operator, but the app works: still 200.
    Degraded,
    /// Broken, or could not be checked: 503.
    Unhealthy,
}

impl Level {
    /// The response's `status`.
    pub fn overall(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Degraded => "degraded",
            Level::Unhealthy => "unavailable",
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            Level::Unhealthy => 503,
            Level::Ok | Level::Degraded => 200,
        }
    }
}

/// What the deep statement read about the event store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventStoreFigures {
    /// [`GAP_FREE_TYPES`].
    pub gap_free_types: Vec<String>,
    /// Aggregates of those types.
    pub aggregates_checked: i64,
    /// Of those, the ones whose versions are not exactly 1..n.
    pub aggregates_with_gaps: i64,
    /// The first of them, described (for the problem).
    #[serde(skip)]
    pub first_gap: Option<String>,
    /// The other aggregate types in the store, whose versions are not checked.
    pub versions_not_checked: Vec<String>,
    /// Events whose publishing failed (`published_at` NULL), waiting for the sweep.
    pub unpublished: i64,
    /// How long the oldest of them has waited (since it occurred); null when there is none.
    pub oldest_unpublished_seconds: Option<f64>,
    /// [`UNPUBLISHED_STUCK_AFTER_SECONDS`].
    pub unpublished_stuck_after_seconds: i64,
}

impl EventStoreFigures {
    /// Unhealthy when versions have gaps, or an event waits unpublished past
    /// [`UNPUBLISHED_STUCK_AFTER_SECONDS`]; younger unpublished events are queued, not a problem.
    pub fn assess(&self) -> (Level, Vec<String>) {
        let mut problems = Vec::new();
        if self.aggregates_with_gaps > 0 {
            problems.push(format!(
                "aggregates of a gap-free type ({}) whose versions are not 1..n: {}, e.g. {}",
                self.gap_free_types.join(", "),
                self.aggregates_with_gaps,
                self.first_gap.as_deref().unwrap_or("?"),
            ));
        }
        if let Some(age) = self.oldest_unpublished_seconds {
            if age > self.unpublished_stuck_after_seconds as f64 {
                problems.push(format!(
                    "unpublished events: {}, the oldest waiting for {age:.0} s; the sweep \
                     re-publishes them within {} s (is it running, can it reach Redis?)",
                    self.unpublished, self.unpublished_stuck_after_seconds,
                ));
            }
        }
        let level = if problems.is_empty() {
            Level::Ok
        } else {
            Level::Unhealthy
        };
        (level, problems)
    }
}

/// What the deep statement read about the sagas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SagaFigures {
    /// Running sagas (`step_deadline` set: it is NULL once a saga ended) past their deadline.
    pub past_deadline: i64,
    /// How far past it the oldest of them is; null when there is none.
    pub oldest_past_deadline_seconds: Option<f64>,
    /// [`SAGA_OVERDUE_AFTER_SECONDS`].
    pub overdue_after_seconds: i64,
    /// Sagas in `COMPENSATION_FAILED`: an admin has to retry or settle them.
    pub compensation_failed: i64,
}

impl SagaFigures {
    /// Unhealthy when a saga is past its deadline by more than [`SAGA_OVERDUE_AFTER_SECONDS`]
    /// (the sweep is not running); degraded while sagas wait in `COMPENSATION_FAILED`. Sagas
    /// past their deadline by less are the sweep's next work, not a problem.
    pub fn assess(&self) -> (Level, Vec<String>) {
        let mut level = Level::Ok;
        let mut problems = Vec::new();
        if let Some(age) = self.oldest_past_deadline_seconds {
            if age > self.overdue_after_seconds as f64 {
                level = Level::Unhealthy;
                problems.push(format!(
                    "sagas past their step deadline: {}, the oldest by {age:.0} s; the sweep \
                     re-drives them within {} s (is it running?)",
                    self.past_deadline, self.overdue_after_seconds,
                ));
            }
        }
        if self.compensation_failed > 0 {
            level = level.max(Level::Degraded);
            problems.push(format!(
                "sagas in COMPENSATION_FAILED, waiting for an admin: {} \
                 (GET /api/v1/admin/sagas?status=COMPENSATION_FAILED)",
                self.compensation_failed,
            ));
        }
        (level, problems)
    }
}

/// One deep check as reported: its level, what is wrong, and its figures (absent when the
/// check could not run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport<F> {
    pub status: Level,
    pub problems: Vec<String>,
    #[serde(flatten)]
    pub figures: Option<F>,
}

impl<F> CheckReport<F> {
    fn assessed(figures: F, assess: fn(&F) -> (Level, Vec<String>)) -> Self {
        let (status, problems) = assess(&figures);
        CheckReport {
            status,
            problems,
            figures: Some(figures),
        }
    }

    fn failed(problem: String) -> Self {
        CheckReport {
            status: Level::Unhealthy,
            problems: vec![problem],
            figures: None,
        }
    }
}

/// The deep checks: `checks.event_store` and `checks.sagas`.
#[derive(Debug, Clone, PartialEq)]
pub struct Deep {
    pub event_store: CheckReport<EventStoreFigures>,
    pub sagas: CheckReport<SagaFigures>,
}

impl Deep {
    /// Reads the figures (one statement) and assesses them.
    pub fn run(db: &Db) -> Deep {
        match read_figures(db) {
            Ok((event_store, sagas)) => Deep::assessed(event_store, sagas),
            Err(e) => {
                eprintln!("health: the deep checks' statement failed: {e}");
                Deep::not_run("postgres: the figures could not be read (see the log)".into())
            }
        }
    }

    pub fn assessed(event_store: EventStoreFigures, sagas: SagaFigures) -> Deep {
        Deep {
            event_store: CheckReport::assessed(event_store, EventStoreFigures::assess),
            sagas: CheckReport::assessed(sagas, SagaFigures::assess),
        }
    }

    /// Both checks unhealthy for `problem`, without figures.
    pub fn not_run(problem: String) -> Deep {
        Deep {
            event_store: CheckReport::failed(problem.clone()),
            sagas: CheckReport::failed(problem),
        }
    }

    pub fn level(&self) -> Level {
        self.event_store.status.max(self.sagas.status)
    }
}

/// Every figure in one statement (`$1`: [`GAP_FREE_TYPES`]); each part is an aggregate, so it
/// always returns one row, and ages are seconds computed in SQL (Spin cannot decode
/// `timestamptz`). Indexes: the versions and the types present are read from the unique
/// (aggregate_type, aggregate_id, aggregate_version) index (an index-only scan per gap-free
/// type, one probe per type present), unpublished events from `events_unpublished`, running
/// sagas from `sagas_running_by_deadline` (migration 0008), failed ones from `sagas_by_status`.
const DEEP_SQL: &str = "
WITH RECURSIVE types (aggregate_type) AS (
    (SELECT aggregate_type FROM messaging.events ORDER BY aggregate_type LIMIT 1)
    UNION ALL
    SELECT (SELECT e.aggregate_type FROM messaging.events e
             WHERE e.aggregate_type > t.aggregate_type ORDER BY e.aggregate_type LIMIT 1)
      FROM types t WHERE t.aggregate_type IS NOT NULL
),
versions AS (
    SELECT count(*) AS aggregates,
           count(*) FILTER (WHERE a.first <> 1 OR a.last <> a.events) AS with_gaps,
           min(format('%s %s has %s events, versions %s to %s',
                      t.aggregate_type, a.aggregate_id, a.events, a.first, a.last))
               FILTER (WHERE a.first <> 1 OR a.last <> a.events) AS first_gap
      FROM unnest($1::text[]) AS t (aggregate_type)
     CROSS JOIN LATERAL (
           SELECT e.aggregate_id, min(e.aggregate_version) AS first,
                  max(e.aggregate_version) AS last, count(*) AS events
             FROM messaging.events e
            WHERE e.aggregate_type = t.aggregate_type
            GROUP BY e.aggregate_id) a
),
unpublished AS (
    SELECT count(*) AS events, min(occurred_at) AS oldest
      FROM messaging.events WHERE published_at IS NULL
),
past_deadline AS (
    SELECT count(*) AS sagas, min(step_deadline) AS oldest
      FROM checkout.sagas WHERE step_deadline < now()
)
SELECT v.aggregates, v.with_gaps, v.first_gap,
       (SELECT coalesce(array_agg(aggregate_type ORDER BY aggregate_type), '{}') FROM types
         WHERE aggregate_type IS NOT NULL AND aggregate_type <> ALL ($1::text[])),
       u.events, round(extract(epoch FROM now() - u.oldest), 3)::float8,
       p.sagas, round(extract(epoch FROM now() - p.oldest), 3)::float8,
       (SELECT count(*) FROM checkout.sagas WHERE status = 'COMPENSATION_FAILED')
  FROM versions v, unpublished u, past_deadline p";

fn read_figures(db: &Db) -> Result<(EventStoreFigures, SagaFigures), DbError> {
    let types: Vec<Option<String>> = GAP_FREE_TYPES
        .iter()
        .map(|t| Some((*t).to_owned()))
        .collect();
    let row = db.query_one(DEEP_SQL, &[types.into()])?;
    let not_checked: Vec<Option<String>> = row.get(3)?;
    let event_store = EventStoreFigures {
        gap_free_types: GAP_FREE_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        aggregates_checked: row.get(0)?,
        aggregates_with_gaps: row.get(1)?,
        first_gap: row.get(2)?,
        versions_not_checked: not_checked.into_iter().flatten().collect(),
        unpublished: row.get(4)?,
        oldest_unpublished_seconds: row.get(5)?,
        unpublished_stuck_after_seconds: UNPUBLISHED_STUCK_AFTER_SECONDS,
    };
    let sagas = SagaFigures {
        past_deadline: row.get(6)?,
        oldest_past_deadline_seconds: row.get(7)?,
        overdue_after_seconds: SAGA_OVERDUE_AFTER_SECONDS,
        compensation_failed: row.get(8)?,
    };
    Ok((event_store, sagas))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> EventStoreFigures {
        EventStoreFigures {
            gap_free_types: GAP_FREE_TYPES.iter().map(|t| (*t).to_owned()).collect(),
            aggregates_checked: 3,
            aggregates_with_gaps: 0,
            first_gap: None,
            versions_not_checked: vec!["cart".into(), "saga".into()],
            unpublished: 0,
            oldest_unpublished_seconds: None,
            unpublished_stuck_after_seconds: UNPUBLISHED_STUCK_AFTER_SECONDS,
        }
    }

    fn sagas() -> SagaFigures {
        SagaFigures {
            past_deadline: 0,
            oldest_past_deadline_seconds: None,
            overdue_after_seconds: SAGA_OVERDUE_AFTER_SECONDS,
            compensation_failed: 0,
        }
    }

    #[test]
    fn deep_is_off_without_the_parameter_and_on_for_1_or_true_only() {
        assert!(!deep_requested(None).unwrap());
        assert!(deep_requested(Some("1")).unwrap());
        assert!(deep_requested(Some("true")).unwrap());
        for other in ["maybe", "0", "false", "", "TRUE", "yes", "1 "] {
            let refused = deep_requested(Some(other)).expect_err(other);
            assert_eq!(refused.status, 400, "{other:?}");
            assert_eq!(refused.code, "validation_failed", "{other:?}");
        }
    }

    #[test]
    fn the_thresholds_are_two_sweep_periods_after_what_the_sweep_waits_for() {
        assert_eq!(UNPUBLISHED_STUCK_AFTER_SECONDS, 125);
        assert_eq!(SAGA_OVERDUE_AFTER_SECONDS, 120);
    }

    #[test]
    fn a_store_without_gaps_or_waiting_events_is_ok() {
        assert_eq!(store().assess(), (Level::Ok, vec![]));
    }

    #[test]
    fn a_version_gap_is_unhealthy_and_named() {
        let broken = EventStoreFigures {
            aggregates_with_gaps: 1,
            first_gap: Some("order 42 has 2 events, versions 1 to 3".into()),
            ..store()
        };
        let (level, problems) = broken.assess();
        assert_eq!(level, Level::Unhealthy);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("order 42 has 2 events, versions 1 to 3"),
            "{problems:?}"
        );
    }

    #[test]
    fn unpublished_events_are_queued_until_the_sweep_should_have_published_them() {
        let queued = EventStoreFigures {
            unpublished: 4,
            oldest_unpublished_seconds: Some(125.0),
            ..store()
        };
        assert_eq!(queued.assess().0, Level::Ok);
        let stuck = EventStoreFigures {
            oldest_unpublished_seconds: Some(125.5),
            ..queued
        };
        let (level, problems) = stuck.assess();
        assert_eq!(level, Level::Unhealthy);
        assert!(
            problems[0].starts_with("unpublished events: 4, the oldest waiting for 126 s"),
            "{problems:?}"
        );
    }

    #[test]
    fn sagas_past_their_deadline_are_the_sweeps_work_until_the_grace_is_over() {
        let due = SagaFigures {
            past_deadline: 2,
            oldest_past_deadline_seconds: Some(120.0),
            ..sagas()
        };
        assert_eq!(due.assess(), (Level::Ok, vec![]));
        let overdue = SagaFigures {
            oldest_past_deadline_seconds: Some(3600.0),
            ..due
        };
        let (level, problems) = overdue.assess();
        assert_eq!(level, Level::Unhealthy);
        assert!(
            problems[0].starts_with("sagas past their step deadline: 2, the oldest by 3600 s"),
            "{problems:?}"
        );
    }

    #[test]
    fn sagas_waiting_for_an_admin_degrade_without_failing_and_never_hide_an_overdue_one() {
        let waiting = SagaFigures {
            compensation_failed: 1,
            ..sagas()
        };
        let (level, problems) = waiting.assess();
        assert_eq!(level, Level::Degraded);
        assert!(problems[0].contains("COMPENSATION_FAILED"), "{problems:?}");
        let both = SagaFigures {
            past_deadline: 1,
            oldest_past_deadline_seconds: Some(500.0),
            ..waiting
        };
        let (level, problems) = both.assess();
        assert_eq!(level, Level::Unhealthy);
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn the_worst_check_decides_the_status_and_the_http_status() {
        let ok = Deep::assessed(store(), sagas());
        assert_eq!(
            (ok.level().overall(), ok.level().http_status()),
            ("ok", 200)
        );
        let degraded = Deep::assessed(
            store(),
            SagaFigures {
                compensation_failed: 2,
                ..sagas()
            },
        );
        assert_eq!(
            (degraded.level().overall(), degraded.level().http_status()),
            ("degraded", 200)
        );
        let broken = Deep::assessed(
            EventStoreFigures {
                aggregates_with_gaps: 1,
                ..store()
            },
            SagaFigures {
                compensation_failed: 2,
                ..sagas()
            },
        );
        assert_eq!(
            (broken.level().overall(), broken.level().http_status()),
            ("unavailable", 503)
        );
    }

    #[test]
    fn a_check_reports_its_figures_beside_its_status_and_none_when_it_could_not_run() {
        let ok = serde_json::json!(Deep::assessed(store(), sagas()).sagas);
        assert_eq!(
            ok,
            serde_json::json!({
                "status": "ok", "problems": [], "past_deadline": 0,
                "oldest_past_deadline_seconds": null, "overdue_after_seconds": 120,
                "compensation_failed": 0,
            })
        );
        let store = serde_json::json!(Deep::assessed(store(), sagas()).event_store);
        assert!(store.get("first_gap").is_none(), "{store}");
        assert_eq!(
            store["versions_not_checked"],
            serde_json::json!(["cart", "saga"])
        );
        let failed = serde_json::json!(Deep::not_run("postgres: down".into()).event_store);
        assert_eq!(
            failed,
            serde_json::json!({ "status": "unhealthy", "problems": ["postgres: down"] })
        );
    }
}
