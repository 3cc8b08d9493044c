//! Key-value stores, as `spin up` provides them: the app's labelled stores, shared by every
//! instance, with the `"default"` store kept in SQLite in the app's state directory.
//!
//! Follows Spin 4.0.2 (`crates/factor-key-value`, `crates/key-value-spin`,
//! `crates/runtime-config`):
//!
//! * the state directory is `.spin/` next to `spin.toml` unless `--state-dir` names another;
//!   `--state-dir ""` leaves it unset and the default store then lives in memory;
//! * the default store is the file `sqlite_key_value.db` there, one table `spin_key_value`
//!   keyed by (store, key), opened on first use and then shared by the whole app;
//! * `"default"` is the only store this host defines (it reads no runtime config file), and an
//!   app whose component lists any other label does not start, with Spin's message
//!   ([`KeyValueStores::check_labels`]);
//! * a read larger than Spin's host buffer limit (128 MiB) fails, and SQLite's errors reach the
//!   guest as `other` with their debug text.
//!
//! ```no_run
//! # async fn example() -> Result<(), spincart_host::key_value::KeyValueError> {
//! use spincart_host::key_value::KeyValueStores;
//!
//! let stores = KeyValueStores::in_memory();
//! let store = stores.open("default").await?;
//! store.set("greeting", b"hello").await?;
//! assert_eq!(store.get("greeting").await?.as_deref(), Some(&b"hello"[..]));
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use rusqlite::Connection;

use crate::manifest::AppManifest;

/// The label of the store every `spin up` defines.
pub const DEFAULT_STORE: &str = "default";

/// The default store's file in the state directory (Spin's name).
pub const DEFAULT_STORE_FILE: &str = "sqlite_key_value.db";

/// Spin's limit on what the host buffers for one call (`spin_world::MAX_HOST_BUFFERED_BYTES`).
pub const MAX_RESULT_BYTES: usize = 128 << 20;

/// The errors of Spin's key-value interface (`fermyon:spin/key-value@2.0.0`'s `error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyValueError {
    #[error("too many stores are open")]
    StoreTableFull,
    #[error("no such store")]
    NoSuchStore,
    #[error("access denied")]
    AccessDenied,
    #[error("{0}")]
    Other(String),
}

/// Where an app keeps its state: Spin's `--state-dir`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StateDir {
    /// `.spin/` in the manifest's directory (no `--state-dir`).
    #[default]
    BesideManifest,
    /// None at all (`--state-dir ""`): the default store is in memory, gone when the app stops.
    Unset,
    /// This directory (relative paths start at the current directory).
    At(PathBuf),
}

impl StateDir {
    /// From the value of `--state-dir`, as Spin reads it: absent is the default, empty unsets.
    pub fn from_flag(value: Option<&str>) -> StateDir {
        match value {
            None => StateDir::BesideManifest,
            Some("") => StateDir::Unset,
            Some(path) => StateDir::At(PathBuf::from(path)),
        }
    }

    /// The absolute directory for an app whose manifest is in `app_dir`, if there is one.
    pub fn resolve(&self, app_dir: &Path) -> std::io::Result<Option<PathBuf>> {
        match self {
            StateDir::BesideManifest => Ok(Some(std::path::absolute(app_dir)?.join(".spin"))),
            StateDir::Unset => Ok(None),
            StateDir::At(path) => Ok(Some(std::path::absolute(path)?)),
        }
    }
}

/// The app's key-value stores by label, shared by every instance.
pub struct KeyValueStores {
    stores: HashMap<String, Arc<SqliteStores>>,
}

impl KeyValueStores {
    /// The stores of an app whose state directory is `state_dir`: `"default"` in
    /// `state_dir/sqlite_key_value.db` (the directory is made if missing), or in memory when
    /// there is no state directory. The database itself is opened on first use.
    pub fn new(state_dir: Option<&Path>) -> anyhow::Result<KeyValueStores> {
        let location = match state_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!(
                        "failed to create key value store's parent directory: '{}'",
                        dir.display()
                    )
                })?;
                Location::File(dir.join(DEFAULT_STORE_FILE))
            }
            None => Location::InMemory,
        };
        let mut stores = HashMap::new();
        stores.insert(
            DEFAULT_STORE.to_owned(),
            Arc::new(SqliteStores::new(location)),
        );
        Ok(KeyValueStores { stores })
    }

    /// Stores whose default lives in memory (no state directory).
    pub fn in_memory() -> KeyValueStores {
        Self::new(None).expect("an in-memory store needs no directory")
    }

    /// Whether `label` names a store of this app.
    pub fn is_defined(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }

    /// Refuses an app in which a component lists a store label that is not defined, as Spin
    /// does when the app starts.
    pub fn check_labels(&self, manifest: &AppManifest) -> anyhow::Result<()> {
        for (id, component) in &manifest.components {
            for label in &component.key_value_stores {
                anyhow::ensure!(
                    self.is_defined(label),
                    "unknown key_value_stores label {label:?} for component {id:?}"
                );
            }
        }
        Ok(())
    }

    /// Opens the store `label`; the caller has checked that the component may.
    pub async fn open(&self, label: &str) -> Result<Store, KeyValueError> {
        let backend = self
            .stores
            .get(label)
            .ok_or(KeyValueError::NoSuchStore)?
            .clone();
        let connection = blocking({
            let backend = backend.clone();
            move || backend.connection()
        })
        .await?;
        Ok(Store {
            label: label.to_owned(),
            connection,
        })
    }
}

