//! One small SQL interface over two back ends, so that every query of the centre is written once.
//!
//! Queries use PostgreSQL's `$1, $2, …` parameters, `ON CONFLICT … DO NOTHING` / `DO UPDATE`, `CASE` inside
//! aggregates and `CAST(… AS BIGINT)`: a dialect both SQLite and PostgreSQL accept (for SQLite, `$n` is rewritten
//! to `?n`). Values are the few types the centre stores: integers, text, bytes and NULL. Each unit of work runs in
//! one transaction ([`Db::call`](crate::db::Db::call)): committed when it returns `Ok`, rolled back otherwise.
//! Rows are read by column name. Failures are [`DbError`]s; what they mean over HTTP is decided in `error.rs`.

mod postgres;
mod sqlite;

pub use postgres::{PgTx, pg_error};
pub use sqlite::SqliteTx;

/// A value bound to or read from a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    /// A fractional number, kept whole: never rounded to an integer on the way in or out.
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// `impl From<$t> for Value`, each by the variant it becomes.
macro_rules! value_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from($v: $t) -> Value {
                $e
            }
        })*
    };
}

value_from! {
    i64 => |v| Value::Int(v),
    u32 => |v| Value::Int(v.into()),
    u16 => |v| Value::Int(v.into()),
    u8 => |v| Value::Int(v.into()),
    usize => |v| Value::Int(v as i64),
    bool => |v| Value::Int(v.into()),
    f64 => |v| Value::Real(v),
    String => |v| Value::Text(v),
    &str => |v| Value::Text(v.to_string()),
    &String => |v| Value::Text(v.clone()),
    Vec<u8> => |v| Value::Bytes(v),
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::sql::Value::from($v)),*][..] };
}

/// What the storage layer can fail with. The HTTP layer maps it (in `error.rs`); nothing here knows of HTTP.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}{detail}", detail = .0.as_db_error().map(|d| format!(": {}", d.message())).unwrap_or_default())]
    Postgres(#[from] tokio_postgres::Error),
    #[error("no PostgreSQL connection could be had from the pool: {0}")]
    Pool(String),
    /// Another transaction holds what this one needs (a deadlock, or a serialisation failure): safe to run again.
    #[error("the database asked for the transaction to be retried: {0}")]
    Retry(String),
    #[error("no column {0} in the result")]
    NoColumn(String),
    #[error("column {column}: expected {want}, found {found}")]
    Type { column: String, want: &'static str, found: String },
    #[error("{0}")]
    Shape(String),
}

impl DbError {
    /// Whether running the same transaction again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DbError::Retry(_))
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// A column of a result row, by name (`"last_seq"`) or, for the rare unnamed expression, by position.
pub trait Column: Copy + std::fmt::Display {
    fn index_in(self, names: &[String]) -> Option<usize>;
}

impl Column for usize {
    fn index_in(self, names: &[String]) -> Option<usize> {
        (self < names.len()).then_some(self)
    }
}

impl Column for &str {
    fn index_in(self, names: &[String]) -> Option<usize> {
        names.iter().position(|n| n == self)
    }
}

/// One result row: its values with the names of their columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    names: std::sync::Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub fn new(names: std::sync::Arc<[String]>, values: Vec<Value>) -> Row {
        Row { names, values }
    }

    fn at<C: Column>(&self, c: C) -> DbResult<&Value> {
        c.index_in(&self.names).and_then(|i| self.values.get(i)).ok_or_else(|| DbError::NoColumn(c.to_string()))
    }

    fn wrong<C: Column>(c: C, want: &'static str, got: &Value) -> DbError {
        DbError::Type { column: c.to_string(), want, found: format!("{got:?}") }
    }

    pub fn int<C: Column>(&self, c: C) -> DbResult<i64> {
        match self.at(c)? {
            Value::Int(v) => Ok(*v),
            other => Err(Self::wrong(c, "an integer", other)),
        }
    }

    pub fn opt_int<C: Column>(&self, c: C) -> DbResult<Option<i64>> {
        match self.at(c)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            other => Err(Self::wrong(c, "an integer or NULL", other)),
        }
    }

    pub fn u32<C: Column>(&self, c: C) -> DbResult<u32> {
        let v = self.int(c)?;
        u32::try_from(v).map_err(|_| DbError::Type {
            column: c.to_string(),
            want: "a 32-bit count",
            found: v.to_string(),
        })
    }

    /// A fractional number, exactly as stored (an integer column reads as its value).
    pub fn real<C: Column>(&self, c: C) -> DbResult<f64> {
        match self.at(c)? {
            Value::Real(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            other => Err(Self::wrong(c, "a number", other)),
        }
    }

    pub fn text<C: Column>(&self, c: C) -> DbResult<String> {
        match self.at(c)? {
            Value::Text(v) => Ok(v.clone()),
            other => Err(Self::wrong(c, "text", other)),
        }
    }

    pub fn opt_text<C: Column>(&self, c: C) -> DbResult<Option<String>> {
        match self.at(c)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            other => Err(Self::wrong(c, "text or NULL", other)),
        }
    }

    pub fn bytes<C: Column>(&self, c: C) -> DbResult<Vec<u8>> {
        match self.at(c)? {
            Value::Bytes(v) => Ok(v.clone()),
            other => Err(Self::wrong(c, "bytes", other)),
        }
    }
}

/// A transaction on either back end.
pub trait Tx {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> DbResult<u64>;
    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>>;

    fn query_opt(&mut self, sql: &str, params: &[Value]) -> DbResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    fn query_one(&mut self, sql: &str, params: &[Value]) -> DbResult<Row> {
        self.query_opt(sql, params)?.ok_or_else(|| DbError::Shape("a query that returns one row returned none".into()))
    }

    /// Which back end this is, for the rare statement that differs.
    fn backend(&self) -> Backend;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `$1` → `?1`, outside quoted strings.
pub fn to_sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(if c == '$' && !quoted { '?' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_parameters_become_sqlite_numbered_ones_outside_strings() {
        assert_eq!(to_sqlite("SELECT $1, '$2' FROM t WHERE a = $2"), "SELECT ?1, '$2' FROM t WHERE a = ?2");
    }

    #[test]
    fn a_row_is_read_by_column_name_and_says_which_column_is_missing_or_of_another_type() {
        let names: std::sync::Arc<[String]> = vec!["last_seq".to_string(), "last_hash".to_string()].into();
        let row = Row::new(names, vec![Value::Int(7), Value::Text("ab".into())]);
        assert_eq!(row.int("last_seq").ok(), Some(7));
        assert_eq!(row.text("last_hash").ok().as_deref(), Some("ab"));
        assert_eq!(row.int(0).ok(), Some(7));
        assert!(matches!(row.int("nope"), Err(DbError::NoColumn(c)) if c == "nope"));
        assert!(matches!(row.int("last_hash"), Err(DbError::Type { column, .. }) if column == "last_hash"));
    }

    #[test]
    fn a_fraction_is_read_back_whole() {
        let row = Row::new(vec!["km".to_string()].into(), vec![Value::from(1.75)]);
        assert_eq!(row.real("km").ok(), Some(1.75));
        assert!(row.int("km").is_err(), "a fraction never reads as a truncated integer");
    }
}
