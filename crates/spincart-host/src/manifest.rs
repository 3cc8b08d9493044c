//! Spin application manifest, version 2 (`spin.toml`).
//!
//! The schema follows Spin's own (`crates/manifest/src/schema/v2.rs`): the top level,
//! `[application]`, `[variables.*]`, `[component.*]` and `build` reject unknown keys when the file
//! is parsed; `[[trigger.*]]` tables keep extra keys and the trigger rejects them when it starts
//! (see [`HttpTriggerConfig`] and [`RedisTriggerConfig`]). Identifiers follow Spin's rules:
//! component ids are kebab-case, variable names lower snake_case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// A parsed and checked `spin.toml`, with every trigger's component resolved to an id.
#[derive(Debug, Clone)]
pub struct AppManifest {
    /// The directory containing the manifest; `source` and `workdir` are relative to it.
    pub dir: PathBuf,
    pub application: Application,
    pub variables: BTreeMap<String, Variable>,
    pub http_triggers: Vec<HttpTriggerConfig>,
    pub redis_triggers: Vec<RedisTriggerConfig>,
    /// The default address of Redis triggers (`[application.trigger.redis] address`).
    pub redis_default_address: Option<String>,
    pub components: BTreeMap<String, Component>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: toml::Value,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
    #[serde(rename = "trigger")]
    triggers: BTreeMap<String, Vec<RawTrigger>>,
    #[serde(default, rename = "component")]
    components: BTreeMap<String, Component>,
}

/// `[application]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub targets: Vec<toml::Value>,
    /// `[application.trigger.<type>]`: free-form here, checked by each trigger.
    #[serde(default, rename = "trigger")]
    pub trigger_global_configs: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

/// `[variables.<name>]`: exactly one of `required = true` or `default`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct RawTrigger {
    #[serde(default)]
    id: String,
    #[serde(default)]
    component: Option<toml::Value>,
    #[serde(default)]
    components: BTreeMap<String, toml::Value>,
    #[serde(flatten)]
    config: toml::Table,
}

/// `[component.<id>]` (or a component defined inline in a trigger).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub source: ComponentSource,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Files to mount read-only in the guest (see [`crate::files`]).
    #[serde(default)]
    pub files: Vec<FilesMount>,
    /// Globs (relative to the manifest's directory) of files that `files` must leave out.
    #[serde(default)]
    pub exclude_files: Vec<String>,
    #[serde(default)]
    pub allowed_http_hosts: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Labels of the key-value stores the component may open (kebab-case or snake_case).
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    #[serde(default)]
    pub build: Option<ComponentBuildConfig>,
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    #[serde(default)]
    pub dependencies: BTreeMap<String, toml::Value>,
}

/// `source = "path.wasm"` or `source = { url, digest }` / registry form.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum ComponentSource {
    Local(String),
    Remote {
        url: String,
        digest: String,
    },
    Registry {
        #[serde(default)]
        registry: Option<String>,
        package: String,
        version: String,
    },
}

/// One entry of a component's `files`, as Spin's `WasiFilesMount`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum FilesMount {
    /// `"images/*.png"`, `"static/index.html"`: a glob or a path relative to the manifest's
    /// directory; matched files appear at the same relative path under `/`.
    Pattern(String),
    /// `{ source = "assets", destination = "/" }`: a directory (or a file) placed at
    /// `destination` in the guest.
    Placement { source: String, destination: String },
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentBuildConfig {
    pub command: toml::Value,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

/// One `[[trigger.http]]`, as the HTTP trigger reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTriggerConfig {
    pub component: String,
    pub route: HttpRoute,
    #[serde(default)]
    pub executor: Option<toml::Value>,
}

/// `route = "/path"` or `route = { private = true }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HttpRoute {
    Route(String),
    Private(PrivateRoute),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    pub private: bool,
}

