-- The checkout saga and what it touches: orders (event-sourced; this is the read model the
-- endpoints serve), the saga's own state, payments with the simulated provider, and the
-- inventory functions that move stock for orders.

CREATE SCHEMA orders;
CREATE SCHEMA checkout;
CREATE SCHEMA payments;

-- Read model of the order aggregate (its events are in messaging.events, aggregate 'order').
CREATE TABLE orders.orders (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL,
    cart_id     uuid        NOT NULL,
    saga_id     uuid        NOT NULL UNIQUE,
    status      text        NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED', 'SHIPPED')),
    total_minor bigint      NOT NULL CHECK (total_minor >= 0),
    currency    char(3)     NOT NULL,
    payment_id  uuid,
    version     bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_user ON orders.orders (user_id, created_at DESC);

CREATE TABLE orders.order_items (
    order_id         uuid    NOT NULL REFERENCES orders.orders (id),
    product_id       uuid    NOT NULL,
    sku              text    NOT NULL,
    name             text    NOT NULL,
    unit_price_minor bigint  NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    position         integer NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

-- The saga: where the checkout is, its compensation plan, its step deadline.
CREATE TABLE checkout.sagas (
    id            uuid        PRIMARY KEY,
    order_id      uuid        NOT NULL UNIQUE,
    cart_id       uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('PENDING', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED',
                      'CONFIRMED', 'COMPENSATING', 'COMPENSATED', 'CANCELLED', 'COMPENSATION_FAILED')),
    payment_token text        NOT NULL,
    plan          text[]      NOT NULL DEFAULT '{}',
    done          integer     NOT NULL DEFAULT 0,
    cancelling    boolean     NOT NULL DEFAULT false,
    reason        text,
    step_deadline timestamptz,
    redrives      integer     NOT NULL DEFAULT 0,
    version       bigint      NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sagas_due ON checkout.sagas (step_deadline)
    WHERE status IN ('PENDING', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED', 'COMPENSATING');
CREATE INDEX sagas_by_status ON checkout.sagas (status, created_at DESC);

-- What happened to a saga: transitions (with their step), compensations, re-drives.
CREATE TABLE checkout.saga_log (
    id          bigserial   PRIMARY KEY,
    saga_id     uuid        NOT NULL REFERENCES checkout.sagas (id),
    kind        text        NOT NULL CHECK (kind IN ('transition', 'compensation', 'redrive', 'note')),
    step        text,
    from_status text,
    to_status   text,
    detail      text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saga_log_by_saga ON checkout.saga_log (saga_id, id);

-- Payments with the simulated provider; one per order.
CREATE TABLE payments.payments (
    id             uuid        PRIMARY KEY,
    order_id       uuid        NOT NULL UNIQUE,
    saga_id        uuid        NOT NULL,
    token          text        NOT NULL,
    amount_minor   bigint      NOT NULL CHECK (amount_minor >= 0),
    currency       char(3)     NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'authorized', 'declined', 'captured',
                       'voided', 'refunded', 'cancelled')),
    captured_minor bigint      NOT NULL DEFAULT 0,
    refunded_minor bigint      NOT NULL DEFAULT 0,
    attempts       integer     NOT NULL DEFAULT 0,
    version        bigint      NOT NULL DEFAULT 0,
    last_error     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refund_never_exceeds_capture CHECK (refunded_minor <= captured_minor)
);

-- Converts a cart's locks into reservations for an order, all lines or none. p_lines is
-- [{"product_id": "...", "quantity": n}, ...]. Rows of stock are locked in product order. On
-- success the cart's locks are gone and the reservations exist; otherwise nothing changes and
-- the first line that cannot be had is returned.
CREATE FUNCTION inventory.reserve_for_order(p_cart uuid, p_reference text, p_lines jsonb, p_ttl_seconds integer)
RETURNS TABLE (reserved boolean, short_product uuid, short_available integer)
LANGUAGE plpgsql AS $$
DECLARE
    line record;
    free integer;
BEGIN
    IF EXISTS (SELECT 1 FROM inventory.reservations r WHERE r.reference = p_reference) THEN
        RETURN QUERY SELECT true, NULL::uuid, NULL::integer;  -- done before: idempotent
        RETURN;
    END IF;
    FOR line IN
        SELECT (l->>'product_id')::uuid AS product_id, (l->>'quantity')::integer AS quantity,
               coalesce(c.quantity, 0) AS held
          FROM jsonb_array_elements(p_lines) l
          LEFT JOIN inventory.cart_locks c
                 ON c.cart_id = p_cart AND c.product_id = (l->>'product_id')::uuid
         ORDER BY 1
    LOOP
        SELECT s.on_hand - s.locked - s.reserved + least(line.held, line.quantity) INTO free
          FROM inventory.stock s WHERE s.product_id = line.product_id FOR UPDATE;
        IF free IS NULL OR free < line.quantity THEN
            RETURN QUERY SELECT false, line.product_id, greatest(coalesce(free, 0), 0);
            RETURN;
        END IF;
    END LOOP;
    FOR line IN
        SELECT (l->>'product_id')::uuid AS product_id, (l->>'quantity')::integer AS quantity,
               coalesce(c.quantity, 0) AS held
          FROM jsonb_array_elements(p_lines) l
          LEFT JOIN inventory.cart_locks c
                 ON c.cart_id = p_cart AND c.product_id = (l->>'product_id')::uuid
         ORDER BY 1
    LOOP
        UPDATE inventory.stock s
           SET locked = s.locked - line.held,
               reserved = s.reserved + line.quantity,
               version = s.version + 1, updated_at = now()
         WHERE s.product_id = line.product_id;
        DELETE FROM inventory.cart_locks c WHERE c.cart_id = p_cart AND c.product_id = line.product_id;
        INSERT INTO inventory.reservations (reference, product_id, quantity, status, expires_at)
        VALUES (p_reference, line.product_id, line.quantity, 'active', now() + make_interval(secs => p_ttl_seconds));
    END LOOP;
    RETURN QUERY SELECT true, NULL::uuid, NULL::integer;
END
$$;

-- Releases every held (active or committed) reservation of a reference; returns the units
-- released per product. Releasing again releases nothing.
CREATE FUNCTION inventory.release_reference(p_reference text)
RETURNS TABLE (product_id uuid, quantity integer)
LANGUAGE plpgsql AS $$
DECLARE
    held record;
BEGIN
    FOR held IN
        SELECT r.product_id, r.quantity FROM inventory.reservations r
         WHERE r.reference = p_reference AND r.status IN ('active', 'committed')
         ORDER BY r.product_id FOR UPDATE
    LOOP
        UPDATE inventory.stock s
           SET reserved = s.reserved - held.quantity, version = s.version + 1, updated_at = now()
         WHERE s.product_id = held.product_id;
        UPDATE inventory.reservations r SET status = 'released', updated_at = now()
         WHERE r.reference = p_reference AND r.product_id = held.product_id;
        product_id := held.product_id;
        quantity := held.quantity;
        RETURN NEXT;
    END LOOP;
END
$$;

-- A confirmed order's reservations no longer expire.
CREATE FUNCTION inventory.commit_reference(p_reference text) RETURNS integer
LANGUAGE sql AS $$
    WITH changed AS (
        UPDATE inventory.reservations SET status = 'committed', updated_at = now()
         WHERE reference = p_reference AND status = 'active'
        RETURNING 1)
    SELECT count(*)::integer FROM changed
$$;

-- Shipping: the reserved units leave the warehouse (on_hand and reserved both go down).
-- Returns the units shipped per product; shipping again ships nothing.
CREATE FUNCTION inventory.ship_reference(p_reference text)
RETURNS TABLE (product_id uuid, quantity integer)
LANGUAGE plpgsql AS $$
DECLARE
    held record;
BEGIN
    FOR held IN
        SELECT r.product_id, r.quantity FROM inventory.reservations r
         WHERE r.reference = p_reference AND r.status IN ('active', 'committed')
         ORDER BY r.product_id FOR UPDATE
    LOOP
        UPDATE inventory.stock s
           SET on_hand = s.on_hand - held.quantity, reserved = s.reserved - held.quantity,
               version = s.version + 1, updated_at = now()
         WHERE s.product_id = held.product_id;
        UPDATE inventory.reservations r SET status = 'shipped', updated_at = now()
         WHERE r.reference = p_reference AND r.product_id = held.product_id;
        product_id := held.product_id;
        quantity := held.quantity;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Gives back active reservations past their TTL (maintenance sweep); returns how many.
CREATE FUNCTION inventory.expire_reservations(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    held record;
    expired integer := 0;
BEGIN
    FOR held IN
        SELECT r.reference, r.product_id, r.quantity FROM inventory.reservations r
         WHERE r.status = 'active' AND r.expires_at < now()
         ORDER BY r.product_id
         LIMIT p_limit
         FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE inventory.stock s
           SET reserved = s.reserved - held.quantity, version = s.version + 1, updated_at = now()
         WHERE s.product_id = held.product_id;
        UPDATE inventory.reservations r SET status = 'expired', updated_at = now()
         WHERE r.reference = held.reference AND r.product_id = held.product_id;
        expired := expired + 1;
    END LOOP;
    RETURN expired;
END
$$;

-- set_cart_lock, but answering false instead of raising when the stock is not there (restoring
-- a cart after a failed checkout locks what it can).
CREATE FUNCTION inventory.try_set_cart_lock(p_cart uuid, p_product uuid, p_quantity integer, p_ttl_seconds integer)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inventory.set_cart_lock(p_cart, p_product, p_quantity, p_ttl_seconds);
    RETURN true;
EXCEPTION WHEN raise_exception OR no_data_found THEN
    RETURN false;
END
$$;

-- The sweep re-publishes events that a subscribed consumer has not acknowledged (processed,
-- retrying, or dead-lettered) a while after they were published: messages lost after publishing
-- (a subscriber that was disconnected) are delivered again. Kept per event to pace it.
ALTER TABLE messaging.events
    ADD COLUMN redelivered_at timestamptz,
    ADD COLUMN redeliveries   integer NOT NULL DEFAULT 0;
CREATE INDEX events_recent ON messaging.events (occurred_at);
