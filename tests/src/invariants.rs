//! The invariants of CONTRACT.md §7, checked directly in an app's database: no oversell, every
//! saga ended (or visibly failed), nothing held for nobody, no live shipment for a failed or
//! cancelled order, and money exact.

use crate::connect;

/// Checks every invariant; the error lists each one that does not hold.
pub async fn check(db_url: &str) -> Result<(), String> {
    let db = connect(db_url).await;
    let mut broken = Vec::new();
    let checks: &[(&str, &str)] = &[
        (
            "never oversold: locked + reserved <= on_hand",
            "SELECT count(*) FROM inventory.stock WHERE locked + reserved > on_hand OR locked < 0 OR reserved < 0",
        ),
        (
            "locked stock is exactly what cart locks hold",
            "SELECT count(*) FROM inventory.stock s WHERE s.locked <>
                 (SELECT coalesce(sum(quantity), 0) FROM inventory.cart_locks l WHERE l.product_id = s.product_id)",
        ),
        (
            "reserved stock is exactly what held reservations hold",
            "SELECT count(*) FROM inventory.stock s WHERE s.reserved <>
                 (SELECT coalesce(sum(quantity), 0) FROM inventory.reservations r
                   WHERE r.product_id = s.product_id AND r.status IN ('active', 'committed'))",
        ),
        (
            "every saga ended (or is visibly COMPENSATION_FAILED)",
            "SELECT count(*) FROM checkout.sagas
              WHERE status NOT IN ('CONFIRMED', 'COMPENSATED', 'CANCELLED', 'COMPENSATION_FAILED')",
        ),
        (
            "orders follow their sagas",
            "SELECT count(*) FROM orders.orders o JOIN checkout.sagas s ON s.id = o.saga_id
              WHERE (s.status = 'CONFIRMED' AND o.status NOT IN ('CONFIRMED', 'SHIPPED'))
                 OR (s.status = 'COMPENSATED' AND o.status <> 'FAILED')
                 OR (s.status = 'CANCELLED' AND o.status <> 'CANCELLED')",
        ),
        (
            "nothing is held for an order that failed or was cancelled",
            "SELECT count(*) FROM inventory.reservations r JOIN orders.orders o ON r.reference = 'order:' || o.id
              WHERE r.status IN ('active', 'committed') AND o.status IN ('FAILED', 'CANCELLED')",
        ),
        (
            "no cart is left checking out after its saga ended",
            "SELECT count(*) FROM cart.carts c JOIN checkout.sagas s ON s.cart_id = c.id
              WHERE c.status = 'CHECKING_OUT' AND s.status IN ('CONFIRMED', 'COMPENSATED', 'CANCELLED')
                AND s.updated_at = (SELECT max(updated_at) FROM checkout.sagas WHERE cart_id = c.id)",
        ),
        (
            "money kept equals the totals of confirmed and shipped orders",
            "SELECT CASE WHEN (SELECT coalesce(sum(captured_minor - refunded_minor), 0) FROM payments.payments)
                            = (SELECT coalesce(sum(total_minor), 0) FROM orders.orders WHERE status IN ('CONFIRMED', 'SHIPPED'))
                         THEN 0 ELSE 1 END::bigint",
        ),
        (
            "no live shipment for an order that failed or was cancelled",
            "SELECT count(*) FROM shipping.shipments sh JOIN orders.orders o ON o.id = sh.order_id
              WHERE sh.status IN ('requested', 'booked', 'shipped') AND o.status IN ('FAILED', 'CANCELLED')",
        ),
        (
            "a confirmed order has a booked shipment, a shipped one a shipped shipment",
            "SELECT count(*) FROM orders.orders o LEFT JOIN shipping.shipments sh ON sh.order_id = o.id
              WHERE (o.status = 'CONFIRMED' AND sh.status IS DISTINCT FROM 'booked')
                 OR (o.status = 'SHIPPED' AND sh.status IS DISTINCT FROM 'shipped')",
        ),
        (
            "a shipment's read model is its last event",
            "SELECT count(*) FROM shipping.shipments sh
              WHERE sh.version <> (SELECT max(aggregate_version) FROM messaging.events e
                                    WHERE e.aggregate_type = 'shipment' AND e.aggregate_id = sh.id)",
        ),
        (
            "a refund equals its capture",
            "SELECT count(*) FROM payments.payments WHERE status = 'refunded' AND refunded_minor <> captured_minor",
        ),
    ];
    for (name, sql) in checks {
        let count: i64 = db
            .query_one(*sql, &[])
            .await
            .map_err(|e| format!("{name}: {e}"))?
            .get(0);
        if count != 0 {
            broken.push(format!("{name} ({count})"));
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(broken.join("; "))
    }
}
