//! `GET /metrics`: Prometheus text format —
//!
//! * gauges read from the database at each scrape: orders, sagas and carts by status, stock,
//!   money captured and refunded, the health of delivery (unpublished events, failed
//!   deliveries, dead letters), and three ratios over the last `metrics_window_seconds`
//!   ([`window_ratios`]);
//! * the counters and histograms every component records per request and flushes to Redis
//!   ([`spincart_platform::metrics`]), read with one `HGETALL`.

use std::fmt::Write;

use spincart_platform::db::Db;
use spincart_platform::http::{ApiError, Ctx, Reply};
use spincart_platform::metrics;

/// The sagas that count as ended for [`window_ratios`].
const ENDED_SAGAS: &str = "('CONFIRMED', 'COMPENSATED', 'CANCELLED', 'COMPENSATION_FAILED')";

/// Three ratios over the last `metrics_window_seconds` (default 3600), in one statement (`NaN`
/// when nothing is in the window):
///
/// * `spincart_saga_success_ratio`: of the sagas that ended in the window (their last change,
///   `updated_at`, is in it and their status is CONFIRMED, COMPENSATED, CANCELLED or
///   COMPENSATION_FAILED), the share that is CONFIRMED. A confirmed order cancelled later counts
///   as CANCELLED, when the cancel ends;
/// * of the carts created in the window (`created_at`), each in exactly one group:
///   converted — a checkout was started for it (a saga exists, whatever its outcome);
///   abandoned — no checkout, and it expired or still holds items; untouched — the rest (empty,
///   never checked out). `spincart_cart_conversion_ratio` = converted / created,
///   `spincart_cart_abandonment_ratio` = abandoned / created. A cart still being filled counts
///   as abandoned until its checkout starts, as in the usual definition of the rate.
fn window_ratios(out: &mut String, db: &Db) -> Result<(), ApiError> {
    let window: i64 = spincart_platform::config::parse("metrics_window_seconds")
        .unwrap_or(3600)
        .clamp(60, 366 * 86_400);
    let row = db.query_one(
        &format!(
            "WITH since AS (SELECT now() - make_interval(secs => $1::bigint) AS t),
                  created AS (
                    SELECT c.status,
                           c.id IN (SELECT s.cart_id FROM checkout.sagas s, since
                                     WHERE s.created_at >= since.t) AS checked_out,
                           EXISTS (SELECT 1 FROM cart.cart_items i WHERE i.cart_id = c.id) AS has_items
                      FROM cart.carts c, since WHERE c.created_at >= since.t),
                  ended AS (
                    SELECT s.status FROM checkout.sagas s, since
                     WHERE s.updated_at >= since.t AND s.status IN {ENDED_SAGAS})
             SELECT (SELECT (count(*) FILTER (WHERE status = 'CONFIRMED'))::float8
                            / nullif(count(*), 0) FROM ended),
                    (SELECT (count(*) FILTER (WHERE NOT checked_out
                                              AND (status = 'EXPIRED' OR has_items)))::float8
                            / nullif(count(*), 0) FROM created),
                    (SELECT (count(*) FILTER (WHERE checked_out))::float8
                            / nullif(count(*), 0) FROM created)"
        ),
        &[window.into()],
    )?;
    let ratios = [
        ("spincart_saga_success_ratio", "Share of the checkout sagas that ended in the window (metrics_window_seconds) that were CONFIRMED."),
        ("spincart_cart_abandonment_ratio", "Share of the carts created in the window that were abandoned: no checkout started, and expired or still holding items."),
        ("spincart_cart_conversion_ratio", "Share of the carts created in the window whose checkout was started."),
    ];
    for (column, (name, help)) in ratios.iter().enumerate() {
        let value: Option<f64> = row.get(column)?;
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}",
            metrics::sample_value(value.unwrap_or(f64::NAN))
        );
    }
    let _ = writeln!(
        out,
        "# HELP spincart_metrics_window_seconds The window of the ratio gauges.\n# TYPE spincart_metrics_window_seconds gauge\nspincart_metrics_window_seconds {window}"
    );
    Ok(())
}

