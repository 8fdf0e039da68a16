//! One small SQL interface over two back ends, so that every query of the centre is written once.
//!
//! Queries use PostgreSQL's `$1, $2, …` parameters, `ON CONFLICT … DO NOTHING` / `DO UPDATE`, `CASE` inside
//! aggregates and `CAST(… AS BIGINT)`: a dialect both SQLite and PostgreSQL accept (for SQLite, `$n` is rewritten
//! to `?n`). Values are the few types the centre stores: integers, text, bytes and NULL. Each unit of work runs in
//! one transaction ([`Db::call`](crate::db::Db::call)): committed when it returns `Ok`, rolled back otherwise.

use crate::error::{ApiError, ApiResult};

/// A value bound to or read from a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(v as i64)
    }
}
impl From<u16> for Value {
    fn from(v: u16) -> Value {
        Value::Int(v as i64)
    }
}
impl From<u8> for Value {
    fn from(v: u8) -> Value {
        Value::Int(v as i64)
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Int(v as i64)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(v as i64)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v)
    }
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

/// One result row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row(pub Vec<Value>);

fn wrong(i: usize, want: &str, got: &Value) -> ApiError {
    ApiError::internal(format!("column {i}: expected {want}, found {got:?}"))
}

impl Row {
    fn at(&self, i: usize) -> ApiResult<&Value> {
        self.0.get(i).ok_or_else(|| ApiError::internal(format!("no column {i}")))
    }

    pub fn int(&self, i: usize) -> ApiResult<i64> {
        match self.at(i)? {
            Value::Int(v) => Ok(*v),
            other => Err(wrong(i, "an integer", other)),
        }
    }

    pub fn opt_int(&self, i: usize) -> ApiResult<Option<i64>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            other => Err(wrong(i, "an integer or NULL", other)),
        }
    }

    pub fn u32(&self, i: usize) -> ApiResult<u32> {
        u32::try_from(self.int(i)?).map_err(ApiError::internal)
    }

    pub fn text(&self, i: usize) -> ApiResult<String> {
        match self.at(i)? {
            Value::Text(v) => Ok(v.clone()),
            other => Err(wrong(i, "text", other)),
        }
    }

    pub fn opt_text(&self, i: usize) -> ApiResult<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            other => Err(wrong(i, "text or NULL", other)),
        }
    }

    pub fn bytes(&self, i: usize) -> ApiResult<Vec<u8>> {
        match self.at(i)? {
            Value::Bytes(v) => Ok(v.clone()),
            other => Err(wrong(i, "bytes", other)),
        }
    }
}

/// A transaction on either back end.
pub trait Tx {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> ApiResult<u64>;
    fn query(&mut self, sql: &str, params: &[Value]) -> ApiResult<Vec<Row>>;

