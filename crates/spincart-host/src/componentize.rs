//! Turns a wasip1 core module (what `cargo build --target wasm32-wasip1` gives for a spin-sdk
//! crate) into a component, as Spin does at load time: the module's `component-type` section
//! describes its WIT world, and the WASI preview 1 *reactor* adapter bridges its wasip1 imports
//! to WASI 0.2.

use anyhow::Context;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

/// Returns `bytes` unchanged when it is already a component, the adapted component otherwise.
pub fn componentize_if_necessary(bytes: &[u8]) -> anyhow::Result<std::borrow::Cow<'_, [u8]>> {
    if wasmparser::Parser::is_component(bytes) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    if !wasmparser::Parser::is_core_wasm(bytes) {
        anyhow::bail!("unable to determine wasm binary encoding");
    }
    let component = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(bytes)
        .context("reading the module's component-type section")?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .context("adding the WASI preview 1 reactor adapter")?
        .encode()
        .context("encoding the component")?;
    Ok(std::borrow::Cow::Owned(component))
}
