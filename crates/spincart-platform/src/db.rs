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

/// A database failure; never shown to clients: [`DbError::Unavailable`] becomes a 503 with
/// `Retry-After`, anything else an opaque 500.
///
/// No API outcome depends on an error's SQLSTATE or fields: real Spin delivers an error raised
/// while a `query` produces rows as text only (`QueryError::Text`), so business refusals are
/// returned by the SQL as values (migration 0007) and the fields here are for the log.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached or has no connection to spare (`max_connections`).
    #[error("postgres unavailable: {0}")]
    Unavailable(String),
    #[error("postgres: {0}")]
    Postgres(String),
    #[error("postgres {code}: {message}")]
    Sql { code: String, message: String },
    #[error("decoding column {column}: {message}")]
    Decode { column: usize, message: String },
    #[error("expected one row, got none")]
    NoRow,
}

impl From<pg4::PgError> for DbError {
    fn from(e: pg4::PgError) -> Self {
        match e {
            pg4::PgError::ConnectionFailed(message) => DbError::Unavailable(message),
            pg4::PgError::QueryFailed(pg4::QueryError::DbError(db))
                if is_out_of_connections(&db.code) =>
            {
                DbError::Unavailable(db.message)
            }
            pg4::PgError::QueryFailed(pg4::QueryError::DbError(db)) => DbError::Sql {
                code: db.code,
                message: db.message,
            },
            other => DbError::Postgres(format!("{other:?}")),
        }
    }
}

/// SQLSTATEs of a server that has no connection to spare (`too_many_connections`,
/// `cannot_connect_now`); seen when a connection opens, which Spin reports structured.
fn is_out_of_connections(code: &str) -> bool {
    matches!(code, "53300" | "57P03")
}

thread_local! {
    /// The connection a finished [`Db`] left for the next one of the same request (its URL and
    /// the connection): on real Spin every `Connection::open` takes a connection from the
    /// component's pool and cleans it (seven statements), so a request that opens the database
    /// twice in turn — its idempotency record, then its work — pays that once.
    static IDLE: std::cell::RefCell<Option<(String, pg4::Connection)>> =
        const { std::cell::RefCell::new(None) };
}

/// Whether a statement's failure leaves the connection unusable for the next [`Db`]: anything
/// but an error PostgreSQL reported about the statement itself.
fn breaks_connection(e: &pg4::PgError) -> bool {
    !matches!(e, pg4::PgError::QueryFailed(pg4::QueryError::DbError(_)))
}

/// A connection to the app's database.
pub struct Db {
    /// Always `Some` until the `Db` is dropped, which may hand it on.
    connection: Option<pg4::Connection>,
    /// The URL it was opened for, and whether it may serve the next `Db` of the request once
    /// this one is done (not after an error that may have broken it).
    url: String,
    reusable: std::cell::Cell<bool>,
    /// A row read ahead by the transaction's first statement for a later query of the same
    /// transaction ([`Db::query_ahead`]), by key; cleared when the transaction ends.
    ahead: std::cell::RefCell<Option<(String, Option<OwnedRow>)>>,
    /// Events recorded ([`Db::record_event`]) and not yet written: they ride along with the
    /// next statement.
    unwritten: std::cell::RefCell<Vec<serde_json::Value>>,
}

/// Writes the events a statement carries (`$N`: a JSON array of them), in the order they were
/// recorded, stored as published already (see [`crate::events`]).
const WRITE_EVENTS: &str = "INSERT INTO messaging.events
        (event_id, event_type, schema_version, correlation_id, causation_id, aggregate_type,
         aggregate_id, aggregate_version, occurred_at, data, published_at)
    SELECT e.event_id, e.event_type, e.schema_version, e.correlation_id, e.causation_id,
           e.aggregate_type, e.aggregate_id, e.aggregate_version, e.occurred_at::timestamptz,
           a.event -> 'data', now()
      FROM jsonb_array_elements($PARAM::jsonb) WITH ORDINALITY AS a(event, n),
           jsonb_to_record(a.event) AS e(
           event_id uuid, event_type text, schema_version integer, correlation_id uuid,
           causation_id uuid, aggregate_type text, aggregate_id uuid, aggregate_version bigint,
           occurred_at text)
     ORDER BY a.n";

