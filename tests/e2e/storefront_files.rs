//! The storefront's static files at `/` (component `storefront`, `files` mounted from
//! `storefront/dist`): whatever the Vue build put there, compared with the files on disk.

use std::path::PathBuf;

use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{app, Res};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn dist() -> PathBuf {
    spincart_tests::repo_root().join("storefront/dist")
}

fn index_html() -> String {
    std::fs::read_to_string(dist().join("index.html"))
        .expect("storefront/dist/index.html exists (build the storefront first)")
}

/// A JavaScript file of the build: its URL path and content.
fn some_asset() -> (String, Vec<u8>) {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(dist().join("assets"))
        .expect("storefront/dist/assets exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "js"))
        .collect();
    scripts.sort();
    let script = scripts.first().expect("the build has a .js asset");
    let name = script.file_name().unwrap().to_str().unwrap();
    (format!("/assets/{name}"), std::fs::read(script).unwrap())
}

fn expect_index(page: &Res, path: &str) {
    assert_eq!(page.status, 200, "{path}: {}", page.text);
    assert_eq!(page.text, index_html(), "{path}");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{path}"
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"), "{path}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
}

/// Sends `request_target` as is (no client-side normalisation of `..` or `\`): status, body.
async fn raw_get(request_target: &str) -> (u16, String) {
    let authority = app()
        .await
        .base_url
        .trim_start_matches("http://")
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let request =
        format!("GET {request_target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {response:?}"));
    (status, response)
}

#[tokio::test]
async fn the_root_is_index_html_and_always_revalidated() {
    let app = app().await;
    let index = app.get("/", None).await;
    expect_index(&index, "/");
    assert!(index.header("etag").is_some());
    expect_index(&app.get("/index.html", None).await, "/index.html");
}

#[tokio::test]
async fn an_asset_has_its_content_type_and_is_cached_forever() {
    let app = app().await;
    let (path, content) = some_asset();
    let asset = app.get(&path, None).await;
    asset.expect(200);
    assert_eq!(asset.text.as_bytes(), content, "{path}");
    assert_eq!(
        asset.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(asset.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(asset.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn the_apps_own_routes_get_index_html() {
    let app = app().await;
    for path in [
        format!("/orders/{}", uuid::Uuid::new_v4()),
        "/admin/sagas".to_owned(),
        "/cart".to_owned(),
    ] {
        expect_index(&app.get(&path, None).await, &path);
    }
}

#[tokio::test]
async fn a_missing_file_is_a_404_in_the_error_shape() {
    let app = app().await;
    app.get("/assets/nope.js", None)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn no_path_reaches_outside_the_mount() {
    let app = app().await;
    // Files next to storefront/dist in the repository: none may come back.
    let secrets = [
        "[workspace]",
        "spin_manifest_version",
        "\"name\": \"storefront\"",
    ];
    for target in [
        "/../Cargo.toml",
        "/../../spin.toml",
        "/%2e%2e/%2e%2e/spin.toml",
        "/assets/..%2f..%2f..%2fspin.toml",
        "/%2E%2E/package.json",
        "/..%5c..%5cspin.toml",
        "/..\\..\\spin.toml",
        "/assets/%2e%2e/%2e%2e/package.json",
    ] {
        let (status, response) = raw_get(target).await;
        assert!(
            status == 400 || status == 404,
            "{target}: {status} {response}"
        );
        for secret in secrets {
            assert!(!response.contains(secret), "{target}: {response}");
        }
    }
    // The client normalises `..` away: still index.html, never the repository.
    expect_index(&app.get("/assets/../index.html", None).await, "/assets/../");
}

#[tokio::test]
async fn the_api_and_the_operations_routes_still_reach_their_components() {
    let app = app().await;
    let products = app.get("/api/v1/products", None).await;
    products.expect(200);
    assert!(products.body["items"].is_array(), "{}", products.text);
    let health = app.get("/health", None).await;
    assert!(health.body["status"].is_string(), "{}", health.text);
    let unknown = app.get("/api/v1/nothing-here", None).await;
    assert_eq!((unknown.status, unknown.text.as_str()), (404, ""));
}

#[tokio::test]
async fn head_answers_the_headers_without_a_body() {
    let app = app().await;
    let head = app.send(app.request(Method::HEAD, "/", None)).await;
    head.expect(200);
    assert_eq!(head.text, "");
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let get = app.get("/", None).await;
    assert_eq!(head.header("etag"), get.header("etag"));
}

#[tokio::test]
async fn a_matching_if_none_match_is_a_304() {
    let app = app().await;
    let (path, _) = some_asset();
    for path in ["/", path.as_str()] {
        let first = app.get(path, None).await;
        let etag = first.header("etag").expect("an etag").to_owned();
        let again = app
            .send(
                app.request(Method::GET, path, None)
                    .header("if-none-match", &etag),
            )
            .await;
        assert_eq!(again.status, 304, "{path}");
        assert_eq!(again.text, "");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        let stale = app
            .send(
                app.request(Method::GET, path, None)
                    .header("if-none-match", "\"stale\""),
            )
            .await;
        stale.expect(200);
    }
}

#[tokio::test]
async fn other_methods_are_a_405_naming_get_and_head() {
    let app = app().await;
    let posted = app.post_raw("/", None, "{}").await;
    posted.expect_error(405, "method_not_allowed");
    assert_eq!(posted.header("allow"), Some("GET, HEAD"));
}
