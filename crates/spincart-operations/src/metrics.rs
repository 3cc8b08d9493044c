//! `GET /metrics`: Prometheus text format, read from the database at each scrape — orders,
//! sagas and carts by status, stock, money captured and refunded, and the health of delivery
//! (unpublished events, failed deliveries, dead letters).

use std::fmt::Write;

use spincart_platform::db::Db;
use spincart_platform::http::{ApiError, Ctx, Reply};

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
    Ok(Reply::text(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        out,
    ))
}