fn gauge_by_label(
    out: &mut String,
    db: &Db,
    name: &str,
    help: &str,
    label: &str,
    sql: &str,
) -> Result<(), ApiError> {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for row in db.query(sql, &[])?.iter() {
        let key: String = row.get(0)?;
        let value: i64 = row.get(1)?;
        let _ = writeln!(out, "{name}{{{label}=\"{key}\"}} {value}");
    }
    Ok(())
}

fn gauge(out: &mut String, db: &Db, name: &str, help: &str, sql: &str) -> Result<(), ApiError> {
    let value: i64 = db.query_one(sql, &[])?.get(0)?;
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
    Ok(())
}

pub fn render(_ctx: &Ctx) -> Result<Reply, ApiError> {
    let db = Db::connect()?;
    let mut out = String::new();
    gauge_by_label(
        &mut out,
        &db,
        "spincart_orders",
        "Orders by status.",
        "status",
        "SELECT status, count(*)::bigint FROM orders.orders GROUP BY status ORDER BY status",
    )?;
    gauge_by_label(
        &mut out,
        &db,
        "spincart_sagas",
        "Checkout sagas by status.",
        "status",
        "SELECT status, count(*)::bigint FROM checkout.sagas GROUP BY status ORDER BY status",
    )?;
    gauge_by_label(
        &mut out,
        &db,
        "spincart_carts",
        "Carts by status.",
        "status",
        "SELECT status, count(*)::bigint FROM cart.carts GROUP BY status ORDER BY status",
    )?;
    gauge_by_label(&mut out, &db, "spincart_stock_units", "Units of stock across products.", "kind",
        "SELECT k, v FROM (SELECT 'on_hand' k, coalesce(sum(on_hand), 0)::bigint v FROM inventory.stock
                           UNION ALL SELECT 'locked', coalesce(sum(locked), 0)::bigint FROM inventory.stock
                           UNION ALL SELECT 'reserved', coalesce(sum(reserved), 0)::bigint FROM inventory.stock) s")?;
    gauge_by_label(&mut out, &db, "spincart_payments_minor_units", "Money moved by the payment provider, in minor units.", "kind",
        "SELECT k, v FROM (SELECT 'captured' k, coalesce(sum(captured_minor), 0)::bigint v FROM payments.payments
                           UNION ALL SELECT 'refunded', coalesce(sum(refunded_minor), 0)::bigint FROM payments.payments) s")?;
    gauge(
        &mut out,
        &db,
        "spincart_events_total",
        "Events in the event store.",
        "SELECT count(*)::bigint FROM messaging.events",
    )?;
    gauge(
        &mut out,
        &db,
        "spincart_events_unpublished",
        "Stored events not published yet.",
        "SELECT count(*)::bigint FROM messaging.events WHERE published_at IS NULL",
    )?;
    gauge(
        &mut out,
        &db,
        "spincart_failed_deliveries",
        "Deliveries waiting for a retry.",
        "SELECT count(*)::bigint FROM messaging.failed_deliveries",
    )?;
    gauge(
        &mut out,
        &db,
        "spincart_dead_letters",
        "Messages in the dead-letter table not replayed.",
        "SELECT count(*)::bigint FROM messaging.dead_letters WHERE replayed_at IS NULL",
    )?;
    window_ratios(&mut out, &db)?;
    match metrics::read_stored() {
        Ok(stored) => metrics::render(&stored, &mut out),
        Err(e) => {
            // The table gauges still answer. The recorded series are left out of this scrape
            // (not shown as 0, which Prometheus would take for a counter reset).
            eprintln!("metrics: reading the recorded series from Redis failed: {e}");
            out.push_str("# The series recorded in Redis are missing: Redis is unavailable.\n");
        }
    }
    Ok(Reply::text(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        out,
    ))
}
