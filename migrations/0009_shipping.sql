-- Shipping: the saga's "create shipment" step (after payment authorization, before the order is
-- confirmed) with its compensation "cancel shipment", and the shipping address a checkout takes.
--
-- A shipment is event-sourced like an order: its events (aggregate 'shipment') in
-- messaging.events are its truth; shipping.shipments is the read model, written in the same
-- transaction.

CREATE SCHEMA shipping;

CREATE TABLE shipping.shipments (
    id              uuid        PRIMARY KEY,
    order_id        uuid        NOT NULL UNIQUE,
    saga_id         uuid        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('requested', 'booked', 'rejected', 'cancelled', 'shipped')),
    tracking_number text,
    address         jsonb       NOT NULL,
    reason          text,
    version         bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booked_shipments_are_tracked
        CHECK (status NOT IN ('booked', 'shipped') OR tracking_number IS NOT NULL)
);
CREATE INDEX shipments_by_status ON shipping.shipments (status);

-- Where the order goes (NULL for orders placed before shipping existed).
ALTER TABLE orders.orders ADD COLUMN shipping_address jsonb;

-- The saga's new state between PAYMENT_AUTHORIZED and CONFIRMED.
ALTER TABLE checkout.sagas DROP CONSTRAINT sagas_status_check;
ALTER TABLE checkout.sagas ADD CONSTRAINT sagas_status_check
    CHECK (status IN ('PENDING', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED', 'SHIPMENT_CREATED',
                      'CONFIRMED', 'COMPENSATING', 'COMPENSATED', 'CANCELLED', 'COMPENSATION_FAILED'));
DROP INDEX checkout.sagas_due;
CREATE INDEX sagas_due ON checkout.sagas (step_deadline)
    WHERE status IN ('PENDING', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED', 'SHIPMENT_CREATED', 'COMPENSATING');

-- A failed delivery keeps the retry limit of its consumer (the saga's consumers have their own,
-- `saga_retry_attempts`); NULL means `max_delivery_attempts`.
ALTER TABLE messaging.failed_deliveries ADD COLUMN max_attempts integer;
