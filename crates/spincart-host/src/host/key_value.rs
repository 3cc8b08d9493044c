//! `fermyon:spin/key-value@2.0.0`, as Spin's key-value factor binds it: `open` of a label the
//! component does not list in `key_value_stores` is `access-denied` (whether or not the store
//! exists); a listed label is then looked up among the app's stores (`no-such-store` if it has
//! none, which [`crate::key_value::KeyValueStores::check_labels`] rules out at start-up, as in
//! Spin). An open store is a handle to the app's shared store, valid until the guest drops it.

use std::collections::HashMap;

use wasmtime::component::Resource;

use crate::bindings::imports::fermyon::spin2_0_0::key_value as v2;
use crate::key_value::{KeyValueError, Store};
use crate::runtime::HostState;

/// The stores one instance has open.
#[derive(Default)]
pub struct OpenStores {
    next_rep: u32,
    open: HashMap<u32, Store>,
}

impl From<KeyValueError> for v2::Error {
    fn from(error: KeyValueError) -> Self {
        match error {
            KeyValueError::StoreTableFull => v2::Error::StoreTableFull,
            KeyValueError::NoSuchStore => v2::Error::NoSuchStore,
            KeyValueError::AccessDenied => v2::Error::AccessDenied,
            KeyValueError::Other(message) => v2::Error::Other(message),
        }
    }
}

impl HostState {
    /// The store behind a handle; a handle the host does not know traps, as in Spin.
    fn key_value_store(&self, this: &Resource<v2::Store>) -> wasmtime::Result<Store> {
        self.key_value
            .open
            .get(&this.rep())
            .cloned()
            .ok_or_else(|| wasmtime::Error::msg("invalid store"))
    }
}

impl v2::Host for HostState {}

impl v2::HostStore for HostState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<v2::Store>, v2::Error>> {
        if !self.component.key_value_stores.contains(&label) {
            return Ok(Err(v2::Error::AccessDenied));
        }
        let store = match self.services.key_value.open(&label).await {
            Ok(store) => store,
            Err(e) => return Ok(Err(e.into())),
        };
        let table = &mut self.key_value;
        while table.open.contains_key(&table.next_rep) {
            table.next_rep = table.next_rep.wrapping_add(1);
        }
        let rep = table.next_rep;
        table.next_rep = table.next_rep.wrapping_add(1);
        table.open.insert(rep, store);
        Ok(Ok(Resource::new_own(rep)))
    }

    async fn get(
        &mut self,
        this: Resource<v2::Store>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, v2::Error>> {
        let store = self.key_value_store(&this)?;
        Ok(store.get(&key).await.map_err(Into::into))
    }

    async fn set(
        &mut self,
        this: Resource<v2::Store>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let store = self.key_value_store(&this)?;
        Ok(store.set(&key, &value).await.map_err(Into::into))
    }

    async fn delete(
        &mut self,
        this: Resource<v2::Store>,
        key: String,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let store = self.key_value_store(&this)?;
        Ok(store.delete(&key).await.map_err(Into::into))
    }

    async fn exists(
        &mut self,
        this: Resource<v2::Store>,
        key: String,
    ) -> wasmtime::Result<Result<bool, v2::Error>> {
        let store = self.key_value_store(&this)?;
        Ok(store.exists(&key).await.map_err(Into::into))
    }

    async fn get_keys(
        &mut self,
        this: Resource<v2::Store>,
    ) -> wasmtime::Result<Result<Vec<String>, v2::Error>> {
        let store = self.key_value_store(&this)?;
        Ok(store.get_keys().await.map_err(Into::into))
    }

    async fn drop(&mut self, this: Resource<v2::Store>) -> wasmtime::Result<()> {
        self.key_value.open.remove(&this.rep());
        Ok(())
    }
}
