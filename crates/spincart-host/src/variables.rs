//! Application variables, resolved the way Spin resolves them.
//!
//! `[variables]` declares app variables (a `default` or `required = true`); a component's
//! `variables` table maps its own keys to templates such as `"{{ db_url }}"`. A value comes from
//! the environment (`SPIN_VARIABLE_<NAME>`, upper-cased, then a `.env` file in the working
//! directory), else the default. Errors carry Spin's texts, because components see them.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context};

use crate::manifest::{AppManifest, Variable};

/// Where values come from before defaults: the process environment and a `.env` file, or an
/// explicit map (tests, the per-component harness).
#[derive(Debug, Clone)]
pub enum Provider {
    /// `SPIN_VARIABLE_<NAME>` from the environment, then from `.env` in the working directory.
    Environment { dotenv: HashMap<String, String> },
    /// Fixed values by variable name (lower case), then the environment.
    Fixed(HashMap<String, String>, Box<Provider>),
}

impl Provider {
    /// The provider Spin uses by default.
    pub fn environment() -> Provider {
        Provider::Environment {
            dotenv: read_dotenv(".env"),
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        match self {
            Provider::Environment { dotenv } => {
                let key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
                std::env::var(&key)
                    .ok()
                    .or_else(|| dotenv.get(&key).cloned())
            }
            Provider::Fixed(values, next) => values.get(name).cloned().or_else(|| next.get(name)),
        }
    }
}

fn read_dotenv(path: &str) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            (k.trim().to_owned(), v.to_owned())
        })
        .collect()
}

/// A text with `{{ variable }}` parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, VariableError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| {
                VariableError::InvalidTemplate("unmatched '{{' in template".into())
            })?;
            parts.push(Part::Variable(after[..end].trim().to_owned()));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Template(parts))
    }

    /// Whether the text has no `{{ }}` parts.
    pub fn is_literal(&self) -> bool {
        self.0.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    fn variables(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Variable(v) => Some(v.as_str()),
            Part::Literal(_) => None,
        })
    }
}

/// Errors a component can receive from `fermyon:spin/variables.get`, with Spin's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    #[error("invalid variable name: {0}")]
    InvalidName(String),
    #[error("undefined variable: {0}")]
    Undefined(String),
    #[error("invalid variable template: {0}")]
    InvalidTemplate(String),
    #[error("provider error: {0}")]
    Provider(String),
}

/// Resolves app variables and every component's variable templates.
#[derive(Debug, Clone)]
pub struct Resolver {
    app_variables: BTreeMap<String, Variable>,
    component_variables: HashMap<String, HashMap<String, Template>>,
    provider: Provider,
}

impl Resolver {
    /// Checks every template of `manifest` against its `[variables]`.
    pub fn new(manifest: &AppManifest, provider: Provider) -> anyhow::Result<Resolver> {
        let mut component_variables = HashMap::new();
        for (id, component) in &manifest.components {
            let mut templates = HashMap::new();
            for (key, text) in &component.variables {
                let template = Template::parse(text)
                    .with_context(|| format!("component {id:?} variable {key:?}"))?;
                for name in template.variables() {
                    if !manifest.variables.contains_key(name) {
                        bail!("component {id:?} variable {key:?}: invalid variable template: unknown variable {name:?}");
                    }
                }
                templates.insert(key.clone(), template);
            }
            component_variables.insert(id.clone(), templates);
        }
        Ok(Resolver {
            app_variables: manifest.variables.clone(),
            component_variables,
            provider,
        })
    }

    /// `fermyon:spin/variables.get(key)` for `component`.
    pub fn get(&self, component: &str, key: &str) -> Result<String, VariableError> {
        validate_key(key)?;
        let templates = self.component_variables.get(component).ok_or_else(|| {
            VariableError::Undefined(format!("no variable for component {component:?}"))
        })?;
        let template = templates.get(key).ok_or_else(|| {
            VariableError::Undefined(format!("no variable for {component:?}.{key:?}"))
        })?;
        self.resolve(template)
    }

    /// Expands an app-level template (`allowed_outbound_hosts`, Redis trigger addresses).
    pub fn resolve_text(&self, text: &str) -> Result<String, VariableError> {
        let template = Template::parse(text)?;
        for name in template.variables() {
            if !self.app_variables.contains_key(name) {
                return Err(VariableError::InvalidTemplate(format!(
                    "unknown variable {name:?}"
                )));
            }
        }
        self.resolve(&template)
    }

