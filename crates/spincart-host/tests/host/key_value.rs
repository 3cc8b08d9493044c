//! Key-value (`fermyon:spin/key-value@2.0.0`): the default store, Spin's permission checks and
//! errors, and where the store lives (`--state-dir`).

use serde_json::{json, Value};
use spincart_host::key_value::{StateDir, DEFAULT_STORE_FILE};

use crate::support::TestHost;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "kv"
[[trigger.http]]
route = "/..."
component = "probe"
[[trigger.http]]
route = "/without-stores/..."
component = "probe-without-stores"
[component.probe]
source = "{probe-http}"
key_value_stores = ["default"]
[component.probe-without-stores]
source = "{probe-http}"
"#;

/// Runs `steps` on the store `label` through the probe at `base` (one request, one instance).
async fn kv(host: &TestHost, base: &str, label: &str, steps: Value) -> Value {
    host.post_json(
        &format!("{base}/kv"),
        &json!({ "label": label, "steps": steps }),
    )
    .await
}

fn set(key: &str, value: &str) -> Value {
    json!({ "op": "set", "key": key, "value": value })
}

fn op(op: &str, key: &str) -> Value {
    json!({ "op": op, "key": key })
}

#[tokio::test]
async fn a_permitted_store_round_trips_set_get_exists_delete_and_get_keys() {
    let host = TestHost::start(MANIFEST, &[]).await;
    let report = kv(
        &host,
        "",
        "default",
        json!([
            op("get", "bar"),
            op("exists", "bar"),
            set("bar", "baz"),
            set("bar", "wow"),
            set("qux", "yay"),
            op("get", "bar"),
            op("exists", "bar"),
            op("get_keys", ""),
            op("delete", "bar"),
            op("delete", "bar"),
            op("exists", "bar"),
            op("get", "bar"),
            op("get_keys", ""),
        ]),
    )
    .await;
    assert_eq!(
        report["results"],
        json!([
            { "ok": null },
            { "ok": false },
            { "ok": null },
            { "ok": null },
            { "ok": null },
            { "ok": "wow" },
            { "ok": true },
            { "ok": ["bar", "qux"] },
            { "ok": null },
            { "ok": null },
            { "ok": false },
            { "ok": null },
            { "ok": ["qux"] },
        ])
    );
}

#[tokio::test]
async fn a_value_set_by_one_request_is_seen_by_the_next() {
    let host = TestHost::start(MANIFEST, &[]).await;
    kv(&host, "", "default", json!([set("visits", "1")])).await;
    let next = kv(&host, "", "default", json!([op("get", "visits")])).await;
    assert_eq!(next["results"], json!([{ "ok": "1" }]));
}

#[tokio::test]
async fn opening_a_label_the_component_does_not_list_is_access_denied() {
    let host = TestHost::start(MANIFEST, &[]).await;
    let forbidden = kv(&host, "", "forbidden", json!([])).await;
    assert_eq!(forbidden["open_error"], "Error::AccessDenied");
    // Even the default store, which exists, when the component lists no store at all.
    let without = kv(&host, "/without-stores", "default", json!([])).await;
    assert_eq!(without["open_error"], "Error::AccessDenied");
}

#[tokio::test]
async fn an_app_listing_a_label_with_no_store_does_not_start() {
    let error = TestHost::load_error(&MANIFEST.replace(
        r#"key_value_stores = ["default"]"#,
        r#"key_value_stores = ["default", "sessions"]"#,
    ))
    .await
    .expect("the app is refused");
    assert_eq!(
        error.to_string(),
        "unknown key_value_stores label \"sessions\" for component \"probe\""
    );
}

#[tokio::test]
async fn the_default_store_is_kept_in_spin_dot_next_to_the_manifest() {
    let host = TestHost::start(MANIFEST, &[]).await;
    kv(&host, "", "default", json!([set("k", "v")])).await;
    assert!(host.dir().join(".spin").join(DEFAULT_STORE_FILE).is_file());
}

#[tokio::test]
async fn the_default_store_outlives_the_app_in_its_state_dir() {
    let state = std::env::temp_dir().join(format!("spincart-kv-state-{}", uuid::Uuid::new_v4()));
    {
        let host = TestHost::start_with_state_dir(MANIFEST, StateDir::At(state.clone())).await;
        kv(&host, "", "default", json!([set("kept", "yes")])).await;
    }
    let host = TestHost::start_with_state_dir(MANIFEST, StateDir::At(state.clone())).await;
    let again = kv(&host, "", "default", json!([op("get", "kept")])).await;
    assert_eq!(again["results"], json!([{ "ok": "yes" }]));
    assert!(!host.dir().join(".spin").exists());
    std::fs::remove_dir_all(&state).unwrap();
}

#[tokio::test]
async fn an_empty_state_dir_keeps_the_default_store_in_memory() {
    let first = TestHost::start_with_state_dir(MANIFEST, StateDir::Unset).await;
    kv(&first, "", "default", json!([set("k", "v")])).await;
    assert_eq!(
        kv(&first, "", "default", json!([op("get", "k")])).await["results"],
        json!([{ "ok": "v" }])
    );
    let second = TestHost::start_with_state_dir(MANIFEST, StateDir::Unset).await;
    assert_eq!(
        kv(&second, "", "default", json!([op("get", "k")])).await["results"],
        json!([{ "ok": null }])
    );
    assert!(!first.dir().join(".spin").exists());
}
