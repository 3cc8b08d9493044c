-- Inventory: stock per product, cart locks (with a TTL) and order reservations (by reference).
--
-- available = on_hand - locked - reserved, and the CHECK below makes overselling impossible:
-- every lock or reservation is taken by one conditional UPDATE of the product's stock row.
-- Other contexts never write these tables: they call the functions below.

CREATE SCHEMA inventory;

CREATE TABLE inventory.stock (
    product_id uuid        PRIMARY KEY,
    on_hand    integer     NOT NULL CHECK (on_hand >= 0),
    locked     integer     NOT NULL DEFAULT 0 CHECK (locked >= 0),
    reserved   integer     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    version    bigint      NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_never_oversold CHECK (locked + reserved <= on_hand)
);

CREATE TABLE inventory.cart_locks (
    cart_id    uuid        NOT NULL,
    product_id uuid        NOT NULL REFERENCES inventory.stock (product_id),
    quantity   integer     NOT NULL CHECK (quantity > 0),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (cart_id, product_id)
);
CREATE INDEX cart_locks_expiry ON inventory.cart_locks (expires_at);

CREATE TABLE inventory.reservations (
    reference  text        NOT NULL,
    product_id uuid        NOT NULL REFERENCES inventory.stock (product_id),
    quantity   integer     NOT NULL CHECK (quantity > 0),
    -- active: held for a pending checkout (expires); committed: held for a confirmed order
    status     text        NOT NULL CHECK (status IN ('active', 'committed', 'released', 'shipped', 'expired')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reference, product_id)
);
CREATE INDEX reservations_active_expiry ON inventory.reservations (expires_at) WHERE status = 'active';

CREATE VIEW inventory.stock_levels AS
    SELECT product_id, on_hand, locked, reserved,
           greatest(on_hand - locked - reserved, 0) AS available, version
      FROM inventory.stock;