impl Db {
    /// Opens the database named by the component's `db_url` variable.
    pub fn connect() -> Result<Db, DbError> {
        let url = crate::config::require("db_url").map_err(|e| DbError::Postgres(e.to_string()))?;
        Self::connect_to(&url)
    }

    pub fn connect_to(url: &str) -> Result<Db, DbError> {
        let idle = IDLE.with(|idle| {
            let mut idle = idle.borrow_mut();
            match idle.take() {
                Some((for_url, connection)) if for_url == url => Some(connection),
                other => {
                    *idle = other;
                    None
                }
            }
        });
        let connection = match idle {
            Some(connection) => connection,
            None => pg4::Connection::open(url)?,
        };
        Ok(Db {
            connection: Some(connection),
            url: url.to_owned(),
            reusable: std::cell::Cell::new(true),
            ahead: std::cell::RefCell::new(None),
            unwritten: std::cell::RefCell::new(Vec::new()),
        })
    }

    /// The connection's `query`, remembering a failure that may have broken it.
    fn raw_query(&self, sql: &str, params: &[ParameterValue]) -> Result<pg4::RowSet, DbError> {
        self.connection()
            .query(sql, params)
            .map_err(|e| self.failed(e))
    }

    /// The connection's `execute`, remembering a failure that may have broken it.
    fn raw_execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, DbError> {
        self.connection()
            .execute(sql, params)
            .map_err(|e| self.failed(e))
    }

    fn connection(&self) -> &pg4::Connection {
        self.connection
            .as_ref()
            .expect("a Db has its connection until it is dropped")
    }

    fn take_connection(&mut self) -> Option<pg4::Connection> {
        self.connection.take()
    }

    fn failed(&self, e: pg4::PgError) -> DbError {
        if breaks_connection(&e) {
            self.reusable.set(false);
        }
        DbError::from(e)
    }

    /// Records an event to write with this connection's next statement — a CTE in front of it,
    /// so that storing events costs no round trip of its own — or, when there is none before
    /// COMMIT (or [`Db::write_recorded`]), in a statement of its own. A statement that reads
    /// `messaging.events` itself is preceded by the write instead (a CTE's rows are not visible
    /// to the statement it is part of).
    pub fn record_event(&self, event: serde_json::Value) {
        self.unwritten.borrow_mut().push(event);
    }

    /// Writes the recorded events now, if there are any.
    pub fn write_recorded(&self) -> Result<(), DbError> {
        let events = std::mem::take(&mut *self.unwritten.borrow_mut());
        if events.is_empty() {
            return Ok(());
        }
        let sql = WRITE_EVENTS.replace("$PARAM", "$1");
        self.raw_execute(&sql, &[json(&serde_json::Value::Array(events))])?;
        Ok(())
    }

    /// The recorded events as a CTE for a statement with `params` (which gets them as its last
    /// parameter), or `None` when there are none or the statement must see them written.
    fn carried_events(
        &self,
        sql: &str,
        params: &[ParameterValue],
    ) -> Result<Option<(String, ParameterValue)>, DbError> {
        if self.unwritten.borrow().is_empty() {
            return Ok(None);
        }
        // Statements that read the event store — directly or through the function that does
        // (a CTE's rows are not visible to the statement it is part of).
        if sql.contains("messaging.events") || sql.contains("messaging.mark_processed") {
            self.write_recorded()?;
            return Ok(None);
        }
        let events = std::mem::take(&mut *self.unwritten.borrow_mut());
        let cte = WRITE_EVENTS.replace("$PARAM", &format!("${}", params.len() + 1));
        Ok(Some((cte, json(&serde_json::Value::Array(events)))))
    }

    /// Runs a statement that returns rows (`SELECT`, `… RETURNING`, `SELECT … FOR UPDATE`).
    ///
    /// The statement reaches the host wrapped by [`at_least_one_row`], so the host always
    /// produces at least one row, and the marker column is stripped here: Spin 4.0.0–4.0.2 never
    /// return from a synchronous `query` whose result has no rows (spinframework/spin#3671,
    /// fixed upstream by PR #3673 after 4.0.2).
    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, DbError> {
        self.query_with(&[], sql, params)
    }

