-- Business outcomes as values, not raised errors.
--
-- inventory.set_cart_lock, inventory.reserve and inventory.adjust used to RAISE
-- 'insufficient_stock:<n>', 'below_held:<on_hand>:<held>' and 'unknown_product' (P0002), and the
-- API read the SQLSTATE to answer 404/409. Real Spin does not keep it: an error raised while a
-- `query` produces rows reaches the guest as text (Spin 4: `QueryError::Text` with the debug form
-- of the database error; Spin 3: only "db error: ERROR: <message>"). So each function now
-- returns an `outcome` column and changes nothing when the outcome is a refusal; callers map the
-- outcome to the API error. Nothing the app decides on depends on an error's fields any more.

DROP FUNCTION inventory.try_set_cart_lock(uuid, uuid, integer, integer);
DROP FUNCTION inventory.set_cart_lock(uuid, uuid, integer, integer);
DROP FUNCTION inventory.reserve(text, uuid, integer, integer);
DROP FUNCTION inventory.adjust(uuid, integer);

-- Sets a cart's lock on a product to p_quantity units (0 releases it), taking only the
-- difference from free stock. outcome: 'locked' (available: free units left after it),
-- 'insufficient_stock' (available: free units now; nothing changed) or 'unknown_product'.
CREATE FUNCTION inventory.set_cart_lock(p_cart uuid, p_product uuid, p_quantity integer, p_ttl_seconds integer)
RETURNS TABLE (outcome text, available integer)
LANGUAGE plpgsql AS $$
DECLARE
    current_quantity integer;
    delta integer;
    free integer;
BEGIN
    SELECT greatest(s.on_hand - s.locked - s.reserved, 0) INTO free
      FROM inventory.stock s WHERE s.product_id = p_product;
    IF free IS NULL THEN
        RETURN QUERY SELECT 'unknown_product'::text, 0;
        RETURN;
    END IF;
    SELECT c.quantity INTO current_quantity FROM inventory.cart_locks c
     WHERE c.cart_id = p_cart AND c.product_id = p_product FOR UPDATE;
    current_quantity := coalesce(current_quantity, 0);
    delta := p_quantity - current_quantity;
    IF delta > 0 THEN
        UPDATE inventory.stock s
           SET locked = s.locked + delta, version = s.version + 1, updated_at = now()
         WHERE s.product_id = p_product AND s.on_hand - s.locked - s.reserved >= delta
        RETURNING greatest(s.on_hand - s.locked - s.reserved, 0) INTO free;
        IF NOT FOUND THEN
            -- Read again: the stock row may have changed while this one waited for its lock.
            SELECT greatest(s.on_hand - s.locked - s.reserved, 0) INTO free
              FROM inventory.stock s WHERE s.product_id = p_product;
            RETURN QUERY SELECT 'insufficient_stock'::text, free;
            RETURN;
        END IF;
    ELSIF delta < 0 THEN
        UPDATE inventory.stock s
           SET locked = s.locked + delta, version = s.version + 1, updated_at = now()
         WHERE s.product_id = p_product
        RETURNING greatest(s.on_hand - s.locked - s.reserved, 0) INTO free;
    END IF;
    IF p_quantity = 0 THEN
        DELETE FROM inventory.cart_locks c WHERE c.cart_id = p_cart AND c.product_id = p_product;
    ELSE
        INSERT INTO inventory.cart_locks (cart_id, product_id, quantity, expires_at)
        VALUES (p_cart, p_product, p_quantity, now() + make_interval(secs => p_ttl_seconds))
        ON CONFLICT (cart_id, product_id)
        DO UPDATE SET quantity = EXCLUDED.quantity, expires_at = EXCLUDED.expires_at;
    END IF;
    RETURN QUERY SELECT 'locked'::text, free;
END
$$;

-- set_cart_lock, answering whether the lock was taken (restoring a cart after a failed
-- checkout takes what it can).
CREATE FUNCTION inventory.try_set_cart_lock(p_cart uuid, p_product uuid, p_quantity integer, p_ttl_seconds integer)
RETURNS boolean
LANGUAGE sql AS $$
    SELECT l.outcome = 'locked' FROM inventory.set_cart_lock(p_cart, p_product, p_quantity, p_ttl_seconds) l
$$;

-- Reserves p_quantity units of a product under p_reference, once: a second call with the same
-- reference and product changes nothing and reports the existing reservation.
-- outcome: 'reserved' (created: whether by this call), 'insufficient_stock' (available: free
-- units) or 'unknown_product'; a refusal changes nothing.
CREATE FUNCTION inventory.reserve(p_reference text, p_product uuid, p_quantity integer, p_ttl_seconds integer)
RETURNS TABLE (outcome text, quantity integer, status text, created boolean, available integer)
LANGUAGE plpgsql AS $$
DECLARE
    existing inventory.reservations;
    free integer;
BEGIN
    SELECT * INTO existing FROM inventory.reservations r
     WHERE r.reference = p_reference AND r.product_id = p_product;
    IF FOUND THEN
        RETURN QUERY SELECT 'reserved'::text, existing.quantity, existing.status, false, NULL::integer;
        RETURN;
    END IF;
    UPDATE inventory.stock s
       SET reserved = s.reserved + p_quantity, version = s.version + 1, updated_at = now()
     WHERE s.product_id = p_product AND s.on_hand - s.locked - s.reserved >= p_quantity;
    IF NOT FOUND THEN
        SELECT greatest(s.on_hand - s.locked - s.reserved, 0) INTO free
          FROM inventory.stock s WHERE s.product_id = p_product;
        IF free IS NULL THEN
            RETURN QUERY SELECT 'unknown_product'::text, NULL::integer, NULL::text, false, NULL::integer;
        ELSE
            RETURN QUERY SELECT 'insufficient_stock'::text, NULL::integer, NULL::text, false, free;
        END IF;
        RETURN;
    END IF;
    INSERT INTO inventory.reservations (reference, product_id, quantity, status, expires_at)
    VALUES (p_reference, p_product, p_quantity, 'active', now() + make_interval(secs => p_ttl_seconds));
    RETURN QUERY SELECT 'reserved'::text, p_quantity, 'active'::text, true, NULL::integer;
END
$$;

-- Applies a restock (delta > 0) or shrink (delta < 0). outcome: 'adjusted', 'below_held' (when
-- on_hand would drop below locked + reserved; the row shows the stock as it is, unchanged) or
-- 'unknown_product'.
CREATE FUNCTION inventory.adjust(p_product uuid, p_delta integer)
RETURNS TABLE (outcome text, on_hand integer, locked integer, reserved integer, version bigint)
LANGUAGE plpgsql AS $$
DECLARE
    current inventory.stock;
BEGIN
    SELECT * INTO current FROM inventory.stock s WHERE s.product_id = p_product FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown_product'::text, NULL::integer, NULL::integer, NULL::integer, NULL::bigint;
        RETURN;
    END IF;
    IF current.on_hand + p_delta < current.locked + current.reserved THEN
        RETURN QUERY SELECT 'below_held'::text, current.on_hand, current.locked, current.reserved, current.version;
        RETURN;
    END IF;
    RETURN QUERY
    UPDATE inventory.stock s
       SET on_hand = s.on_hand + p_delta, version = s.version + 1, updated_at = now()
     WHERE s.product_id = p_product
    RETURNING 'adjusted'::text, s.on_hand, s.locked, s.reserved, s.version;
END
$$;
