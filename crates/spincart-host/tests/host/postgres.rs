//! `spin:postgres/postgres@4.0.0` as Spin implements it: one pooled connection per resource,
//! Spin's type mapping (including its timestamptz failure), SQLSTATEs, transactions; and, under
//! the strict profile, Spin 4.0.2's rough edges: a zero-row query fails at once (it would hang),
//! errors raised while rows stream arrive as text, each component has pools of its own.

use serde_json::{json, Value};
use spincart_host::profile::{Profile, ZERO_ROW_QUERY};

use crate::support::{host_port, pg_url, TestHost};

async fn host() -> TestHost {
    host_with(Profile::Strict).await
}

async fn host_with(profile: Profile) -> TestHost {
    TestHost::start_with(
        r#"
spin_manifest_version = 2
[application]
name = "pg"
[variables]
db_host = { required = true }
[[trigger.http]]
route = "/..."
component = "probe"
[component.probe]
source = "{probe-http}"
allowed_outbound_hosts = ["postgres://{{ db_host }}"]
"#,
        &[("db_host", &host_port(&pg_url()))],
        profile,
    )
    .await
}

async fn run(host: &TestHost, steps: Value) -> Vec<Value> {
    let result = host
        .post_json("/pg", &json!({ "address": pg_url(), "steps": steps }))
        .await;
    assert!(result.get("open_error").is_none(), "{result}");
    result["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn maps_postgres_types_as_spin_does() {
    let host = host().await;
    let results = run(
        &host,
        json!([{ "sql": r#"SELECT true, 1::int2, 2::int4, 3::int8, 1.5::float4, 2.5::float8,
            'txt'::text, 'vc'::varchar, 'b'::char(1), '\x0102'::bytea, '2026-01-02'::date,
            '03:04:05'::time, '2026-01-02 03:04:05.5'::timestamp,
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{"a": 1}'::jsonb, 1.50::numeric,
            ARRAY[1, NULL]::int4[], ARRAY['x']::text[], '1 day 2 hours'::interval,
            NULL::int4, '{"a":1}'::json"# }]),
    )
    .await;
    let columns: Vec<&str> = results[0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[1].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        [
            "DbDataType::Boolean",
            "DbDataType::Int16",
            "DbDataType::Int32",
            "DbDataType::Int64",
            "DbDataType::Floating32",
            "DbDataType::Floating64",
            "DbDataType::Str",
            "DbDataType::Str",
            "DbDataType::Str",
            "DbDataType::Binary",
            "DbDataType::Date",
            "DbDataType::Time",
            "DbDataType::Datetime",
            "DbDataType::Uuid",
            "DbDataType::Jsonb",
            "DbDataType::Decimal",
            "DbDataType::ArrayInt32",
            "DbDataType::ArrayStr",
            "DbDataType::Interval",
            "DbDataType::Int32",
            "DbDataType::Other(\"json\")",
        ]
    );
    let values: Vec<&str> = results[0]["rows"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        [
            "DbValue::Boolean(true)",
            "DbValue::Int16(1)",
            "DbValue::Int32(2)",
            "DbValue::Int64(3)",
            "DbValue::Floating32(1.5)",
            "DbValue::Floating64(2.5)",
            "DbValue::Str(\"txt\")",
            "DbValue::Str(\"vc\")",
            "DbValue::Str(\"b\")",
            "DbValue::Binary([1, 2])",
            "DbValue::Date((2026, 1, 2))",
            "DbValue::Time((3, 4, 5, 0))",
            "DbValue::Datetime((2026, 1, 2, 3, 4, 5, 500000000))",
            "DbValue::Uuid(\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\")",
            "DbValue::Jsonb([123, 34, 97, 34, 58, 49, 125])",
            "DbValue::Decimal(\"1.50\")",
            "DbValue::ArrayInt32([Some(1), None])",
            "DbValue::ArrayStr([Some(\"x\")])",
            "DbValue::Interval(Interval { micros: 7200000000, days: 1, months: 0 })",
            "DbValue::DbNull",
            "DbValue::Unsupported([123, 34, 97, 34, 58, 49, 125])",
        ]
    );
}

#[tokio::test]
async fn fails_to_read_a_timestamptz_column_as_spin_4_does() {
    let host = host().await;
    let results = run(
        &host,
        json!([{ "sql": "SELECT now()" }, { "sql": "SELECT now()::timestamp" }]),
    )
    .await;
    let error = results[0]["err"].as_str().unwrap();
    assert!(
        error.starts_with("Error::QueryFailed(QueryError::Text("),
        "{error}"
    );
    assert!(
        error.contains("cannot convert between the Rust type `core::option::Option<chrono::naive::datetime::NaiveDateTime>` and the Postgres type `timestamptz`"),
        "{error}"
    );
    assert!(results[1]["rows"][0][0]
        .as_str()
        .unwrap()
        .starts_with("DbValue::Datetime("));
}

#[tokio::test]
async fn reports_sql_errors_with_their_sqlstate() {
    let host = host().await;
    let results = run(&host, json!([{ "sql": "SELECT * FROM no_such_table" }])).await;
    let error = results[0]["err"].as_str().unwrap();
    assert!(error.contains("QueryError::DbError"), "{error}");
    assert!(error.contains("code: \"42P01\""), "{error}");
}

#[tokio::test]
async fn checks_parameter_types_strictly_as_spin_does() {
    let host = host().await;
    let results = run(
        &host,
        json!([
            { "sql": "SELECT $1::int8 + 1", "params": [41] },
            { "sql": "SELECT $1::int4", "params": [41] },
            { "sql": "SELECT $1::text IS NULL", "params": [null] },
        ]),
    )
    .await;
    assert_eq!(results[0]["rows"][0][0], "DbValue::Int64(42)");
    assert!(
        results[1]["err"].as_str().unwrap().contains("WrongType"),
        "{}",
        results[1]
    );
    assert_eq!(results[2]["rows"][0][0], "DbValue::Boolean(true)");
}

#[tokio::test]
async fn a_transaction_spans_calls_on_one_connection() {
    let host = host().await;
    let id = uuid::Uuid::new_v4().to_string();
    let results = run(
        &host,
        json!([
            { "sql": "CREATE TABLE IF NOT EXISTS host_test_rows (id text PRIMARY KEY)", "execute": true },
            { "sql": "BEGIN", "execute": true },
            { "sql": "INSERT INTO host_test_rows VALUES ($1)", "params": [id], "execute": true },
            { "sql": "SELECT count(*) FROM host_test_rows WHERE id = $1", "params": [id] },
            { "sql": "ROLLBACK", "execute": true },
            { "sql": "SELECT count(*) FROM host_test_rows WHERE id = $1", "params": [id] },
        ]),
    )
    .await;
    assert_eq!(results[2]["affected"], 1);
    assert_eq!(results[3]["rows"][0][0], "DbValue::Int64(1)");
    assert_eq!(results[5]["rows"][0][0], "DbValue::Int64(0)");
}

#[tokio::test]
async fn rolls_back_a_transaction_left_open_when_the_instance_ends() {
    let host = host().await;
    let id = uuid::Uuid::new_v4().to_string();
    run(
        &host,
        json!([
            { "sql": "CREATE TABLE IF NOT EXISTS host_test_rows (id text PRIMARY KEY)", "execute": true },
            { "sql": "BEGIN", "execute": true },
            { "sql": "INSERT INTO host_test_rows VALUES ($1)", "params": [id], "execute": true },
        ]),
    )
    .await;
    // Later requests reuse the pooled connections (4 per pool); none may inherit the open
    // transaction, or its COMMIT would commit the abandoned insert.
    for _ in 0..8 {
        let results = run(
            &host,
            json!([
                { "sql": "BEGIN", "execute": true },
                { "sql": "SELECT 1" },
                { "sql": "COMMIT", "execute": true },
            ]),
        )
        .await;
        assert!(
            results.iter().all(|r| r.get("err").is_none()),
            "{results:?}"
        );
    }
    let results = run(
        &host,
        json!([{ "sql": "SELECT count(*) FROM host_test_rows WHERE id = $1", "params": [id] }]),
    )
    .await;
    assert_eq!(results[0]["rows"][0][0], "DbValue::Int64(0)");
}

#[tokio::test]
async fn a_query_with_zero_rows_fails_at_once_where_spin_4_would_hang() {
    let host = host().await;
    let results = run(
        &host,
        json!([
            { "sql": "SELECT 1 WHERE false" },
            { "sql": "SELECT 1 WHERE true" },
            { "sql": "SELECT 1 WHERE false", "execute": true },
        ]),
    )
    .await;
    let error = results[0]["err"].as_str().unwrap();
    assert!(error.contains("QueryError::Text"), "{error}");
    assert!(error.contains("spinframework/spin#3671"), "{error}");
    assert!(ZERO_ROW_QUERY.contains("#3671"));
    assert_eq!(results[1]["rows"][0][0], "DbValue::Int32(1)");
    assert_eq!(results[2]["affected"], 0, "execute is not affected");
}

#[tokio::test]
async fn a_query_with_zero_rows_returns_none_under_the_lenient_profile() {
    let host = host_with(Profile::Lenient).await;
    let results = run(&host, json!([{ "sql": "SELECT 1 WHERE false" }])).await;
    assert_eq!(results[0]["rows"], json!([]), "{}", results[0]);
}

/// Division by zero on the second row: an error met while rows are produced.
const FAILS_WHILE_STREAMING: &str = "SELECT 1 / (g - 2) FROM generate_series(1, 3) g";

#[tokio::test]
async fn an_error_raised_while_rows_stream_arrives_as_text_as_in_spin_4() {
    let host = host().await;
    let results = run(&host, json!([{ "sql": FAILS_WHILE_STREAMING }])).await;
    let error = results[0]["err"].as_str().unwrap();
    assert!(
        error.starts_with("Error::QueryFailed(QueryError::Text("),
        "{error}"
    );
    // Spin 4's text is the debug form of the structured error: the SQLSTATE is only in there.
    assert!(error.contains("22012"), "{error}");
}

#[tokio::test]
async fn errors_before_execution_stay_structured_under_the_strict_profile() {
    let host = host().await;
    let results = run(&host, json!([{ "sql": "SELECT 1 / 0" }])).await;
    let error = results[0]["err"].as_str().unwrap();
    assert!(error.contains("QueryError::DbError"), "{error}");
    assert!(error.contains("code: \"22012\""), "{error}");
}

#[tokio::test]
async fn an_error_while_rows_stream_stays_structured_under_the_lenient_profile() {
    let host = host_with(Profile::Lenient).await;
    let results = run(&host, json!([{ "sql": FAILS_WHILE_STREAMING }])).await;
    let error = results[0]["err"].as_str().unwrap();
    assert!(error.contains("QueryError::DbError"), "{error}");
}

#[tokio::test]
async fn each_component_has_pools_of_its_own_as_in_spin_4() {
    let manifest = r#"
spin_manifest_version = 2
[application]
name = "pg-pools"
[variables]
db_host = { required = true }
[[trigger.http]]
route = "/a/..."
component = "probe-a"
[[trigger.http]]
route = "/b/..."
component = "probe-b"
[component.probe-a]
source = "{probe-http}"
allowed_outbound_hosts = ["postgres://{{ db_host }}"]
[component.probe-b]
source = "{probe-http}"
allowed_outbound_hosts = ["postgres://{{ db_host }}"]
"#;
    for (profile, pools) in [(Profile::Strict, 2), (Profile::Lenient, 1)] {
        let host =
            TestHost::start_with(manifest, &[("db_host", &host_port(&pg_url()))], profile).await;
        for prefix in ["/a", "/b"] {
            let result = host
                .post_json(
                    &format!("{prefix}/pg"),
                    &json!({ "address": pg_url(), "steps": [{ "sql": "SELECT 1" }] }),
                )
                .await;
            assert_eq!(
                result["results"][0]["rows"][0][0], "DbValue::Int32(1)",
                "{result}"
            );
        }
        assert_eq!(host.app.services.pg.pools(), pools, "{profile}");
    }
}