    /// [`Db::query`] for a statement that puts data-modifying statements in its `WITH` list:
    /// PostgreSQL takes them only at the top level, so `ctes` ((name, statement) pairs) go first
    /// in the guard's own `WITH` list instead of inside the wrapped statement.
    pub fn query_with(
        &self,
        ctes: &[(&str, &str)],
        sql: &str,
        params: &[ParameterValue],
    ) -> Result<Rows, DbError> {
        let rows = match self.carried_events(sql, params)? {
            None => self.raw_query(&at_least_one_row_with(ctes, sql), params)?,
            Some((events, param)) => {
                let mut with_events = vec![("spincart_events", events.as_str())];
                with_events.extend_from_slice(ctes);
                let mut params = params.to_vec();
                params.push(param);
                self.raw_query(&at_least_one_row_with(&with_events, sql), &params)?
            }
        };
        Ok(Rows(strip_marker(rows)?))
    }

    /// Keeps `row` (`None`: the row read ahead does not exist) for the transaction's later
    /// [`Db::take_ahead`] with the same `key`: a statement that had to run anyway also read
    /// what a later one would have, saving a round trip.
    pub fn keep_ahead(&self, key: String, row: Option<OwnedRow>) {
        *self.ahead.borrow_mut() = Some((key, row));
    }

    /// The row kept for `key` in this transaction, once: `Some(None)` when it was read ahead
    /// and does not exist, `None` when nothing was read ahead for `key`.
    pub fn take_ahead(&self, key: &str) -> Option<Option<OwnedRow>> {
        let mut ahead = self.ahead.borrow_mut();
        if ahead.as_ref().is_some_and(|(k, _)| k == key) {
            ahead.take().map(|(_, row)| row)
        } else {
            None
        }
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
        let Some((events, param)) = self.carried_events(sql, params)? else {
            return self.raw_execute(sql, params);
        };
        let mut params = params.to_vec();
        params.push(param);
        self.raw_execute(&with_cte("spincart_events", &events, sql), &params)
    }

    /// Runs `work` in a transaction: COMMIT when it returns `Ok`, ROLLBACK when it returns `Err`.
    pub fn transaction<T, E: From<DbError>>(
        &self,
        work: impl FnOnce(&Db) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_recorded()?;
        self.raw_execute("BEGIN", &[])?;
        let result = work(self);
        // What was read ahead was read under this transaction's locks: never past its end.
        self.ahead.borrow_mut().take();
        let result = match result {
            // Events recorded after the transaction's last statement are written before COMMIT.
            Ok(value) => self.write_recorded().map(|()| value).map_err(E::from),
            Err(e) => Err(e),
        };
        match result {
            Ok(value) => {
                self.raw_execute("COMMIT", &[])?;
                Ok(value)
            }
            Err(e) => {
                // What the transaction recorded goes with it.
                self.unwritten.borrow_mut().clear();
                if let Err(rollback) = self.raw_execute("ROLLBACK", &[]) {
                    // The transaction may still be open: never hand this connection on.
                    self.reusable.set(false);
                    eprintln!("rollback failed: {rollback}");
                }
                Err(e)
            }
        }
    }
}

/// `statement` with `name AS (cte)` first in its `WITH` list (a `WITH` put in front of a plain
/// statement; spliced into the list of one that has its own).
fn with_cte(name: &str, cte: &str, statement: &str) -> String {
    let trimmed = statement.trim_start();
    let has_with = trimmed.get(..5).is_some_and(|head| {
        head.eq_ignore_ascii_case("with ") || head.eq_ignore_ascii_case("with\n")
    });
    if has_with {
        format!("WITH {name} AS ({cte}\n), {}", &trimmed[5..])
    } else {
        format!("WITH {name} AS ({cte}\n) {trimmed}")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let unwritten = self.unwritten.get_mut();
        if !unwritten.is_empty() {
            eprintln!(
                "db: {} recorded events were never written (no statement followed them): a bug",
                unwritten.len()
            );
            return;
        }
        if !self.reusable.get() {
            return;
        }
        // Handed to the request's next `Db`, unless one is waiting already (this one is dropped
        // then: Spin returns it to the pool).
        let url = std::mem::take(&mut self.url);
        IDLE.with(|idle| {
            let mut idle = idle.borrow_mut();
            if idle.is_none() {
                if let Some(connection) = self.take_connection() {
                    *idle = Some((url, connection));
                }
            }
        });
    }
}

