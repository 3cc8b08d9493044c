//! A component's `files`: copied at start-up and mounted read-only at `/`, as `spin up` does.

use crate::support::TestHost;

const FILES: &str = r#"
spin_manifest_version = 2
[application]
name = "files"
[[trigger.http]]
route = "/..."
component = "probe"
[[trigger.http]]
route = "/bare/..."
component = "bare"
[component.probe]
source = "{probe-http}"
files = [{ source = "site", destination = "/" }, "notes/*.txt", { source = "other.txt", destination = "/docs/other.txt" }]
exclude_files = ["site/secret.txt"]
[component.bare]
source = "{probe-http}"
"#;

const TREE: &[(&str, &str)] = &[
    ("site/index.html", "<html>"),
    ("site/assets/app.js", "js"),
    ("site/secret.txt", "secret"),
    ("notes/a.txt", "a"),
    ("notes/b.md", "b"),
    ("other.txt", "other"),
];

async fn fs(host: &TestHost, prefix: &str, op: &str, path: &str) -> serde_json::Value {
    host.get_json(&format!("{prefix}/fs?op={op}&path={path}"))
        .await
}

#[tokio::test]
async fn mounts_placements_and_globs_less_exclude_files_at_the_root() {
    let host = TestHost::start_with_files(FILES, TREE).await;
    assert_eq!(fs(&host, "", "read", "/index.html").await["ok"], "<html>");
    assert_eq!(fs(&host, "", "read", "/assets/app.js").await["ok"], "js");
    assert_eq!(fs(&host, "", "read", "/notes/a.txt").await["ok"], "a");
    assert_eq!(
        fs(&host, "", "read", "/docs/other.txt").await["ok"],
        "other"
    );
    assert_eq!(
        fs(&host, "", "list", "/").await["ok"],
        serde_json::json!(["assets", "docs", "index.html", "notes"])
    );
    for hidden in [
        "/secret.txt",
        "/site/secret.txt",
        "/notes/b.md",
        "/other.txt",
    ] {
        assert!(
            fs(&host, "", "read", hidden).await["err"].is_string(),
            "{hidden}"
        );
    }
}

#[tokio::test]
async fn the_mount_is_read_only_and_nothing_outside_it_is_visible() {
    let host = TestHost::start_with_files(FILES, TREE).await;
    for (op, path) in [
        ("write", "/index.html"),
        ("write", "/new.txt"),
        ("delete", "/index.html"),
        ("read", "/../spin.toml"),
        ("read", "/../../../../etc/hostname"),
        ("read", "/assets/../../spin.toml"),
        ("list", "/.."),
    ] {
        let outcome = fs(&host, "", op, path).await;
        assert!(outcome["err"].is_string(), "{op} {path}: {outcome}");
    }
    assert_eq!(fs(&host, "", "read", "/index.html").await["ok"], "<html>");
}

#[tokio::test]
async fn the_guest_sees_the_files_as_they_were_at_start_up() {
    let host = TestHost::start_with_files(FILES, TREE).await;
    std::fs::write(host.dir().join("site/index.html"), "changed").unwrap();
    std::fs::write(host.dir().join("site/late.txt"), "late").unwrap();
    assert_eq!(fs(&host, "", "read", "/index.html").await["ok"], "<html>");
    assert!(fs(&host, "", "read", "/late.txt").await["err"].is_string());
}

#[tokio::test]
async fn a_component_without_files_has_no_file_system() {
    let host = TestHost::start_with_files(FILES, TREE).await;
    assert!(fs(&host, "/bare", "read", "/index.html").await["err"].is_string());
    assert!(fs(&host, "/bare", "list", "/").await["err"].is_string());
}

#[tokio::test]
async fn errors_at_start_up_when_a_files_source_does_not_exist() {
    let manifest = FILES.replace("source = \"site\"", "source = \"storefront/dist\"");
    let error = TestHost::load_error(&manifest)
        .await
        .expect("the app does not load");
    let chain = format!("{error:#}");
    assert!(
        chain.contains("Failed to load component `probe`"),
        "{chain}"
    );
    assert!(
        chain.contains("File or directory \"storefront/dist\" does not exist"),
        "{chain}"
    );
}
