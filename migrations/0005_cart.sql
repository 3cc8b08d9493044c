-- Carts: one open cart per user; lines keep the unit price the product had when it was added.
-- Stock for a line is locked through inventory.set_cart_lock (inventory owns the lock rows).

CREATE SCHEMA cart;

CREATE TABLE cart.carts (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('ACTIVE', 'CHECKING_OUT', 'CHECKED_OUT', 'EXPIRED')),
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- A user has at most one open cart (ACTIVE, or CHECKING_OUT while its checkout runs).
CREATE UNIQUE INDEX carts_one_open_per_user ON cart.carts (user_id)
    WHERE status IN ('ACTIVE', 'CHECKING_OUT');
CREATE INDEX carts_active_by_age ON cart.carts (updated_at) WHERE status = 'ACTIVE';
CREATE INDEX carts_by_created ON cart.carts (created_at DESC);

CREATE TABLE cart.cart_items (
    cart_id          uuid        NOT NULL REFERENCES cart.carts (id),
    product_id       uuid        NOT NULL,
    sku              text        NOT NULL,
    name             text        NOT NULL,
    unit_price_minor bigint      NOT NULL CHECK (unit_price_minor >= 0),
    currency         char(3)     NOT NULL,
    quantity         integer     NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    added_at         timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);