/// The name of the marker column [`at_least_one_row`] appends.
const MARKER: &str = "spincart_row_marker";

/// Wraps a row-returning statement so that its result always has at least one row.
///
/// Spin 4.0.0–4.0.2 deadlock on a synchronous `query` that returns zero rows
/// (spinframework/spin#3671): the host waits for the column list, which it only learns from a
/// first row. So every statement goes through here, in a CTE (which takes `SELECT`, `VALUES`,
/// `INSERT/UPDATE/DELETE … RETURNING` and `SELECT … FOR UPDATE` alike) left-joined to one
/// constant row:
///
/// ```text
/// WITH spincart_statement AS (<statement>)
/// SELECT r.* FROM (SELECT 1) one
///   LEFT JOIN (SELECT s.*, true AS spincart_row_marker FROM spincart_statement s) r ON true
/// ```
///
/// A statement with N ≥ 1 rows yields the same N rows (in the same order: a subquery with
/// `ORDER BY` is never flattened, and a join `ON true` can only be a nested loop with the one
/// row outside) plus a `true` marker; a statement with no rows yields one row of NULLs whose
/// marker is NULL. Column types are unchanged. [`strip_marker`] undoes it. A data-modifying
/// CTE inside the statement is refused by PostgreSQL at once (it must be top-level), so such a
/// statement fails loudly rather than misbehaving.
pub fn at_least_one_row(statement: &str) -> String {
    at_least_one_row_with(&[], statement)
}

/// [`at_least_one_row`] with `ctes` first in the `WITH` list (see [`Db::query_with`]).
pub fn at_least_one_row_with(ctes: &[(&str, &str)], statement: &str) -> String {
    let statement = statement.trim_end().trim_end_matches(';');
    let ctes: String = ctes
        .iter()
        .map(|(name, cte)| format!("{name} AS ({cte}\n), "))
        .collect();
    format!(
        "WITH {ctes}spincart_statement AS ({statement}\n) \
         SELECT spincart_rows.* FROM (SELECT 1) spincart_one \
         LEFT JOIN (SELECT spincart_statement.*, true AS {MARKER} FROM spincart_statement) spincart_rows ON true"
    )
}

