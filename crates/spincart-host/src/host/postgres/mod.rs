//! `spin:postgres/postgres@4.0.0`, `@3.0.0` and `fermyon:spin/postgres@2.0.0`.
//!
//! Like Spin: pools of 64 connections — per component and address under the strict profile
//! (Spin 4), per address for the app under the lenient one (Spin 3) — and a `connection`
//! resource holds one pooled connection for its whole life, so `BEGIN` … `COMMIT` across calls
//! works. `query` streams the rows as Spin 4 does, so an error raised while rows are produced
//! reaches the guest as Spin 4's text, and (strict) a result with zero rows is refused at once
//! where Spin 4.0.2 would hang: see [`crate::profile`].
//!
//! Unlike Spin, and only as a safety net (components never rely on it): a connection dropped
//! while a transaction is open is rolled back before it returns to the pool. Prepared
//! statements are cached per pooled connection.

// The WIT `error` type (with its `db-error` record) is what the guest receives; it is large by
// design and returned as it is.
#![allow(clippy::result_large_err)]

mod convert;

use std::collections::HashMap;
use std::sync::Mutex;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use futures::TryStreamExt;
use tokio_postgres::types::ToSql;
use wasmtime::component::Resource;

use crate::bindings::imports::fermyon::spin2_0_0::postgres as v2;
use crate::bindings::imports::fermyon::spin2_0_0::rdbms_types as v2_types;
use crate::bindings::imports::spin::postgres3_0_0::postgres as v3;
use crate::bindings::imports::spin::postgres4_0_0::postgres as v4;
use crate::profile::{Profile, ZERO_ROW_QUERY};
use crate::runtime::HostState;

use convert::older;

/// Connection pools, shared by every instance of the app: keyed by component and address
/// under the strict profile (Spin 4 gives each component pools of its own), by address alone
/// under the lenient one (Spin 3).
pub struct PgPools {
    max_size: usize,
    profile: Profile,
    pools: Mutex<HashMap<(String, String), Pool>>,
}

impl PgPools {
    pub fn new(max_size: usize, profile: Profile) -> Self {
        Self {
            max_size,
            profile,
            pools: Mutex::new(HashMap::new()),
        }
    }

    /// How many pools there are (one per component and address under the strict profile).
    pub fn pools(&self) -> usize {
        self.pools.lock().expect("pg pool map poisoned").len()
    }

    /// Connections open now, idle or in use, over every pool.
    pub fn connections(&self) -> usize {
        let pools = self.pools.lock().expect("pg pool map poisoned");
        pools.values().map(|p| p.status().size).sum()
    }

    fn pool(&self, component: &str, address: &str) -> anyhow::Result<Pool> {
        let owner = match self.profile {
            Profile::Strict => component.to_owned(),
            Profile::Lenient => String::new(),
        };
        let key = (owner, address.to_owned());
        let mut pools = self.pools.lock().expect("pg pool map poisoned");
        if let Some(pool) = pools.get(&key) {
            return Ok(pool.clone());
        }
        let config: tokio_postgres::Config = address.parse()?;
        if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            anyhow::bail!("sslmode=require is not supported by spincart-host");
        }
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(self.max_size).build()?;
        pools.insert(key, pool.clone());
        Ok(pool)
    }

    async fn get(&self, component: &str, address: &str) -> anyhow::Result<Object> {
        let pool = self.pool(component, address)?;
        Ok(pool.get().await?)
    }
}

/// The open connections of one instance.
#[derive(Default)]
pub struct PgConnections {
    next_rep: u32,
    open: HashMap<u32, PgConnection>,
}

struct PgConnection {
    client: Object,
    transaction: TransactionTracker,
}

/// Whether the guest opened a transaction it has not ended, seen from its statements (each
/// `query`/`execute` is a single statement: the extended protocol allows no more).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct TransactionTracker {
    open: bool,
}

