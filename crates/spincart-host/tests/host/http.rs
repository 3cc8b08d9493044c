//! The HTTP trigger: routing, Spin's request headers, well-known routes, traps.

use crate::support::TestHost;

const ROUTES: &str = r#"
spin_manifest_version = 2
[application]
name = "routes"
[[trigger.http]]
route = "/users/:id"
component = "probe"
[[trigger.http]]
route = "/users/admin"
component = "probe"
[[trigger.http]]
route = "/static/..."
component = "probe"
[[trigger.http]]
route = "/trap"
component = "probe"
[component.probe]
source = "{probe-http}"
"#;

fn header<'a>(echo: &'a serde_json::Value, name: &str) -> Vec<&'a str> {
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0] == name)
        .map(|h| h[1].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn routes_to_the_most_specific_route_and_404s_the_rest() {
    let host = TestHost::start(ROUTES, &[]).await;
    let admin = host.get_json("/users/admin").await;
    assert_eq!(header(&admin, "spin-matched-route"), ["/users/admin"]);
    let user = host.get_json("/users/42/").await;
    assert_eq!(header(&user, "spin-matched-route"), ["/users/:id"]);
    let missing = host.get("/nowhere").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await.unwrap(), "");
    assert_eq!(host.get("/users/").await.status(), 404);
}

#[tokio::test]
async fn adds_the_headers_spin_adds() {
    let host = TestHost::start(ROUTES, &[]).await;
    let echo = host.get_json("/static/css/site.css?v=1").await;
    let authority = host.base_url.trim_start_matches("http://");
    assert_eq!(
        header(&echo, "spin-full-url"),
        [format!("http://{authority}/static/css/site.css?v=1")]
    );
    assert_eq!(header(&echo, "spin-path-info"), ["/css/site.css"]);
    assert_eq!(header(&echo, "spin-matched-route"), ["/static/..."]);
    assert_eq!(header(&echo, "spin-raw-component-route"), ["/static/..."]);
    assert_eq!(header(&echo, "spin-component-route"), ["/static"]);
    assert_eq!(header(&echo, "spin-base-path"), ["/"]);
    assert!(header(&echo, "spin-client-addr")[0].starts_with("127.0.0.1:"));
    let user = host.get_json("/users/42").await;
    assert_eq!(header(&user, "spin-path-match-id"), ["42"]);
    assert_eq!(header(&user, "spin-path-info"), [""]);
}

#[tokio::test]
async fn passes_method_path_query_and_body_through() {
    let host = TestHost::start(ROUTES, &[]).await;
    let echo: serde_json::Value = reqwest::Client::new()
        .put(format!("{}/users/7?x=1", host.base_url))
        .body("payload")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/users/7");
    assert_eq!(echo["query"], "x=1");
    assert_eq!(echo["body"], "payload");
}

#[tokio::test]
async fn answers_the_well_known_health_route_itself() {
    let host = TestHost::start(ROUTES, &[]).await;
    let health = host.get("/.well-known/spin/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "OK");
    assert_eq!(host.get("/.well-known/spin/other").await.status(), 404);
}

#[tokio::test]
async fn returns_500_with_an_empty_body_when_the_guest_traps() {
    let host = TestHost::start(ROUTES, &[]).await;
    let trapped = host.get("/trap").await;
    assert_eq!(trapped.status(), 500);
    assert_eq!(trapped.text().await.unwrap(), "");
    // The next request gets a fresh instance and is served normally.
    assert_eq!(host.get("/users/1").await.status(), 200);
}