/// Removes what [`at_least_one_row`] added: the marker column, and the row of NULLs that
/// stands for an empty result.
fn strip_marker(mut set: pg4::RowSet) -> Result<pg4::RowSet, DbError> {
    let marker_is_last = set.columns.last().is_some_and(|c| c.name == MARKER);
    if !marker_is_last {
        return Err(DbError::Postgres(format!(
            "the {MARKER} column is missing from a wrapped statement's result"
        )));
    }
    set.columns.pop();
    if set.rows.len() == 1 && matches!(set.rows[0].last(), Some(DbValue::DbNull)) {
        set.rows.clear();
    }
    for row in &mut set.rows {
        row.pop();
    }
    Ok(set)
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

    /// The rows, owned.
    pub fn into_owned(self) -> Vec<OwnedRow> {
        self.0.rows.into_iter().map(OwnedRow).collect()
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
    /// The row from column `first` on (`None` when that column is NULL: an outer join found
    /// nothing there).
    pub fn split_off(&mut self, first: usize) -> Option<OwnedRow> {
        let tail = self.0.split_off(first.min(self.0.len()));
        match tail.first() {
            Some(DbValue::DbNull) | None => None,
            Some(_) => Some(OwnedRow(tail)),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_events_ride_in_front_of_any_statement() {
        assert_eq!(
            with_cte("ev", "INSERT 1", "UPDATE t SET a = 1"),
            "WITH ev AS (INSERT 1\n) UPDATE t SET a = 1"
        );
        assert_eq!(
            with_cte("ev", "INSERT 1", "  with x AS (SELECT 1) SELECT * FROM x"),
            "WITH ev AS (INSERT 1\n), x AS (SELECT 1) SELECT * FROM x"
        );
        assert_eq!(
            with_cte(
                "ev",
                "INSERT 1",
                "WITH\nlogged AS (INSERT 2) UPDATE t SET a = 1"
            ),
            "WITH ev AS (INSERT 1\n), logged AS (INSERT 2) UPDATE t SET a = 1"
        );
        // Not a WITH: a table named "without".
        assert_eq!(
            with_cte("ev", "INSERT 1", "SELECT * FROM without"),
            "WITH ev AS (INSERT 1\n) SELECT * FROM without"
        );
        assert!(WRITE_EVENTS
            .replace("$PARAM", "$3")
            .contains("jsonb_array_elements($3::jsonb)"));
    }

    fn column(name: &str) -> pg4::Column {
        pg4::Column {
            name: name.into(),
            data_type: pg4::DbDataType::Int32,
        }
    }

    fn result(rows: Vec<Vec<DbValue>>) -> pg4::RowSet {
        pg4::RowSet {
            columns: vec![column("id"), column(MARKER)],
            rows,
        }
    }

    #[test]
    fn data_modifying_ctes_stay_at_the_top_of_the_with_list_before_the_guards_own() {
        let wrapped = at_least_one_row_with(
            &[("mark", "INSERT INTO m VALUES ($1) ON CONFLICT DO NOTHING RETURNING id")],
            "SELECT mark.id, t.* FROM mark LEFT JOIN LATERAL (SELECT * FROM t FOR UPDATE) t ON true",
        );
        assert!(wrapped.starts_with(
            "WITH mark AS (INSERT INTO m VALUES ($1) ON CONFLICT DO NOTHING RETURNING id\n), \
             spincart_statement AS (SELECT mark.id, t.* FROM mark"
        ));
        assert_eq!(wrapped.matches("WITH ").count(), 1);
    }

    #[test]
    fn a_row_read_ahead_is_split_off_and_absent_when_its_first_column_is_null() {
        let mut found = OwnedRow(vec![
            DbValue::Int32(1),
            DbValue::Int32(7),
            DbValue::Int32(8),
        ]);
        let ahead = found.split_off(1).expect("the row read ahead");
        assert_eq!(ahead.get::<i32>(0).unwrap(), 7);
        assert_eq!(found.get::<i32>(0).unwrap(), 1);
        let mut missing = OwnedRow(vec![DbValue::DbNull, DbValue::DbNull, DbValue::DbNull]);
        assert!(missing.split_off(1).is_none());
    }

    #[test]
    fn every_statement_is_wrapped_in_a_cte_left_joined_to_one_row() {
        let wrapped = at_least_one_row("SELECT id FROM t WHERE id = $1;  ");
        assert!(
            wrapped.starts_with("WITH spincart_statement AS (SELECT id FROM t WHERE id = $1\n)")
        );
        assert!(wrapped.contains("FROM (SELECT 1) spincart_one LEFT JOIN"));
        assert!(wrapped.contains(&format!("true AS {MARKER}")));
        assert!(!wrapped.contains(';'));
    }

    #[test]
    fn the_row_of_nulls_with_a_null_marker_stands_for_no_rows() {
        let stripped = strip_marker(result(vec![vec![DbValue::DbNull, DbValue::DbNull]])).unwrap();
        assert!(stripped.rows.is_empty());
        assert_eq!(stripped.columns.len(), 1);
        assert_eq!(stripped.columns[0].name, "id");
    }

    /// Rows as debug text (the binding's values have no `PartialEq`).
    fn shown(set: &pg4::RowSet) -> Vec<String> {
        set.rows.iter().map(|r| format!("{r:?}")).collect()
    }

    #[test]
    fn real_rows_lose_only_their_marker_and_keep_their_order() {
        let marked = |id| vec![DbValue::Int32(id), DbValue::Boolean(true)];
        let stripped = strip_marker(result(vec![marked(3), marked(1), marked(2)])).unwrap();
        assert_eq!(
            shown(&stripped),
            [
                "[DbValue::Int32(3)]",
                "[DbValue::Int32(1)]",
                "[DbValue::Int32(2)]"
            ]
        );
    }

    #[test]
    fn a_null_real_row_is_kept_when_its_marker_is_true() {
        let stripped =
            strip_marker(result(vec![vec![DbValue::DbNull, DbValue::Boolean(true)]])).unwrap();
        assert_eq!(shown(&stripped), ["[DbValue::DbNull]"]);
    }

    #[test]
    fn a_result_without_the_marker_is_an_error() {
        let unwrapped = pg4::RowSet {
            columns: vec![column("id")],
            rows: vec![vec![DbValue::Int32(1)]],
        };
        assert!(matches!(strip_marker(unwrapped), Err(DbError::Postgres(_))));
    }
}
