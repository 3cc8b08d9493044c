//! allowed_outbound_hosts: a component gets Spin's access-denied error, not a connection.

use crate::support::{host_port, pg_url, redis_url, TestHost};

fn manifest(allowed: &str) -> String {
    format!(
        r#"
spin_manifest_version = 2
[application]
name = "outbound"
[variables]
db_host = {{ default = "unused" }}
[[trigger.http]]
route = "/..."
component = "probe"
[component.probe]
source = "{{probe-http}}"
allowed_outbound_hosts = [{allowed}]
"#
    )
}

#[tokio::test]
async fn denies_postgres_to_a_component_without_the_host() {
    let host = TestHost::start(&manifest(""), &[]).await;
    let result = host
        .post_json(
            "/pg",
            &serde_json::json!({ "address": pg_url(), "steps": [] }),
        )
        .await;
    let expected = format!(
        "Error::ConnectionFailed(\"address postgres://{} is not permitted\")",
        host_port(&pg_url())
    );
    assert_eq!(result["open_error"], expected);
}

#[tokio::test]
async fn denies_redis_to_a_component_without_the_host() {
    let host = TestHost::start(&manifest(r#""postgres://*:*""#), &[]).await;
    let result = host
        .get_json(&format!("/redis?address={}", redis_url()))
        .await;
    assert_eq!(result["open_error"], "Error::InvalidAddress");
}

#[tokio::test]
async fn denies_http_to_a_component_without_the_host() {
    let host = TestHost::start(&manifest(""), &[]).await;
    let result = host.get_json("/http?url=http://127.0.0.1:9/").await;
    assert!(
        result["err"]
            .as_str()
            .unwrap()
            .contains("HttpRequestDenied"),
        "{result}"
    );
}

#[tokio::test]
async fn allows_a_host_given_by_a_template() {
    let host = TestHost::start(
        &manifest(r#""postgres://{{ db_host }}""#),
        &[("db_host", &host_port(&pg_url()))],
    )
    .await;
    let result = host
        .post_json(
            "/pg",
            &serde_json::json!({ "address": pg_url(), "steps": [{ "sql": "SELECT 1" }] }),
        )
        .await;
    assert_eq!(result["results"][0]["rows"][0][0], "DbValue::Int32(1)");
}