/// Where a SQLite key-value database lives.
#[derive(Debug, Clone)]
enum Location {
    InMemory,
    File(PathBuf),
}

/// One SQLite database holding any number of labelled stores (Spin's `KeyValueSqlite`).
struct SqliteStores {
    location: Location,
    connection: OnceLock<Arc<Mutex<Connection>>>,
}

impl SqliteStores {
    fn new(location: Location) -> Self {
        Self {
            location,
            connection: OnceLock::new(),
        }
    }

    /// The shared connection, opened (and the table made) the first time.
    fn connection(&self) -> Result<Arc<Mutex<Connection>>, KeyValueError> {
        if let Some(connection) = self.connection.get() {
            return Ok(connection.clone());
        }
        let connection = match &self.location {
            Location::InMemory => Connection::open_in_memory(),
            Location::File(path) => Connection::open(path),
        }
        .map_err(other)?;
        connection
            .execute(
                "CREATE TABLE IF NOT EXISTS spin_key_value (
                    store TEXT NOT NULL,
                    key   TEXT NOT NULL,
                    value BLOB NOT NULL,
                    PRIMARY KEY (store, key)
                )",
                [],
            )
            .map_err(other)?;
        // Two first uses at once may both open; the first one kept wins, as in Spin.
        Ok(self
            .connection
            .get_or_init(|| Arc::new(Mutex::new(connection)))
            .clone())
    }
}

/// An open store: one label in the app's database.
#[derive(Clone)]
pub struct Store {
    label: String,
    connection: Arc<Mutex<Connection>>,
}