impl TransactionTracker {
    fn observe(&mut self, statement: &str) {
        let mut words = statement
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_uppercase);
        let first = words.next().unwrap_or_default();
        let second = words.next().unwrap_or_default();
        match first.as_str() {
            "BEGIN" | "START" => self.open = true,
            "COMMIT" | "END" | "ABORT" => self.open = false,
            // `ROLLBACK TO [SAVEPOINT] x` keeps the transaction open.
            "ROLLBACK" if second != "TO" => self.open = false,
            "PREPARE" if second == "TRANSACTION" => self.open = false,
            _ => {}
        }
    }
}

fn query_failed(e: tokio_postgres::Error) -> v4::Error {
    let flattened = format!("{e:?}");
    let query_error = match e.as_db_error() {
        None => v4::QueryError::Text(flattened),
        Some(db) => {
            let mut extras = Vec::new();
            macro_rules! extra {
                ($name:ident) => {
                    if let Some(value) = db.$name() {
                        extras.push((stringify!($name).to_owned(), value.to_string()));
                    }
                };
            }
            extra!(column);
            extra!(constraint);
            extra!(routine);
            extra!(hint);
            extra!(table);
            extra!(datatype);
            extra!(schema);
            extra!(file);
            extra!(line);
            extra!(where_);
            v4::QueryError::DbError(v4::DbError {
                as_text: flattened,
                severity: db.severity().to_owned(),
                code: db.code().code().to_owned(),
                message: db.message().to_owned(),
                detail: db.detail().map(str::to_owned),
                extras,
            })
        }
    };
    v4::Error::QueryFailed(query_error)
}

/// An error met while the rows of a `query` were being produced, as Spin 4 hands it over: the
/// structured error flattened into `QueryError::Text` with its debug form (Spin collects the
/// rows in an `anyhow` block and formats the error it ends with, whose `Display` is the
/// generated binding's `Debug`).
fn failed_while_streaming(e: tokio_postgres::Error) -> v4::Error {
    v4::Error::QueryFailed(v4::QueryError::Text(format!("{:?}", query_failed(e))))
}

