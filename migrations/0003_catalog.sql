-- Catalog: products (the write model) and the search projection the list endpoint reads,
-- maintained from catalog.product_created / catalog.product_updated events.

CREATE SCHEMA catalog;

CREATE TABLE catalog.products (
    id          uuid        PRIMARY KEY,
    sku         text        NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    category    text        NOT NULL,
    price_minor bigint      NOT NULL CHECK (price_minor >= 0),
    currency    char(3)     NOT NULL,
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_sku_unique UNIQUE (sku)
);

CREATE TABLE catalog.product_search (
    product_id     uuid        PRIMARY KEY,
    sku            text        NOT NULL,
    name           text        NOT NULL,
    description    text        NOT NULL,
    category       text        NOT NULL,
    price_minor    bigint      NOT NULL,
    currency       char(3)     NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    -- the product version this row reflects: older events arriving late are ignored
    source_version bigint      NOT NULL,
    document       tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(sku, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(category, '')), 'B') ||
        setweight(to_tsvector('simple', coalesce(description, '')), 'C')
    ) STORED
);
CREATE INDEX product_search_document ON catalog.product_search USING gin (document);
CREATE INDEX product_search_category ON catalog.product_search (category, created_at);
