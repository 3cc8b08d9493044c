-- What every context shares: the event store and its delivery bookkeeping, idempotency keys,
-- and the timestamp helper every query uses.

CREATE SCHEMA platform;
CREATE SCHEMA messaging;

-- Spin cannot decode `timestamptz` columns, so queries read timestamps as RFC 3339 UTC text.
CREATE FUNCTION platform.rfc3339(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- The event store: every event, written in the same transaction as the change it announces.
-- `published_at` is set once it has been published on Redis; the sweep re-publishes the rest.
CREATE TABLE messaging.events (
    position          bigserial   NOT NULL UNIQUE,
    event_id          uuid        PRIMARY KEY,
    event_type        text        NOT NULL,
    schema_version    integer     NOT NULL,
    correlation_id    uuid        NOT NULL,
    causation_id      uuid,
    aggregate_type    text        NOT NULL,
    aggregate_id      uuid        NOT NULL,
    aggregate_version bigint      NOT NULL,
    occurred_at       timestamptz NOT NULL,
    data              jsonb       NOT NULL,
    published_at      timestamptz,
    CONSTRAINT events_aggregate_version_unique UNIQUE (aggregate_type, aggregate_id, aggregate_version)
);
CREATE INDEX events_unpublished ON messaging.events (position) WHERE published_at IS NULL;
CREATE INDEX events_correlation ON messaging.events (correlation_id, position);
CREATE INDEX events_aggregate ON messaging.events (aggregate_id, position);
CREATE INDEX events_type ON messaging.events (event_type, position);

-- Which consumer has applied which event: written in the consumer's own transaction.
CREATE TABLE messaging.processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Deliveries whose handler failed, waiting for a retry with exponential backoff.
CREATE TABLE messaging.failed_deliveries (
    consumer        text        NOT NULL,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    payload         bytea       NOT NULL,
    attempts        integer     NOT NULL,
    last_error      text        NOT NULL,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX failed_deliveries_due ON messaging.failed_deliveries (next_attempt_at);

-- Messages that could not be parsed, or failed `max_delivery_attempts` times.
CREATE TABLE messaging.dead_letters (
    id          uuid        PRIMARY KEY,
    consumer    text        NOT NULL,
    event_id    uuid,
    event_type  text,
    payload     bytea       NOT NULL,
    error       text        NOT NULL,
    attempts    integer     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    replayed_at timestamptz
);
CREATE INDEX dead_letters_created ON messaging.dead_letters (created_at);

-- Idempotency-Key records (kept at least 24 h; the maintenance sweep removes older ones).
CREATE TABLE platform.idempotency_keys (
    scope            text        NOT NULL,
    key              text        NOT NULL,
    fingerprint      text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
    response_status  integer,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    locked_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON platform.idempotency_keys (created_at);