impl HostState {
    /// Checks `address` against the component's allowed hosts, with Spin's messages.
    fn ensure_pg_address_allowed(&self, address: &str) -> Result<(), v4::Error> {
        let config = address
            .parse::<tokio_postgres::Config>()
            .map_err(|e| v4::Error::ConnectionFailed(e.to_string()))?;
        let allowed = match &self.component.allowed_hosts {
            Ok(allowed) => allowed,
            Err(e) => return Err(v4::Error::Other(e.clone())),
        };
        for (i, host) in config.get_hosts().iter().enumerate() {
            match host {
                tokio_postgres::config::Host::Tcp(host) => {
                    let ports = config.get_ports();
                    let port = ports.get(i).or_else(|| {
                        if ports.len() == 1 {
                            ports.first()
                        } else {
                            None
                        }
                    });
                    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                    let url = format!("{host}{port}");
                    if !allowed.allows_url(&url, "postgres") {
                        crate::host::report_denied(
                            &self.component.id,
                            &format!("postgres://{url}"),
                        );
                        return Err(v4::Error::ConnectionFailed(format!(
                            "address postgres://{url} is not permitted"
                        )));
                    }
                }
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(_) => {
                    return Err(v4::Error::ConnectionFailed(
                        "Unix sockets are not supported on WebAssembly".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    async fn pg_open(&mut self, address: String) -> Result<u32, v4::Error> {
        self.ensure_pg_address_allowed(&address)?;
        let client = self
            .services
            .pg
            .get(&self.component.id, &address)
            .await
            .map_err(|e| v4::Error::ConnectionFailed(format!("{e:?}")))?;
        let rep = self.pg.next_rep;
        self.pg.next_rep = self.pg.next_rep.wrapping_add(1);
        self.pg.open.insert(
            rep,
            PgConnection {
                client,
                transaction: TransactionTracker::default(),
            },
        );
        Ok(rep)
    }

    fn pg_connection(&mut self, rep: u32) -> Result<&mut PgConnection, v4::Error> {
        self.pg
            .open
            .get_mut(&rep)
            .ok_or_else(|| v4::Error::ConnectionFailed("no connection found".into()))
    }

    async fn pg_query(
        &mut self,
        rep: u32,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> Result<v4::RowSet, v4::Error> {
        let params = params
            .iter()
            .map(convert::to_sql_parameter)
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(|e| v4::Error::BadParameter(format!("{e:?}")))?;
        let profile = self.services.profile;
        let component = self.component.clone();
        let connection = self.pg_connection(rep)?;
        connection.transaction.observe(&statement);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
        let prepared = connection
            .client
            .prepare_cached(&statement)
            .await
            .map_err(query_failed)?;
        // Errors until execution starts are structured; errors while rows stream are not.
        let stream = connection
            .client
            .query_raw(&prepared, refs)
            .await
            .map_err(query_failed)?;
        let streaming_error = match profile {
            Profile::Strict => failed_while_streaming,
            Profile::Lenient => query_failed,
        };
        futures::pin_mut!(stream);
        let mut columns = None;
        let mut rows = Vec::new();
        while let Some(row) = stream.try_next().await.map_err(streaming_error)? {
            if columns.is_none() {
                columns = Some(convert::infer_columns(&row));
            }
            rows.push(
                convert::convert_row(&row)
                    .map_err(|e| v4::Error::QueryFailed(v4::QueryError::Text(format!("{e:?}"))))?,
            );
        }
        if rows.is_empty() && profile.is_strict() {
            tracing::error!(
                component = %component.id,
                %statement,
                "a synchronous Postgres query returned zero rows: real Spin 4.0.0-4.0.2 would hang here (spinframework/spin#3671)"
            );
            return Err(v4::Error::QueryFailed(v4::QueryError::Text(
                ZERO_ROW_QUERY.to_owned(),
            )));
        }
        Ok(v4::RowSet {
            columns: columns.unwrap_or_default(),
            rows,
        })
    }

    async fn pg_execute(
        &mut self,
        rep: u32,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> Result<u64, v4::Error> {
        let params = params
            .iter()
            .map(convert::to_sql_parameter)
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(|e| v4::Error::ValueConversionFailed(format!("{e:?}")))?;
        let connection = self.pg_connection(rep)?;
        connection.transaction.observe(&statement);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
        let prepared = connection
            .client
            .prepare_cached(&statement)
            .await
            .map_err(query_failed)?;
        connection
            .client
            .execute(&prepared, &refs)
            .await
            .map_err(query_failed)
    }

    fn pg_drop(&mut self, rep: u32) {
        if let Some(connection) = self.pg.open.remove(&rep) {
            if connection.transaction.open {
                tracing::warn!(
                    component = %self.component.id,
                    "a Postgres connection was dropped inside an open transaction; rolling it back"
                );
                // Roll back before the connection goes back to the pool.
                tokio::spawn(async move {
                    let client = connection.client;
                    if let Err(e) = client.batch_execute("ROLLBACK").await {
                        tracing::warn!("rollback of an abandoned transaction failed: {e}");
                    }
                    drop(client);
                });
            }
        }
    }
}

impl Drop for PgConnections {
    fn drop(&mut self) {
        for (_, connection) in self.open.drain() {
            if connection.transaction.open {
                tokio::spawn(async move {
                    let _ = connection.client.batch_execute("ROLLBACK").await;
                });
            }
        }
    }
}

impl v4::Host for HostState {}

impl v4::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<v4::Connection>, v4::Error>> {
        Ok(self.pg_open(address).await.map(Resource::new_own))
    }

    async fn query(
        &mut self,
        this: Resource<v4::Connection>,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> wasmtime::Result<Result<v4::RowSet, v4::Error>> {
        Ok(self.pg_query(this.rep(), statement, params).await)
    }

    async fn execute(
        &mut self,
        this: Resource<v4::Connection>,
        statement: String,
        params: Vec<v4::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v4::Error>> {
        Ok(self.pg_execute(this.rep(), statement, params).await)
    }

    async fn drop(&mut self, this: Resource<v4::Connection>) -> wasmtime::Result<()> {
        self.pg_drop(this.rep());
        Ok(())
    }
}

impl v3::Host for HostState {}

impl v3::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<v3::Connection>, v3::Error>> {
        Ok(self
            .pg_open(address)
            .await
            .map(Resource::new_own)
            .map_err(older::v3_error))
    }

    async fn query(
        &mut self,
        this: Resource<v3::Connection>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<v3::RowSet, v3::Error>> {
        let params = params.into_iter().map(older::v3_param).collect();
        Ok(self
            .pg_query(this.rep(), statement, params)
            .await
            .map(older::v3_row_set)
            .map_err(older::v3_error))
    }

    async fn execute(
        &mut self,
        this: Resource<v3::Connection>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v3::Error>> {
        let params = params.into_iter().map(older::v3_param).collect();
        Ok(self
            .pg_execute(this.rep(), statement, params)
            .await
            .map_err(older::v3_error))
    }

    async fn drop(&mut self, this: Resource<v3::Connection>) -> wasmtime::Result<()> {
        self.pg_drop(this.rep());
        Ok(())
    }
}

impl v2_types::Host for HostState {}
impl v2::Host for HostState {}

impl v2::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<v2::Connection>, v2_types::Error>> {
        Ok(self
            .pg_open(address)
            .await
            .map(Resource::new_own)
            .map_err(older::v2_error))
    }

    async fn query(
        &mut self,
        this: Resource<v2::Connection>,
        statement: String,
        params: Vec<v2_types::ParameterValue>,
    ) -> wasmtime::Result<Result<v2_types::RowSet, v2_types::Error>> {
        let params = match params.into_iter().map(older::v2_param).collect() {
            Ok(params) => params,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .pg_query(this.rep(), statement, params)
            .await
            .map(older::v2_row_set)
            .map_err(older::v2_error))
    }

    async fn execute(
        &mut self,
        this: Resource<v2::Connection>,
        statement: String,
        params: Vec<v2_types::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v2_types::Error>> {
        let params = match params.into_iter().map(older::v2_param).collect() {
            Ok(params) => params,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .pg_execute(this.rep(), statement, params)
            .await
            .map_err(older::v2_error))
    }

    async fn drop(&mut self, this: Resource<v2::Connection>) -> wasmtime::Result<()> {
        self.pg_drop(this.rep());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TransactionTracker;

    fn open_after(statements: &[&str]) -> bool {
        let mut tracker = TransactionTracker::default();
        statements.iter().for_each(|s| tracker.observe(s));
        tracker.open
    }

    #[test]
    fn a_begin_without_commit_leaves_a_transaction_open() {
        assert!(open_after(&["BEGIN", "INSERT INTO t VALUES (1)"]));
        assert!(open_after(&[
            "  start transaction isolation level serializable"
        ]));
    }

    #[test]
    fn commit_rollback_and_end_close_it() {
        assert!(!open_after(&["begin", "select 1", "commit"]));
        assert!(!open_after(&["BEGIN;", "ROLLBACK;"]));
        assert!(!open_after(&["BEGIN", "END"]));
        assert!(!open_after(&["BEGIN", "PREPARE TRANSACTION 'x'"]));
    }

    #[test]
    fn rolling_back_to_a_savepoint_keeps_it_open() {
        assert!(open_after(&[
            "BEGIN",
            "SAVEPOINT a",
            "ROLLBACK TO SAVEPOINT a"
        ]));
    }
}