/// One `[[trigger.redis]]`, as the Redis trigger reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisTriggerConfig {
    pub component: String,
    pub channel: String,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedisTriggerMetadata {
    address: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpTriggerMetadata {
    #[serde(default)]
    base: Option<String>,
}

impl AppManifest {
    /// Reads and checks the manifest at `path`.
    pub fn from_file(path: &Path) -> anyhow::Result<AppManifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Failed to read Spin app manifest from {path:?}"))?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        Self::from_str(&text, dir).with_context(|| format!("Failed to load Spin app from {path:?}"))
    }

    /// Parses manifest text; `dir` is where relative paths in it start.
    pub fn from_str(text: &str, dir: PathBuf) -> anyhow::Result<AppManifest> {
        let probe: toml::Table = toml::from_str(text)?;
        match probe
            .get("spin_manifest_version")
            .or_else(|| probe.get("spin_version"))
        {
            Some(toml::Value::Integer(2)) => {}
            Some(other) => bail!("invalid manifest version: {other}"),
            None => bail!("missing field `spin_manifest_version`"),
        }
        let raw: RawManifest = toml::from_str(text)?;
        let _ = raw.spin_manifest_version;

        for (name, variable) in &raw.variables {
            check_lower_snake_id(name)
                .with_context(|| format!("invalid variable name {name:?}"))?;
            if variable.required == variable.default.is_some() {
                bail!("variable {name:?}: must be `required` OR have a `default`");
            }
        }

        let mut components = raw.components;
        for (id, component) in &components {
            check_kebab_id(id).with_context(|| format!("invalid component id {id:?}"))?;
            check_component(id, component)?;
        }

        let mut http_triggers: Vec<HttpTriggerConfig> = Vec::new();
        let mut redis_triggers: Vec<RedisTriggerConfig> = Vec::new();
        let mut inline_counter = 0;
        for (trigger_type, triggers) in raw.triggers {
            for (index, trigger) in triggers.into_iter().enumerate() {
                if !trigger.components.is_empty() {
                    bail!("trigger.{trigger_type}[{index}]: `components` is not supported");
                }
                let component_id = match trigger.component {
                    Some(toml::Value::String(id)) => {
                        check_kebab_id(&id)
                            .with_context(|| format!("invalid component id {id:?}"))?;
                        id
                    }
                    Some(inline @ toml::Value::Table(_)) => {
                        let component: Component = inline.try_into()?;
                        let preferred = format!("{}-component", trigger.id);
                        let id = if !trigger.id.is_empty()
                            && check_kebab_id(&preferred).is_ok()
                            && !components.contains_key(&preferred)
                        {
                            preferred
                        } else {
                            loop {
                                inline_counter += 1;
                                let candidate = format!("inline-component{inline_counter}");
                                if !components.contains_key(&candidate) {
                                    break candidate;
                                }
                            }
                        };
                        check_component(&id, &component)?;
                        components.insert(id.clone(), component);
                        id
                    }
                    Some(other) => {
                        bail!("trigger.{trigger_type}[{index}]: invalid component {other}")
                    }
                    None => bail!(
                        "trigger.{trigger_type}[{index}]: a trigger must name its `component`"
                    ),
                };
                if !components.contains_key(&component_id) {
                    bail!("no such component {component_id:?} (trigger.{trigger_type}[{index}])");
                }
                let mut config = trigger.config;
                config.insert("component".into(), toml::Value::String(component_id));
                let context = || format!("invalid [[trigger.{trigger_type}]] #{}", index + 1);
                match trigger_type.as_str() {
                    "http" => http_triggers.push(
                        toml::Value::Table(config).try_into().with_context(context)?,
                    ),
                    "redis" => redis_triggers.push(
                        toml::Value::Table(config).try_into().with_context(context)?,
                    ),
                    other => bail!("trigger type {other:?} is not supported by spincart-host (supported: http, redis)"),
                }
            }
        }

        let mut redis_default_address = None;
        for (trigger_type, table) in &raw.application.trigger_global_configs {
            let value = toml::Value::Table(table.clone());
            match trigger_type.as_str() {
                "redis" => {
                    let metadata: RedisTriggerMetadata = value
                        .try_into()
                        .context("invalid [application.trigger.redis]")?;
                    redis_default_address = Some(metadata.address);
                }
                "http" => {
                    let metadata: HttpTriggerMetadata = value
                        .try_into()
                        .context("invalid [application.trigger.http]")?;
                    match metadata.base.as_deref() {
                        None | Some("/") => {}
                        Some(_) => bail!("This application is using the deprecated trigger 'base' field. The base must be prepended to each [[trigger.http]]'s 'route'."),
                    }
                }
                _ => {}
            }
        }

        for trigger in &http_triggers {
            if let HttpRoute::Private(PrivateRoute { private: false }) = trigger.route {
                bail!(
                    "route must be a string pattern or '{{ private = true }}': component '{}' has {{ private = false }}",
                    trigger.component
                );
            }
        }

        Ok(AppManifest {
            dir,
            application: raw.application,
            variables: raw.variables,
            http_triggers,
            redis_triggers,
            redis_default_address,
            components,
        })
    }

    /// Keeps only the named components and their triggers, as `spin up --component-id`
    /// (selective deployment) does; an id the app does not have is an error, with Spin's text.
    pub fn retain_components(&mut self, ids: &[String]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        for id in ids {
            if !self.components.contains_key(id) {
                bail!("Specified component \"{id}\" not found in application");
            }
        }
        self.components.retain(|id, _| ids.contains(id));
        self.http_triggers.retain(|t| ids.contains(&t.component));
        self.redis_triggers.retain(|t| ids.contains(&t.component));
        Ok(())
    }

    /// The absolute path of a component's local `source`.
    pub fn component_source_path(&self, id: &str) -> anyhow::Result<PathBuf> {
        let component = self
            .components
            .get(id)
            .with_context(|| format!("no such component {id:?}"))?;
        match &component.source {
            ComponentSource::Local(path) => Ok(self.dir.join(path)),
            ComponentSource::Remote { url, .. } => {
                bail!("component {id:?}: remote sources ({url}) are not supported by spincart-host; build the component locally")
            }
            ComponentSource::Registry { package, .. } => {
                bail!("component {id:?}: registry sources ({package}) are not supported by spincart-host")
            }
        }
    }
}

