//! spin.toml, openapi.yaml and the event list agree with each other.

use spincart_domain::events::EventType;
use spincart_host::manifest::{AppManifest, HttpRoute};
use spincart_tests::repo_root;

fn manifest() -> AppManifest {
    AppManifest::from_file(&repo_root().join("spin.toml")).unwrap()
}

/// `/api/v1/carts/:id` → `/api/v1/carts/{id}`.
fn openapi_path(route: &str) -> String {
    route
        .split('/')
        .map(|s| match s.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn documented_paths() -> Vec<String> {
    std::fs::read_to_string(repo_root().join("openapi.yaml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("  /"))
        .filter_map(|l| l.strip_suffix(':'))
        .map(|p| format!("/{p}"))
        .collect()
}

#[test]
fn openapi_documents_every_route_and_nothing_else() {
    let routes: Vec<String> = manifest()
        .http_triggers
        .iter()
        .filter_map(|t| match &t.route {
            HttpRoute::Route(r) => Some(openapi_path(r)),
            HttpRoute::Private(_) => None,
        })
        .collect();
    let documented = documented_paths();
    for route in &routes {
        assert!(
            documented.contains(route),
            "{route} is in spin.toml but not in openapi.yaml"
        );
    }
    for path in &documented {
        assert!(
            routes.contains(path),
            "{path} is in openapi.yaml but no component serves it"
        );
    }
}

#[test]
fn every_redis_channel_is_a_known_event_type() {
    for trigger in manifest().redis_triggers {
        assert!(
            EventType::parse(&trigger.channel).is_some(),
            "channel {} of {} is not an event type",
            trigger.channel,
            trigger.component
        );
    }
}

#[test]
fn every_component_folder_is_in_the_manifest_with_its_own_id() {
    let manifest = manifest();
    for entry in std::fs::read_dir(repo_root().join("components")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let component = manifest
            .components
            .get(&name)
            .unwrap_or_else(|| panic!("components/{name} is not in spin.toml"));
        let source = match &component.source {
            spincart_host::manifest::ComponentSource::Local(path) => path.clone(),
            other => panic!("{name}: unexpected source {other:?}"),
        };
        assert_eq!(
            source,
            format!(
                "target/wasm32-wasip1/release/{}.wasm",
                name.replace('-', "_")
            )
        );
    }
}

#[test]
fn no_component_is_granted_more_than_postgres_and_redis() {
    for (id, component) in manifest().components {
        for host in &component.allowed_outbound_hosts {
            assert!(
                host == "postgres://{{ db_host }}" || host == "redis://{{ redis_host }}",
                "{id} is granted {host}"
            );
        }
    }
}

/// What `scripts/components.sh <trigger> --ids` prints.
fn listed_by_script(trigger: &str) -> Vec<String> {
    let output = std::process::Command::new(repo_root().join("scripts/components.sh"))
        .args([trigger, "--ids"])
        .output()
        .expect("scripts/components.sh runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_selective_deployment_script_splits_every_component_by_trigger() {
    let manifest = manifest();
    let mut http: Vec<String> = manifest
        .http_triggers
        .iter()
        .map(|t| t.component.clone())
        .collect();
    let mut redis: Vec<String> = manifest
        .redis_triggers
        .iter()
        .map(|t| t.component.clone())
        .collect();
    for ids in [&mut http, &mut redis] {
        ids.sort();
        ids.dedup();
    }
    let (mut listed_http, mut listed_redis) = (listed_by_script("http"), listed_by_script("redis"));
    listed_http.sort();
    listed_redis.sort();
    assert_eq!(listed_http, http);
    assert_eq!(listed_redis, redis);
    // Together they are the whole app: the README's two processes run every component.
    let mut all: Vec<String> = listed_http.into_iter().chain(listed_redis).collect();
    all.sort();
    assert_eq!(all, manifest.components.keys().cloned().collect::<Vec<_>>());
}