-- A new product's stock (called by the catalog when it creates a product).
CREATE FUNCTION inventory.initialize_stock(p_product uuid, p_on_hand integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO inventory.stock (product_id, on_hand) VALUES (p_product, p_on_hand)
$$;

-- Sets a cart's lock on a product to p_quantity units (0 releases it), taking only the
-- difference from free stock. Raises 'insufficient_stock:<free units>' (SQLSTATE P0001) when
-- there is not enough, and 'unknown_product' (P0002) for a product without stock.
CREATE FUNCTION inventory.set_cart_lock(p_cart uuid, p_product uuid, p_quantity integer, p_ttl_seconds integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    current_quantity integer;
    delta integer;
    free integer;
BEGIN
    SELECT quantity INTO current_quantity FROM inventory.cart_locks
     WHERE cart_id = p_cart AND product_id = p_product FOR UPDATE;
    current_quantity := coalesce(current_quantity, 0);
    delta := p_quantity - current_quantity;
    IF delta > 0 THEN
        UPDATE inventory.stock
           SET locked = locked + delta, version = version + 1, updated_at = now()
         WHERE product_id = p_product AND on_hand - locked - reserved >= delta;
        IF NOT FOUND THEN
            SELECT greatest(on_hand - locked - reserved, 0) INTO free
              FROM inventory.stock WHERE product_id = p_product;
            IF free IS NULL THEN
                RAISE EXCEPTION 'unknown_product' USING ERRCODE = 'P0002';
            END IF;
            RAISE EXCEPTION 'insufficient_stock:%', free;
        END IF;
    ELSIF delta < 0 THEN
        UPDATE inventory.stock
           SET locked = locked + delta, version = version + 1, updated_at = now()
         WHERE product_id = p_product;
    END IF;
    IF p_quantity = 0 THEN
        DELETE FROM inventory.cart_locks WHERE cart_id = p_cart AND product_id = p_product;
    ELSE
        INSERT INTO inventory.cart_locks (cart_id, product_id, quantity, expires_at)
        VALUES (p_cart, p_product, p_quantity, now() + make_interval(secs => p_ttl_seconds))
        ON CONFLICT (cart_id, product_id)
        DO UPDATE SET quantity = EXCLUDED.quantity, expires_at = EXCLUDED.expires_at;
    END IF;
END
$$;

-- Releases every lock of a cart (emptied, expired, or converted elsewhere).
CREATE FUNCTION inventory.release_cart_locks(p_cart uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    lock record;
    released integer := 0;
BEGIN
    FOR lock IN
        DELETE FROM inventory.cart_locks WHERE cart_id = p_cart RETURNING product_id, quantity
    LOOP
        UPDATE inventory.stock
           SET locked = locked - lock.quantity, version = version + 1, updated_at = now()
         WHERE product_id = lock.product_id;
        released := released + 1;
    END LOOP;
    RETURN released;
END
$$;

-- Releases cart locks whose TTL has passed (maintenance sweep); returns how many.
CREATE FUNCTION inventory.expire_cart_locks(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    lock record;
    released integer := 0;
BEGIN
    FOR lock IN
        DELETE FROM inventory.cart_locks
         WHERE (cart_id, product_id) IN (
             SELECT cart_id, product_id FROM inventory.cart_locks
              WHERE expires_at < now()
              ORDER BY expires_at
              LIMIT p_limit
              FOR UPDATE SKIP LOCKED)
        RETURNING product_id, quantity
    LOOP
        UPDATE inventory.stock
           SET locked = locked - lock.quantity, version = version + 1, updated_at = now()
         WHERE product_id = lock.product_id;
        released := released + 1;
    END LOOP;
    RETURN released;
END
$$;

-- Reserves p_quantity units of a product under p_reference, once: a second call with the same
-- reference and product changes nothing and reports the existing reservation.
-- Raises 'insufficient_stock:<free units>' / 'unknown_product' like set_cart_lock.
CREATE FUNCTION inventory.reserve(p_reference text, p_product uuid, p_quantity integer, p_ttl_seconds integer)
RETURNS TABLE (quantity integer, status text, created boolean)
LANGUAGE plpgsql AS $$
DECLARE
    existing inventory.reservations;
    free integer;
BEGIN
    SELECT * INTO existing FROM inventory.reservations r
     WHERE r.reference = p_reference AND r.product_id = p_product;
    IF FOUND THEN
        RETURN QUERY SELECT existing.quantity, existing.status, false;
        RETURN;
    END IF;
    UPDATE inventory.stock s
       SET reserved = s.reserved + p_quantity, version = s.version + 1, updated_at = now()
     WHERE s.product_id = p_product AND s.on_hand - s.locked - s.reserved >= p_quantity;
    IF NOT FOUND THEN
        SELECT greatest(s.on_hand - s.locked - s.reserved, 0) INTO free
          FROM inventory.stock s WHERE s.product_id = p_product;
        IF free IS NULL THEN
            RAISE EXCEPTION 'unknown_product' USING ERRCODE = 'P0002';
        END IF;
        RAISE EXCEPTION 'insufficient_stock:%', free;
    END IF;
    INSERT INTO inventory.reservations (reference, product_id, quantity, status, expires_at)
    VALUES (p_reference, p_product, p_quantity, 'active', now() + make_interval(secs => p_ttl_seconds));
    RETURN QUERY SELECT p_quantity, 'active'::text, true;
END
$$;

-- Releases an active reservation; releasing again (or a reservation that was never made) is a
-- no-op. Returns the reservation's status afterwards, or NULL if there is none.
CREATE FUNCTION inventory.release(p_reference text, p_product uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    existing inventory.reservations;
BEGIN
    SELECT * INTO existing FROM inventory.reservations r
     WHERE r.reference = p_reference AND r.product_id = p_product FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF existing.status = 'active' THEN
        UPDATE inventory.stock s
           SET reserved = s.reserved - existing.quantity, version = s.version + 1, updated_at = now()
         WHERE s.product_id = p_product;
        UPDATE inventory.reservations r SET status = 'released', updated_at = now()
         WHERE r.reference = p_reference AND r.product_id = p_product;
        RETURN 'released';
    END IF;
    RETURN existing.status;
END
$$;

-- Applies a restock (delta > 0) or shrink (delta < 0). Raises
-- 'below_held:<on_hand>:<locked+reserved>' when on_hand would drop below what is held.
CREATE FUNCTION inventory.adjust(p_product uuid, p_delta integer)
RETURNS TABLE (on_hand integer, locked integer, reserved integer, version bigint)
LANGUAGE plpgsql AS $$
DECLARE
    current inventory.stock;
BEGIN
    SELECT * INTO current FROM inventory.stock s WHERE s.product_id = p_product FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown_product' USING ERRCODE = 'P0002';
    END IF;
    IF current.on_hand + p_delta < current.locked + current.reserved THEN
        RAISE EXCEPTION 'below_held:%:%', current.on_hand, current.locked + current.reserved;
    END IF;
    RETURN QUERY
    UPDATE inventory.stock s
       SET on_hand = s.on_hand + p_delta, version = s.version + 1, updated_at = now()
     WHERE s.product_id = p_product
    RETURNING s.on_hand, s.locked, s.reserved, s.version;
END
$$;