/// Refuses the Spin features this host does not implement, so that an app using them fails at
/// start-up with a clear message instead of at its first request.
fn check_component(id: &str, component: &Component) -> anyhow::Result<()> {
    let unsupported = [
        ("sqlite_databases", !component.sqlite_databases.is_empty()),
        ("ai_models", !component.ai_models.is_empty()),
        ("dependencies", !component.dependencies.is_empty()),
        (
            "allowed_http_hosts",
            !component.allowed_http_hosts.is_empty(),
        ),
    ];
    for (field, used) in unsupported {
        if used {
            bail!("component {id:?} uses `{field}`, which spincart-host does not support");
        }
    }
    // Spin's `kebab_or_snake_case` rule for store labels.
    if !component
        .key_value_stores
        .iter()
        .all(|label| check_kebab_id(label).is_ok() || check_snake_id(label).is_ok())
    {
        bail!("component {id:?}: invalid `key_value_stores`: expected kebab-case or snake_case");
    }
    for key in component.variables.keys() {
        check_lower_snake_id(key)
            .with_context(|| format!("component {id:?}: invalid variable name {key:?}"))?;
    }
    Ok(())
}

/// Spin's kebab-case id rule (component ids).
pub fn check_kebab_id(id: &str) -> anyhow::Result<()> {
    check_id(id, '-', false)
}

/// Spin's snake_case rule (key-value store labels).
pub fn check_snake_id(id: &str) -> anyhow::Result<()> {
    check_id(id, '_', false)
}

/// Spin's lower snake_case rule (variable names).
pub fn check_lower_snake_id(id: &str) -> anyhow::Result<()> {
    check_id(id, '_', true)
}

