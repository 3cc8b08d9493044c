//! spin.toml, openapi.yaml and the event list agree with each other.

use spincart_domain::events::{shards, EventType};
use spincart_host::manifest::{AppManifest, HttpRoute};
use spincart_tests::repo_root;

fn manifest() -> AppManifest {
    AppManifest::from_file(&repo_root().join("spin.toml")).unwrap()
}

/// The `saga_shards` default the saga block is rendered for.
fn saga_shards(manifest: &AppManifest) -> u32 {
    manifest.variables["saga_shards"]
        .default
        .as_deref()
        .expect("saga_shards has a default")
        .parse()
        .expect("saga_shards is a number")
}

/// `on-checkout-requested-s2` → (`on-checkout-requested`, 2), for the saga's shard components
/// (Spin's ids are words that start with a letter: `-s2`, not `-2`).
fn shard_of_component(id: &str) -> Option<(&str, u32)> {
    let (base, shard) = id.rsplit_once("-s")?;
    Some((base, shard.parse().ok()?))
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
            // The catch-all `/...` serves the storefront's static files, not the API.
            HttpRoute::Route(r) if r == "/..." => None,
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
fn every_redis_channel_is_an_event_type_and_the_sagas_ones_name_a_shard() {
    let manifest = manifest();
    let count = saga_shards(&manifest);
    for trigger in &manifest.redis_triggers {
        let (event_type, shard) = match trigger.channel.rsplit_once('.') {
            Some((t, k)) if k.chars().all(|c| c.is_ascii_digit()) => {
                (t, Some(k.parse::<u32>().unwrap()))
            }
            _ => (trigger.channel.as_str(), None),
        };
        let known = EventType::parse(event_type).unwrap_or_else(|| {
            panic!(
                "channel {} of {} is not an event type",
                trigger.channel, trigger.component
            )
        });
        assert_eq!(
            shard.is_some(),
            shards::SHARDED.contains(&known),
            "{} of {}: the saga's events, and only they, travel on a shard's channel",
            trigger.channel,
            trigger.component
        );
        if let Some(shard) = shard {
            assert!(
                shard < count,
                "{}: no shard {shard} of {count}",
                trigger.channel
            );
            assert_eq!(
                shard_of_component(&trigger.component).map(|(_, k)| k),
                Some(shard),
                "{} takes {}: a shard's component is named after its shard",
                trigger.component,
                trigger.channel
            );
        }
    }
}

#[test]
fn every_shard_runs_every_saga_consumer_each_on_a_connection_of_its_own() {
    let manifest = manifest();
    let count = saga_shards(&manifest);
    let consumers_of = |shard: u32| -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = manifest
            .redis_triggers
            .iter()
            .filter_map(|t| {
                let (base, k) = shard_of_component(&t.component)?;
                let (event_type, _) = t.channel.rsplit_once('.')?;
                (k == shard).then(|| (base.to_owned(), event_type.to_owned()))
            })
            .collect();
        pairs.sort();
        pairs
    };
    let first = consumers_of(0);
    for sharded in shards::SHARDED {
        assert!(
            first.iter().any(|(_, t)| t == sharded.as_str()),
            "no consumer takes {sharded} on shard 0"
        );
    }
    for shard in 1..count {
        assert_eq!(
            consumers_of(shard),
            first,
            "shard {shard} differs from shard 0"
        );
    }
    let mut addresses: Vec<(&str, &str)> = manifest
        .redis_triggers
        .iter()
        .map(|t| {
            (
                t.address.as_deref().unwrap_or_default(),
                t.component.as_str(),
            )
        })
        .collect();
    addresses.sort();
    addresses.dedup();
    for pair in addresses.windows(2) {
        assert_ne!(
            pair[0].0, pair[1].0,
            "{} and {} share a subscription connection",
            pair[0].1, pair[1].1
        );
    }
}

#[test]
fn the_saga_block_of_spin_toml_is_rendered_from_its_template() {
    let output = std::process::Command::new(repo_root().join("scripts/saga-shards.sh"))
        .arg("--check")
        .output()
        .expect("scripts/saga-shards.sh runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_component_folder_is_in_the_manifest_with_its_own_id() {
    let manifest = manifest();
    let shards = saga_shards(&manifest);
    for entry in std::fs::read_dir(repo_root().join("components")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        // A saga consumer is in the manifest once per shard (`on-checkout-requested-s0`, …).
        let ids: Vec<String> = if manifest.components.contains_key(&name) {
            vec![name.clone()]
        } else {
            (0..shards).map(|k| format!("{name}-s{k}")).collect()
        };
        for id in ids {
            let component = manifest
                .components
                .get(&id)
                .unwrap_or_else(|| panic!("components/{name} is not in spin.toml (as {id})"));
            let source = match &component.source {
                spincart_host::manifest::ComponentSource::Local(path) => path.clone(),
                other => panic!("{id}: unexpected source {other:?}"),
            };
            assert_eq!(
                source,
                format!(
                    "target/wasm32-wasip1/release/{}.wasm",
                    name.replace('-', "_")
                ),
                "{id}"
            );
        }
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
        .args(trigger.split(' '))
        .arg("--ids")
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
    // The shards partition the saga's consumers; the rest (the catalog projection) is unsharded.
    let mut by_shard: Vec<String> = (0..saga_shards(&manifest))
        .flat_map(|k| listed_by_script(&format!("shard {k}")))
        .collect();
    by_shard.sort();
    let sharded: Vec<String> = redis
        .iter()
        .filter(|id| shard_of_component(id).is_some())
        .cloned()
        .collect();
    assert_eq!(by_shard, sharded);
    // Together they are the whole app: docs/real-spin.md's two processes run every component.
    let mut all: Vec<String> = listed_http.into_iter().chain(listed_redis).collect();
    all.sort();
    assert_eq!(all, manifest.components.keys().cloned().collect::<Vec<_>>());
}

#[test]
fn the_docs_quote_the_component_count_as_the_script_prints_it() {
    let printed = std::process::Command::new(repo_root().join("scripts/components.sh"))
        .arg("count")
        .output()
        .expect("scripts/components.sh runs");
    assert!(printed.status.success());
    let printed = String::from_utf8(printed.stdout).unwrap();
    let manifest = manifest();
    let components = manifest
        .http_triggers
        .iter()
        .map(|t| &t.component)
        .chain(manifest.redis_triggers.iter().map(|t| &t.component))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    assert!(
        printed.starts_with(&format!("{components} components: ")),
        "{printed}"
    );
    let docs = std::fs::read_to_string(repo_root().join("docs/real-spin.md")).unwrap();
    assert!(
        docs.contains(&format!("$ scripts/components.sh count\n{printed}")),
        "docs/real-spin.md quotes `scripts/components.sh count`; it now prints:\n{printed}"
    );
}