    fn query_opt(&mut self, sql: &str, params: &[Value]) -> ApiResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    fn query_one(&mut self, sql: &str, params: &[Value]) -> ApiResult<Row> {
        self.query_opt(sql, params)?.ok_or_else(|| ApiError::internal("a query that returns one row returned none"))
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

pub struct SqliteTx<'a>(pub &'a rusqlite::Transaction<'a>);

fn sqlite_params(params: &[Value]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|v| match v {
            Value::Null => rusqlite::types::Value::Null,
            Value::Int(i) => rusqlite::types::Value::Integer(*i),
            Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
            Value::Bytes(b) => rusqlite::types::Value::Blob(b.clone()),
        })
        .collect()
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> ApiResult<u64> {
        let mut stmt = self.0.prepare_cached(&to_sqlite(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(sqlite_params(params)))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> ApiResult<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(&to_sqlite(sql))?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(sqlite_params(params)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(v) => Value::Int(v),
                    rusqlite::types::ValueRef::Real(v) => Value::Int(v as i64),
                    rusqlite::types::ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    rusqlite::types::ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}

/// A PostgreSQL transaction, with the connection's cache of prepared statements: each distinct query is prepared
/// once per connection, so that a query costs one round trip, not two.
pub struct PgTx<'a, 'b> {
    pub tx: &'a mut postgres::Transaction<'b>,
    pub statements: &'a mut std::collections::HashMap<String, postgres::Statement>,
}

impl PgTx<'_, '_> {
    fn statement(&mut self, sql: &str) -> ApiResult<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql).map_err(pg_error)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn pg_error(e: postgres::Error) -> ApiError {
    ApiError::internal(e)
}

impl Tx for PgTx<'_, '_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> ApiResult<u64> {
        let stmt = self.statement(sql)?;
        let bound = pg_params(params, stmt.params())?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = bound.iter().map(|b| b.as_ref()).collect();
        self.tx.execute(&stmt, &refs).map_err(pg_error)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> ApiResult<Vec<Row>> {
        use postgres::types::Type;
        let stmt = self.statement(sql)?;
        let bound = pg_params(params, stmt.params())?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = bound.iter().map(|b| b.as_ref()).collect();
        let rows = self.tx.query(&stmt, &refs).map_err(pg_error)?;
        rows.iter()
            .map(|r| {
                let mut vals = Vec::with_capacity(r.len());
                for (i, col) in r.columns().iter().enumerate() {
                    let t = col.type_();
                    let v = if *t == Type::INT8 {
                        r.try_get::<_, Option<i64>>(i).map(|o| o.map(Value::Int))
                    } else if *t == Type::INT4 {
                        r.try_get::<_, Option<i32>>(i).map(|o| o.map(|v| Value::Int(v as i64)))
                    } else if *t == Type::INT2 {
                        r.try_get::<_, Option<i16>>(i).map(|o| o.map(|v| Value::Int(v as i64)))
                    } else if *t == Type::BOOL {
                        r.try_get::<_, Option<bool>>(i).map(|o| o.map(|v| Value::Int(v as i64)))
                    } else if *t == Type::NUMERIC {
                        return Err(ApiError::internal("NUMERIC columns are not used; cast to BIGINT"));
                    } else if *t == Type::BYTEA {
                        r.try_get::<_, Option<Vec<u8>>>(i).map(|o| o.map(Value::Bytes))
                    } else {
                        r.try_get::<_, Option<String>>(i).map(|o| o.map(Value::Text))
                    };
                    vals.push(v.map_err(pg_error)?.unwrap_or(Value::Null));
                }
                Ok(Row(vals))
            })
            .collect()
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}

/// Binds each value as the type PostgreSQL inferred for its parameter.
fn pg_params(
    params: &[Value],
    types: &[postgres::types::Type],
) -> ApiResult<Vec<Box<dyn postgres::types::ToSql + Sync>>> {
    use postgres::types::Type;
    if params.len() != types.len() {
        return Err(ApiError::internal(format!("{} parameters for {} placeholders", params.len(), types.len())));
    }
    params
        .iter()
        .zip(types)
        .map(|(v, t)| -> ApiResult<Box<dyn postgres::types::ToSql + Sync>> {
            Ok(match v {
                Value::Null if *t == Type::INT8 => Box::new(None::<i64>),
                Value::Null if *t == Type::INT4 => Box::new(None::<i32>),
                Value::Null if *t == Type::BYTEA => Box::new(None::<Vec<u8>>),
                Value::Null => Box::new(None::<String>),
                Value::Int(i) if *t == Type::INT4 => Box::new(i32::try_from(*i).map_err(ApiError::internal)?),
                Value::Int(i) if *t == Type::INT2 => Box::new(i16::try_from(*i).map_err(ApiError::internal)?),
                Value::Int(i) if *t == Type::BOOL => Box::new(*i != 0),
                Value::Int(i) if *t == Type::TEXT || *t == Type::VARCHAR => Box::new(i.to_string()),
                Value::Int(i) => Box::new(*i),
                Value::Text(s) => Box::new(s.clone()),
                Value::Bytes(b) => Box::new(b.clone()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_parameters_become_sqlite_numbered_ones_outside_strings() {
        assert_eq!(to_sqlite("SELECT $1, '$2' FROM t WHERE a = $2"), "SELECT ?1, '$2' FROM t WHERE a = ?2");
    }
}