fn check_id(id: &str, delim: char, lower: bool) -> anyhow::Result<()> {
    if id.is_empty() {
        bail!("empty");
    }
    let wrong = if delim == '-' { '_' } else { '-' };
    if id.contains(wrong) {
        bail!("words must be separated with {delim:?}, not {wrong:?}");
    }
    for word in id.split(delim) {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            bail!("{delim:?}-separated words must not be empty");
        };
        if !first.is_ascii_alphabetic() {
            bail!("{delim:?}-separated words must start with an ASCII letter; got {first:?}");
        }
        let word_is_uppercase = first.is_ascii_uppercase();
        for ch in chars {
            if ch.is_ascii_digit() {
            } else if !ch.is_ascii_alphanumeric() {
                bail!("{delim:?}-separated words may only contain alphanumeric ASCII; got {ch:?}");
            } else if ch.is_ascii_uppercase() != word_is_uppercase {
                bail!("{delim:?}-separated words must be all lowercase or all UPPERCASE; got {word:?}");
            }
        }
        if lower && word_is_uppercase {
            bail!("Lower-case identifiers must be all lowercase; got {id:?}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<AppManifest> {
        AppManifest::from_str(text, PathBuf::from("."))
    }

    const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "app"
[variables]
db_url = { default = "postgres://localhost/app" }
secret = { required = true, secret = true }
[application.trigger.redis]
address = "redis://localhost:6379"
[[trigger.http]]
route = "/hello/..."
component = "hello"
[[trigger.redis]]
channel = "events"
component = "listener"
[component.hello]
source = "hello.wasm"
allowed_outbound_hosts = ["postgres://localhost"]
[component.hello.variables]
db_url = "{{ db_url }}"
[component.listener]
source = "listener.wasm"
"#;

    #[test]
    fn retaining_components_drops_the_others_and_their_triggers() {
        let mut manifest = parse(MINIMAL).unwrap();
        manifest.retain_components(&["listener".into()]).unwrap();
        assert!(manifest.http_triggers.is_empty());
        assert_eq!(manifest.redis_triggers.len(), 1);
        assert_eq!(manifest.components.keys().collect::<Vec<_>>(), ["listener"]);
    }

    #[test]
    fn errors_when_a_retained_component_is_not_in_the_app() {
        let mut manifest = parse(MINIMAL).unwrap();
        let error = manifest.retain_components(&["nope".into()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Specified component \"nope\" not found in application"
        );
    }

    #[test]
    fn parses_a_manifest_with_http_and_redis_triggers() {
        let manifest = parse(MINIMAL).unwrap();
        assert_eq!(manifest.application.name, "app");
        assert_eq!(manifest.http_triggers.len(), 1);
        assert_eq!(manifest.http_triggers[0].component, "hello");
        assert_eq!(manifest.redis_triggers[0].channel, "events");
        assert_eq!(
            manifest.redis_default_address.as_deref(),
            Some("redis://localhost:6379")
        );
        assert_eq!(
            manifest.components["hello"].variables["db_url"],
            "{{ db_url }}"
        );
    }

    #[test]
    fn errors_on_an_unknown_key_in_a_component() {
        let text = MINIMAL.replace(
            "source = \"hello.wasm\"",
            "source = \"hello.wasm\"\nsorce = 1",
        );
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert!(err.contains("unknown field `sorce`"), "{err}");
    }

    #[test]
    fn errors_on_an_unknown_key_at_the_top_level_and_in_application() {
        let err = format!(
            "{:#}",
            parse(&MINIMAL.replace("[application]", "extra = 1\n[application]")).unwrap_err()
        );
        assert!(err.contains("unknown field `extra`"), "{err}");
        let err = format!(
            "{:#}",
            parse(&MINIMAL.replace("name = \"app\"", "name = \"app\"\nnmae = 1")).unwrap_err()
        );
        assert!(err.contains("unknown field `nmae`"), "{err}");
    }

    #[test]
    fn errors_on_an_unknown_key_in_a_trigger() {
        let text = MINIMAL.replace(
            "route = \"/hello/...\"",
            "route = \"/hello/...\"\nmethod = \"GET\"",
        );
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert!(err.contains("unknown field `method`"), "{err}");
    }

    #[test]
    fn errors_on_a_variable_that_is_both_required_and_defaulted() {
        let text = MINIMAL.replace(
            "required = true, secret",
            "required = true, default = \"x\", secret",
        );
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert!(
            err.contains("must be `required` OR have a `default`"),
            "{err}"
        );
    }

    #[test]
    fn errors_on_a_trigger_naming_a_missing_component() {
        let text = MINIMAL.replace("component = \"listener\"", "component = \"nobody\"");
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert!(err.contains("no such component \"nobody\""), "{err}");
    }

    #[test]
    fn errors_on_the_wrong_manifest_version() {
        let text = MINIMAL.replace("spin_manifest_version = 2", "spin_manifest_version = \"1\"");
        assert!(format!("{:#}", parse(&text).unwrap_err()).contains("invalid manifest version"));
    }

    #[test]
    fn accepts_an_inline_component() {
        let text = MINIMAL.replace(
            "component = \"listener\"",
            "component = { source = \"inline.wasm\" }",
        );
        let manifest = parse(&text).unwrap();
        let id = &manifest.redis_triggers[0].component;
        assert_eq!(id, "inline-component1");
        assert!(manifest.components.contains_key(id));
    }

    #[test]
    fn kebab_ids_follow_spins_rules() {
        for good in [
            "a",
            "cart-add-item",
            "a1-b2",
            "FOO-bar",
            "on-inventory-reserved",
        ] {
            assert!(check_kebab_id(good).is_ok(), "{good}");
        }
        // Spin 4.0.2 (spin-serde's `Id`): every word starts with a letter; no ':'.
        for bad in [
            "", "1-2-3", "a-1", "a:b", "bad_id", "Foo", "a--b", "a-", "a+b",
        ] {
            assert!(check_kebab_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_value_store_labels_are_kebab_or_snake_case() {
        let with_labels = |labels: &str| {
            MINIMAL.replace(
                "[component.listener]\nsource = \"listener.wasm\"",
                &format!(
                    "[component.listener]\nsource = \"listener.wasm\"\nkey_value_stores = {labels}"
                ),
            )
        };
        let manifest = parse(&with_labels(r#"["default", "snake_case", "kebab-case"]"#)).unwrap();
        assert_eq!(
            manifest.components["listener"].key_value_stores,
            ["default", "snake_case", "kebab-case"]
        );
        let err = format!("{:#}", parse(&with_labels(r#"["b@dlabel"]"#)).unwrap_err());
        assert!(err.contains("expected kebab-case or snake_case"), "{err}");
        let err = format!(
            "{:#}",
            parse(&MINIMAL.replace(
                "source = \"listener.wasm\"",
                "source = \"listener.wasm\"\nkey-value-stores = [\"default\"]"
            ))
            .unwrap_err()
        );
        assert!(err.contains("unknown field `key-value-stores`"), "{err}");
    }

    #[test]
    fn files_are_patterns_or_source_destination_placements() {
        let text = MINIMAL.replace(
            "source = \"listener.wasm\"",
            "source = \"listener.wasm\"\nfiles = [\"static/*.css\", { source = \"dist\", destination = \"/\" }]\nexclude_files = [\"dist/*.map\"]",
        );
        let listener = &parse(&text).unwrap().components["listener"];
        assert_eq!(
            listener.files,
            [
                FilesMount::Pattern("static/*.css".into()),
                FilesMount::Placement {
                    source: "dist".into(),
                    destination: "/".into()
                }
            ]
        );
        assert_eq!(listener.exclude_files, ["dist/*.map"]);
        let misspelt = MINIMAL.replace(
            "source = \"listener.wasm\"",
            "source = \"listener.wasm\"\nfiles = [{ source = \"dist\", destinaton = \"/\" }]",
        );
        assert!(parse(&misspelt).is_err());
    }

    #[test]
    fn errors_on_the_features_this_host_does_not_implement() {
        for (field, value) in [
            ("sqlite_databases", "[\"default\"]"),
            ("ai_models", "[\"llama2-chat\"]"),
            ("allowed_http_hosts", "[\"example.com\"]"),
        ] {
            let text = MINIMAL.replace(
                "source = \"listener.wasm\"",
                &format!("source = \"listener.wasm\"\n{field} = {value}"),
            );
            let err = format!("{:#}", parse(&text).unwrap_err());
            assert!(err.contains(&format!("uses `{field}`")), "{err}");
        }
    }

    #[test]
    fn variable_names_are_lower_snake_case() {
        for good in ["db_url", "a1", "cart_lock_ttl_seconds"] {
            assert!(check_lower_snake_id(good).is_ok(), "{good}");
        }
        for bad in ["DB_URL", "db-url", "_x", "1a", "a__b"] {
            assert!(check_lower_snake_id(bad).is_err(), "{bad}");
        }
    }
}
