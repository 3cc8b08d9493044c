//! Postgres access for components, over `spin_sdk::pg4`.
//!
//! One [`Db`] is one connection (Spin keeps it for the life of the component instance), so a
//! transaction spans calls. [`Db::transaction`] always ends what it begins: COMMIT on `Ok`,
//! ROLLBACK on `Err` — a component never leaves a transaction open for the next request.
//!
//! Timestamps are stored as `timestamptz` and read through the SQL function `rfc3339(ts)`
//! (text), because Spin cannot decode `timestamptz` columns.

use spin_sdk::pg4::{self, DbValue, Decode, ParameterValue};

pub use spin_sdk::pg4::ParameterValue as Param;

/// A database failure; never shown to clients (it becomes an opaque 500) except where a caller
/// maps a specific SQLSTATE (e.g. a unique violation) to a 4xx.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("postgres: {0}")]
    Postgres(String),
    #[error("postgres {code}: {message}")]
    Sql {
        code: String,
        message: String,
        constraint: Option<String>,
    },
    #[error("decoding column {column}: {message}")]
    Decode { column: usize, message: String },
    #[error("expected one row, got none")]
    NoRow,
}

impl DbError {
    /// The SQLSTATE of a server error, e.g. `23505` for a unique violation.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            DbError::Sql { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether this is a unique violation (of `constraint`, when given).
    pub fn is_unique_violation(&self, constraint: Option<&str>) -> bool {
        match self {
            DbError::Sql {
                code,
                constraint: c,
                ..
            } if code == "23505" => constraint.is_none() || c.as_deref() == constraint,
            _ => false,
        }
    }

    /// Whether this is a raised application error with the given message prefix
    /// (`RAISE EXCEPTION 'insufficient_stock:%' ...` → `P0001`).
    pub fn raised(&self) -> Option<&str> {
        match self {
            DbError::Sql { code, message, .. } if code == "P0001" => Some(message),
            _ => None,
        }
    }
}

impl From<pg4::PgError> for DbError {
    fn from(e: pg4::PgError) -> Self {
        match e {
            pg4::PgError::QueryFailed(pg4::QueryError::DbError(db)) => {
                let constraint = db
                    .extras
                    .iter()
                    .find(|(k, _)| k == "constraint")
                    .map(|(_, v)| v.clone());
                DbError::Sql {
                    code: db.code,
                    message: db.message,
                    constraint,
                }
            }
            other => DbError::Postgres(format!("{other:?}")),
        }
    }
}

/// A connection to the app's database.
pub struct Db {
    connection: pg4::Connection,
}

impl Db {
    /// Opens the database named by the component's `db_url` variable.
    pub fn connect() -> Result<Db, DbError> {
        let url = crate::config::require("db_url").map_err(|e| DbError::Postgres(e.to_string()))?;
        Self::connect_to(&url)
    }

    pub fn connect_to(url: &str) -> Result<Db, DbError> {
        let connection = pg4::Connection::open(url)?;
        Ok(Db { connection })
    }

    /// Runs a statement that returns rows.
    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, DbError> {
        Ok(Rows(self.connection.query(sql, params)?))
    }

    /// The single row of a query; [`DbError::NoRow`] when there is none.
    pub fn query_one(&self, sql: &str, params: &[ParameterValue]) -> Result<OwnedRow, DbError> {
        self.query_opt(sql, params)?.ok_or(DbError::NoRow)
    }

    /// The first row of a query, if any.
    pub fn query_opt(
        &self,
        sql: &str,
        params: &[ParameterValue],
    ) -> Result<Option<OwnedRow>, DbError> {
        let rows = self.query(sql, params)?;
        Ok(rows.0.rows.into_iter().next().map(OwnedRow))
    }

    /// Runs a statement; returns the number of rows it affected.
    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, DbError> {
        Ok(self.connection.execute(sql, params)?)
    }

    /// Runs `work` in a transaction: COMMIT when it returns `Ok`, ROLLBACK when it returns `Err`.
    pub fn transaction<T, E: From<DbError>>(
        &self,
        work: impl FnOnce(&Db) -> Result<T, E>,
    ) -> Result<T, E> {
        self.execute("BEGIN", &[])?;
        match work(self) {
            Ok(value) => {
                self.execute("COMMIT", &[])?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = self.execute("ROLLBACK", &[]) {
                    eprintln!("rollback failed: {rollback}");
                }
                Err(e)
            }
        }
    }
}

/// The rows of a result.
pub struct Rows(pg4::RowSet);

impl Rows {
    pub fn len(&self) -> usize {
        self.0.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.0.rows.iter().map(|r| Row(r))
    }

    /// Maps every row, stopping at the first error.
    pub fn map<T>(&self, f: impl Fn(Row<'_>) -> Result<T, DbError>) -> Result<Vec<T>, DbError> {
        self.iter().map(f).collect()
    }
}

/// A borrowed row; columns are read by position.
#[derive(Clone, Copy)]
pub struct Row<'a>(&'a [DbValue]);

impl Row<'_> {
    pub fn get<T: Decode>(&self, column: usize) -> Result<T, DbError> {
        let value = self.0.get(column).ok_or(DbError::Decode {
            column,
            message: "no such column".into(),
        })?;
        T::decode(value).map_err(|e| DbError::Decode {
            column,
            message: e.to_string(),
        })
    }
}

/// An owned row.
pub struct OwnedRow(Vec<DbValue>);

impl OwnedRow {
    pub fn row(&self) -> Row<'_> {
        Row(&self.0)
    }

    pub fn get<T: Decode>(&self, column: usize) -> Result<T, DbError> {
        self.row().get(column)
    }
}

/// A UUID parameter.
pub fn uuid(id: impl Into<uuid::Uuid>) -> ParameterValue {
    ParameterValue::Uuid(id.into().to_string())
}

/// A text parameter.
pub fn text(value: impl Into<String>) -> ParameterValue {
    ParameterValue::Str(value.into())
}

/// An optional text parameter (NULL when absent).
pub fn opt_text(value: Option<impl Into<String>>) -> ParameterValue {
    value.map(text).unwrap_or(ParameterValue::DbNull)
}

/// A JSON (jsonb) parameter.
pub fn json(value: &serde_json::Value) -> ParameterValue {
    ParameterValue::Jsonb(serde_json::to_vec(value).expect("JSON serializes"))
}

/// Reads a UUID column into a typed id.
pub fn id<T: From<uuid::Uuid>>(row: Row<'_>, column: usize) -> Result<T, DbError> {
    Ok(T::from(row.get::<uuid::Uuid>(column)?))
}