    fn resolve(&self, template: &Template) -> Result<String, VariableError> {
        let mut out = String::new();
        for part in &template.0 {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(&self.value_of(name)?),
            }
        }
        Ok(out)
    }

    fn value_of(&self, name: &str) -> Result<String, VariableError> {
        if let Some(value) = self.provider.get(name) {
            return Ok(value);
        }
        match self.app_variables.get(name).and_then(|v| v.default.clone()) {
            Some(default) => Ok(default),
            None => Err(VariableError::Provider(format!(
                "no provider resolved required variable {name:?}"
            ))),
        }
    }

    /// Required variables that no provider gives a value to (a warning at start-up).
    pub fn unresolved_required(&self) -> Vec<String> {
        self.app_variables
            .iter()
            .filter(|(name, v)| v.required && self.provider.get(name).is_none())
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// Spin's variable-name check, with its messages.
pub fn validate_key(key: &str) -> Result<(), VariableError> {
    let reason = if key.is_empty() {
        Some("must not be empty".to_owned())
    } else if let Some(invalid) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!("invalid character {invalid:?}. Variable names may contain only lower-case letters, numbers, and underscores."))
    } else if !key.as_bytes()[0].is_ascii_lowercase() {
        Some("must start with a lowercase ASCII letter".to_owned())
    } else if !key.as_bytes()[key.len() - 1].is_ascii_alphanumeric() {
        Some("must end with a lowercase ASCII letter or digit".to_owned())
    } else if key.contains("__") {
        Some("must not contain multiple consecutive underscores".to_owned())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(VariableError::InvalidName(format!("{key:?}: {reason}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn resolver(fixed: &[(&str, &str)]) -> Resolver {
        let manifest = AppManifest::from_str(
            r#"
spin_manifest_version = 2
[application]
name = "app"
[variables]
host = { default = "localhost" }
port = { default = "5432" }
token = { required = true }
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "web.wasm"
[component.web.variables]
db_url = "postgres://{{ host }}:{{port}}/db"
token = "{{ token }}"
"#,
            PathBuf::from("."),
        )
        .unwrap();
        let fixed = fixed
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let provider = Provider::Fixed(
            fixed,
            Box::new(Provider::Fixed(
                HashMap::new(),
                Box::new(Provider::Environment {
                    dotenv: HashMap::new(),
                }),
            )),
        );
        Resolver::new(&manifest, provider).unwrap()
    }

    #[test]
    fn expands_templates_from_defaults_and_provided_values() {
        let r = resolver(&[("port", "55432")]);
        assert_eq!(
            r.get("web", "db_url").unwrap(),
            "postgres://localhost:55432/db"
        );
    }

    #[test]
    fn a_required_variable_without_a_value_is_a_provider_error() {
        let r = resolver(&[]);
        assert_eq!(
            r.get("web", "token"),
            Err(VariableError::Provider(
                "no provider resolved required variable \"token\"".into()
            ))
        );
        assert_eq!(r.unresolved_required(), vec!["token".to_string()]);
    }

    #[test]
    fn an_undeclared_key_is_undefined() {
        let r = resolver(&[]);
        assert_eq!(
            r.get("web", "nope"),
            Err(VariableError::Undefined(
                "no variable for \"web\".\"nope\"".into()
            ))
        );
    }

    #[test]
    fn invalid_names_get_spins_messages() {
        let r = resolver(&[]);
        assert_eq!(
            r.get("web", "Foo"),
            Err(VariableError::InvalidName("\"Foo\": invalid character 'F'. Variable names may contain only lower-case letters, numbers, and underscores.".into()))
        );
        assert_eq!(
            r.get("web", ""),
            Err(VariableError::InvalidName("\"\": must not be empty".into()))
        );
        assert_eq!(
            r.get("web", "1a"),
            Err(VariableError::InvalidName(
                "\"1a\": must start with a lowercase ASCII letter".into()
            ))
        );
        for bad in ["x_", "a__b", "x-y", "_x"] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unmatched_brace_is_an_invalid_template() {
        assert!(Template::parse("a {{ b").is_err());
        assert!(Template::parse("a }} b").unwrap().is_literal());
    }

    #[test]
    fn a_template_naming_an_unknown_app_variable_fails_at_load() {
        let manifest = AppManifest::from_str(
            r#"
spin_manifest_version = 2
[application]
name = "app"
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "web.wasm"
[component.web.variables]
x = "{{ nope }}"
"#,
            PathBuf::from("."),
        )
        .unwrap();
        let err = Resolver::new(&manifest, Provider::environment()).unwrap_err();
        assert!(
            err.to_string().contains("unknown variable \"nope\""),
            "{err}"
        );
    }
}
