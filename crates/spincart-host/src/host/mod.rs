//! Spin's host interfaces, implemented on [`crate::runtime::HostState`].

pub mod http_outbound;
pub mod key_value;
pub mod postgres;
pub mod redis;
pub mod variables;

/// Tells the operator (not the guest) that a component tried to reach a destination it was not
/// granted, with the manifest change that would allow it — as Spin does.
pub(crate) fn report_denied(component: &str, destination: &str) {
    tracing::warn!(
        component,
        "A component tried to make an outbound network connection to disallowed destination '{destination}'. \
         To allow this request, add 'allowed_outbound_hosts = [\"{destination}\"]' to the manifest component section."
    );
}
