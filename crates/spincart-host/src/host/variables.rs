//! `fermyon:spin/variables@2.0.0`.

use crate::bindings::imports::fermyon::spin2_0_0::variables as v2;
use crate::runtime::HostState;
use crate::variables::VariableError;

impl v2::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, v2::Error>> {
        Ok(self
            .services
            .resolver
            .get(&self.component.id, &name)
            .map_err(|e| match e {
                VariableError::InvalidName(m) => v2::Error::InvalidName(m),
                VariableError::Undefined(m) => v2::Error::Undefined(m),
                VariableError::Provider(m) => v2::Error::Provider(m),
                e @ VariableError::InvalidTemplate(_) => v2::Error::Other(e.to_string()),
            }))
    }
}