impl Store {
    /// The value of `key`, if it has one.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KeyValueError> {
        self.read(key, MAX_RESULT_BYTES).await
    }

    /// The value of `key`, refused when larger than `limit` (it has been read by then: SQLite
    /// cannot stream one row, as Spin notes).
    async fn read(&self, key: &str, limit: usize) -> Result<Option<Vec<u8>>, KeyValueError> {
        let value = self
            .with_connection(key, |connection, label, key| {
                connection
                    .prepare_cached("SELECT value FROM spin_key_value WHERE store=$1 AND key=$2")
                    .map_err(other)?
                    .query_map([label, key], |row| row.get::<_, Vec<u8>>(0))
                    .map_err(other)?
                    .next()
                    .transpose()
                    .map_err(other)
            })
            .await?;
        let size = std::mem::size_of::<Option<Vec<u8>>>() + value.as_ref().map_or(0, Vec::len);
        if size > limit {
            return Err(too_large(limit));
        }
        Ok(value)
    }

    /// Sets `key` to `value`, replacing any value it had.
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), KeyValueError> {
        let value = value.to_vec();
        self.with_connection(key, move |connection, label, key| {
            connection
                .prepare_cached(
                    "INSERT INTO spin_key_value (store, key, value) VALUES ($1, $2, $3)
                     ON CONFLICT(store, key) DO UPDATE SET value=$3",
                )
                .map_err(other)?
                .execute(rusqlite::params![label, key, value])
                .map_err(other)
                .map(drop)
        })
        .await
    }

    /// Removes `key`; removing a key that is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), KeyValueError> {
        self.with_connection(key, |connection, label, key| {
            connection
                .prepare_cached("DELETE FROM spin_key_value WHERE store=$1 AND key=$2")
                .map_err(other)?
                .execute([label, key])
                .map_err(other)
                .map(drop)
        })
        .await
    }

    /// Whether `key` has a value (of any size, as in Spin).
    pub async fn exists(&self, key: &str) -> Result<bool, KeyValueError> {
        Ok(self.read(key, usize::MAX).await?.is_some())
    }

    /// Every key of the store, in no particular order.
    pub async fn get_keys(&self) -> Result<Vec<String>, KeyValueError> {
        self.with_connection("", |connection, label, _| {
            let mut size = std::mem::size_of::<Vec<String>>();
            connection
                .prepare_cached("SELECT key FROM spin_key_value WHERE store=$1")
                .map_err(other)?
                .query_map([label], |row| row.get::<_, String>(0))
                .map_err(other)?
                .map(|key| {
                    let key = key.map_err(other)?;
                    size += std::mem::size_of::<String>() + key.len();
                    if size > MAX_RESULT_BYTES {
                        Err(too_large(MAX_RESULT_BYTES))
                    } else {
                        Ok(key)
                    }
                })
                .collect()
        })
        .await
    }

    /// Runs `work` on the shared connection, off the async threads (SQLite blocks).
    async fn with_connection<T: Send + 'static>(
        &self,
        key: &str,
        work: impl FnOnce(&Connection, &str, &str) -> Result<T, KeyValueError> + Send + 'static,
    ) -> Result<T, KeyValueError> {
        let connection = self.connection.clone();
        let label = self.label.clone();
        let key = key.to_owned();
        blocking(move || {
            let connection = connection.lock().unwrap_or_else(|e| e.into_inner());
            work(&connection, &label, &key)
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeyValueError> + Send + 'static,
) -> Result<T, KeyValueError> {
    tokio::task::spawn_blocking(work).await.map_err(other)?
}

/// A backend failure as the guest sees it: `other` with the error's debug form (as Spin).
fn other(error: impl std::fmt::Debug) -> KeyValueError {
    tracing::warn!("key-value error: {error:?}");
    KeyValueError::Other(format!("{error:?}"))
}

fn too_large(limit: usize) -> KeyValueError {
    KeyValueError::Other(format!("query result exceeds limit of {limit} bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_store_round_trips_values_and_lists_its_keys() {
        let store = KeyValueStores::in_memory().open("default").await.unwrap();
        assert_eq!(store.get("bar").await, Ok(None));
        assert_eq!(store.exists("bar").await, Ok(false));
        store.set("bar", b"baz").await.unwrap();
        store.set("bar", b"wow").await.unwrap();
        store.set("qux", b"").await.unwrap();
        assert_eq!(store.get("bar").await, Ok(Some(b"wow".to_vec())));
        assert_eq!(store.get("qux").await, Ok(Some(Vec::new())));
        assert_eq!(store.exists("bar").await, Ok(true));
        let mut keys = store.get_keys().await.unwrap();
        keys.sort();
        assert_eq!(keys, ["bar", "qux"]);
        store.delete("bar").await.unwrap();
        store.delete("bar").await.unwrap();
        assert_eq!(store.get_keys().await, Ok(vec!["qux".to_owned()]));
    }

    #[tokio::test]
    async fn a_value_over_the_limit_is_refused_with_spins_message_but_still_exists() {
        let store = KeyValueStores::in_memory().open("default").await.unwrap();
        store.set("big", &[7; 64]).await.unwrap();
        let limit = std::mem::size_of::<Option<Vec<u8>>>() + 63;
        assert_eq!(
            store.read("big", limit).await,
            Err(KeyValueError::Other(format!(
                "query result exceeds limit of {limit} bytes"
            )))
        );
        assert_eq!(
            store.read("big", limit + 1).await.unwrap().unwrap().len(),
            64
        );
        assert_eq!(store.exists("big").await, Ok(true));
    }

    #[tokio::test]
    async fn every_open_of_a_label_sees_the_same_data() {
        let stores = KeyValueStores::in_memory();
        stores
            .open("default")
            .await
            .unwrap()
            .set("k", b"v")
            .await
            .unwrap();
        let again = stores.open("default").await.unwrap();
        assert_eq!(again.get("k").await, Ok(Some(b"v".to_vec())));
    }

    #[tokio::test]
    async fn a_label_without_a_store_is_no_such_store() {
        let stores = KeyValueStores::in_memory();
        assert!(!stores.is_defined("other"));
        assert_eq!(
            stores.open("other").await.err(),
            Some(KeyValueError::NoSuchStore)
        );
    }

    #[tokio::test]
    async fn the_default_store_is_a_file_in_the_state_dir_and_outlives_the_app() {
        let dir = std::env::temp_dir().join(format!("spincart-kv-{}", uuid::Uuid::new_v4()));
        let state_dir = dir.join("state");
        {
            let stores = KeyValueStores::new(Some(&state_dir)).unwrap();
            let store = stores.open("default").await.unwrap();
            store.set("kept", b"yes").await.unwrap();
        }
        assert!(state_dir.join(DEFAULT_STORE_FILE).is_file());
        let stores = KeyValueStores::new(Some(&state_dir)).unwrap();
        let store = stores.open("default").await.unwrap();
        assert_eq!(store.get("kept").await, Ok(Some(b"yes".to_vec())));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_state_dir_flag_follows_spin() {
        let app = Path::new("/apps/shop");
        assert_eq!(
            StateDir::from_flag(None).resolve(app).unwrap(),
            Some(PathBuf::from("/apps/shop/.spin"))
        );
        assert_eq!(StateDir::from_flag(Some("")).resolve(app).unwrap(), None);
        assert_eq!(
            StateDir::from_flag(Some("/var/state"))
                .resolve(app)
                .unwrap(),
            Some(PathBuf::from("/var/state"))
        );
        let relative = StateDir::from_flag(Some("state")).resolve(app).unwrap();
        assert_eq!(
            relative,
            Some(std::env::current_dir().unwrap().join("state"))
        );
    }

    #[test]
    fn an_app_listing_an_undefined_label_is_refused_with_spins_message() {
        let manifest = AppManifest::from_str(
            r#"
spin_manifest_version = 2
[application]
name = "kv"
[[trigger.http]]
route = "/..."
component = "probe"
[component.probe]
source = "probe.wasm"
key_value_stores = ["default", "other"]
"#,
            PathBuf::from("."),
        )
        .unwrap();
        let error = KeyValueStores::in_memory()
            .check_labels(&manifest)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown key_value_stores label \"other\" for component \"probe\""
        );
    }
}
