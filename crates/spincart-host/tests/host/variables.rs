//! Variables: defaults, provided values, templates, and Spin's errors.

use crate::support::TestHost;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "vars"
[variables]
greeting = { default = "hello" }
region = { default = "eu" }
token = { required = true }
[[trigger.http]]
route = "/..."
component = "probe"
[component.probe]
source = "{probe-http}"
environment = { MODE = "test" }
[component.probe.variables]
message = "{{ greeting }} from {{region}}"
token = "{{ token }}"
"#;

#[tokio::test]
async fn expands_templates_from_defaults_and_provided_values() {
    let host = TestHost::start(MANIFEST, &[("region", "us")]).await;
    let value = host.get_json("/var?name=message").await;
    assert_eq!(value["ok"], "hello from us");
}

#[tokio::test]
async fn a_required_variable_without_a_value_is_a_provider_error() {
    let host = TestHost::start(MANIFEST, &[]).await;
    let value = host.get_json("/var?name=token").await;
    assert_eq!(
        value["err"],
        "Error::Provider(\"no provider resolved required variable \\\"token\\\"\")"
    );
}

#[tokio::test]
async fn undeclared_and_invalid_names_get_spins_errors() {
    let host = TestHost::start(MANIFEST, &[("token", "t")]).await;
    let undeclared = host.get_json("/var?name=greeting").await;
    assert_eq!(
        undeclared["err"],
        "Error::Undefined(\"no variable for \\\"probe\\\".\\\"greeting\\\"\")"
    );
    let invalid = host.get_json("/var?name=Bad").await;
    assert!(invalid["err"]
        .as_str()
        .unwrap()
        .starts_with("Error::InvalidName("));
    assert_eq!(host.get_json("/var?name=token").await["ok"], "t");
}

#[tokio::test]
async fn gives_the_component_its_environment() {
    let host = TestHost::start(MANIFEST, &[]).await;
    assert_eq!(host.get_json("/env?name=MODE").await["value"], "test");
    assert_eq!(
        host.get_json("/env?name=HOME").await["value"],
        serde_json::Value::Null
    );
}
