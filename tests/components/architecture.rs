//! The architecture docs/architecture.md draws is the one Cargo builds: the crate graph equals
//! its diagram, and every component depends on exactly one context crate.

use std::collections::{BTreeMap, BTreeSet};

use spincart_tests::repo_root;

/// Workspace packages and the `spincart-*` crates each depends on (normal dependencies).
fn workspace_graph() -> BTreeMap<String, BTreeSet<String>> {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo_root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{output:?}");
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|name| name.starts_with("spincart-"))
                .map(str::to_owned)
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

/// The `a --> b` edges of docs/architecture.md's mermaid diagram, as crate names.
fn readme_edges() -> BTreeSet<(String, String)> {
    let readme = std::fs::read_to_string(repo_root().join("docs/architecture.md")).unwrap();
    let diagram = readme
        .split("```mermaid")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/architecture.md has a mermaid diagram of the crates");
    diagram
        .lines()
        .filter_map(|line| line.trim().split_once(" --> "))
        .map(|(from, to)| {
            (
                format!("spincart-{}", from.trim()),
                format!("spincart-{}", to.trim()),
            )
        })
        .collect()
}

/// The library crates under `crates/` (the host is a tool, not part of the app).
fn app_crates(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    graph
        .keys()
        .filter(|name| {
            name.starts_with("spincart-")
                && !["spincart-host", "spincart-tests"].contains(&name.as_str())
        })
        .cloned()
        .collect()
}

#[test]
fn the_readme_diagram_is_the_crate_graph() {
    let graph = workspace_graph();
    let mut built = BTreeSet::new();
    for name in app_crates(&graph) {
        for dep in &graph[&name] {
            // Every crate may use the domain's vocabulary; only the platform's edge is drawn.
            if dep != "spincart-domain" || name == "spincart-platform" {
                built.insert((name.clone(), dep.clone()));
            }
        }
    }
    let drawn = readme_edges();
    assert_eq!(
        drawn.difference(&built).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "drawn in docs/architecture.md but not a dependency"
    );
    assert_eq!(
        built.difference(&drawn).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "a dependency docs/architecture.md does not draw"
    );
}

#[test]
fn the_domain_and_the_platform_know_no_context() {
    let graph = workspace_graph();
    assert!(graph["spincart-domain"].is_empty());
    assert_eq!(
        graph["spincart-platform"],
        BTreeSet::from(["spincart-domain".to_owned()])
    );
}

#[test]
fn every_component_depends_on_exactly_one_context_crate() {
    let graph = workspace_graph();
    let contexts: Vec<String> = app_crates(&graph)
        .into_iter()
        .filter(|c| {
            !["spincart-domain", "spincart-platform", "spincart-saga"].contains(&c.as_str())
        })
        .collect();
    let manifest =
        spincart_host::manifest::AppManifest::from_file(&repo_root().join("spin.toml")).unwrap();
    for (id, component) in &manifest.components {
        // The package behind the component (a saga shard, `on-checkout-requested-s2`, runs the
        // package `on-checkout-requested`): its wasm is named after it.
        let spincart_host::manifest::ComponentSource::Local(source) = &component.source else {
            panic!("{id}: not a local source");
        };
        let component = std::path::Path::new(source)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace('_', "-");
        let deps = &graph[&component];
        assert_eq!(deps.len(), 1, "{component} depends on {deps:?}");
        let only = deps.iter().next().unwrap();
        assert!(
            contexts.contains(only),
            "{component} depends on {only}, which is not a context crate"
        );
    }
}
