//! The SQLite side of [`Tx`]: rusqlite's cached statements, `$n` rewritten to `?n`.

use super::{Backend, DbResult, Row, Tx, Value, to_sqlite};
use rusqlite::types::{Value as SqlValue, ValueRef};
use std::sync::Arc;

pub struct SqliteTx<'a>(pub &'a rusqlite::Transaction<'a>);

fn bind(params: &[Value]) -> Vec<SqlValue> {
    params
        .iter()
        .map(|v| match v {
            Value::Null => SqlValue::Null,
            Value::Int(i) => SqlValue::Integer(*i),
            Value::Real(f) => SqlValue::Real(*f),
            Value::Text(s) => SqlValue::Text(s.clone()),
            Value::Bytes(b) => SqlValue::Blob(b.clone()),
        })
        .collect()
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> DbResult<u64> {
        let mut stmt = self.0.prepare_cached(&to_sqlite(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(bind(params)))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(&to_sqlite(sql))?;
        let names: Arc<[String]> = stmt.column_names().map(str::to_string).collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(bind(params)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(names.len());
            for i in 0..names.len() {
                values.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                });
            }
            out.push(Row::new(Arc::clone(&names), values));
        }
        Ok(out)
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}
