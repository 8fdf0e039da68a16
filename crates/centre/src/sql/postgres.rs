//! The PostgreSQL side of [`Tx`]: a transaction on a pooled async connection, driven from the blocking thread the
//! unit of work runs on. Statements are prepared once per connection (the pool caches them); each value is bound as
//! the type PostgreSQL inferred for its parameter, and each column read back by its declared type.

use super::{Backend, DbError, DbResult, Row, Tx, Value};
use std::sync::Arc;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};

pub struct PgTx<'a, 'b> {
    pub tx: &'a deadpool_postgres::Transaction<'b>,
    pub rt: tokio::runtime::Handle,
}

/// A deadlock PostgreSQL broke, or a serialisation failure, is [`DbError::Retry`]; anything else as it is.
pub fn pg_error(e: tokio_postgres::Error) -> DbError {
    match e.code() {
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE => {
            DbError::Retry(e.to_string())
        }
        _ => DbError::Postgres(e),
    }
}

impl PgTx<'_, '_> {
    fn prepare(&mut self, sql: &str) -> DbResult<tokio_postgres::Statement> {
        self.rt.block_on(self.tx.prepare_cached(sql)).map_err(pg_error)
    }
}

impl Tx for PgTx<'_, '_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> DbResult<u64> {
        let stmt = self.prepare(sql)?;
        let bound = bind(params, stmt.params())?;
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b.as_ref()).collect();
        self.rt.block_on(self.tx.execute(&stmt, &refs)).map_err(pg_error)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>> {
        let stmt = self.prepare(sql)?;
        let bound = bind(params, stmt.params())?;
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b.as_ref()).collect();
        let rows = self.rt.block_on(self.tx.query(&stmt, &refs)).map_err(pg_error)?;
        let names: Arc<[String]> = stmt.columns().iter().map(|c| c.name().to_string()).collect();
        rows.iter().map(|r| read(r, &names)).collect()
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}

fn read(r: &tokio_postgres::Row, names: &Arc<[String]>) -> DbResult<Row> {
    let mut values = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let t = col.type_();
        let v = if *t == Type::INT8 {
            r.try_get::<_, Option<i64>>(i).map(|o| o.map(Value::Int))
        } else if *t == Type::INT4 {
            r.try_get::<_, Option<i32>>(i).map(|o| o.map(|v| Value::Int(v.into())))
        } else if *t == Type::INT2 {
            r.try_get::<_, Option<i16>>(i).map(|o| o.map(|v| Value::Int(v.into())))
        } else if *t == Type::BOOL {
            r.try_get::<_, Option<bool>>(i).map(|o| o.map(|v| Value::Int(v.into())))
        } else if *t == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i).map(|o| o.map(Value::Real))
        } else if *t == Type::FLOAT4 {
            r.try_get::<_, Option<f32>>(i).map(|o| o.map(|v| Value::Real(v.into())))
        } else if *t == Type::BYTEA {
            r.try_get::<_, Option<Vec<u8>>>(i).map(|o| o.map(Value::Bytes))
        } else if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::BPCHAR || *t == Type::NAME {
            r.try_get::<_, Option<String>>(i).map(|o| o.map(Value::Text))
        } else {
            // NUMERIC above all: reading it as a float or an integer would round it. Queries cast instead.
            return Err(DbError::Type {
                column: col.name().to_string(),
                want: "a column of a type the centre reads (cast NUMERIC to BIGINT or FLOAT8)",
                found: t.name().to_string(),
            });
        };
        values.push(v.map_err(pg_error)?.unwrap_or(Value::Null));
    }
    Ok(Row::new(Arc::clone(names), values))
}

/// Binds each value as the type PostgreSQL inferred for its parameter; a value that does not fit is an error,
/// never a silent conversion.
fn bind(params: &[Value], types: &[Type]) -> DbResult<Vec<Box<dyn ToSql + Sync>>> {
    if params.len() != types.len() {
        return Err(DbError::Shape(format!("{} parameters for {} placeholders", params.len(), types.len())));
    }
    params
        .iter()
        .zip(types)
        .enumerate()
        .map(|(n, (v, t))| -> DbResult<Box<dyn ToSql + Sync>> {
            let misfit = || DbError::Type {
                column: format!("${}", n + 1),
                want: "a value of the parameter's type",
                found: format!("{v:?} for {}", t.name()),
            };
            Ok(match v {
                Value::Null if *t == Type::INT8 => Box::new(None::<i64>),
                Value::Null if *t == Type::INT4 => Box::new(None::<i32>),
                Value::Null if *t == Type::INT2 => Box::new(None::<i16>),
                Value::Null if *t == Type::FLOAT8 => Box::new(None::<f64>),
                Value::Null if *t == Type::BOOL => Box::new(None::<bool>),
                Value::Null if *t == Type::BYTEA => Box::new(None::<Vec<u8>>),
                Value::Null => Box::new(None::<String>),
                Value::Int(i) if *t == Type::INT8 => Box::new(*i),
                Value::Int(i) if *t == Type::INT4 => Box::new(i32::try_from(*i).map_err(|_| misfit())?),
                Value::Int(i) if *t == Type::INT2 => Box::new(i16::try_from(*i).map_err(|_| misfit())?),
                Value::Int(i) if *t == Type::BOOL => Box::new(*i != 0),
                Value::Int(i) if *t == Type::FLOAT8 => Box::new(*i as f64),
                Value::Int(i) if *t == Type::TEXT || *t == Type::VARCHAR => Box::new(i.to_string()),
                Value::Real(f) if *t == Type::FLOAT8 => Box::new(*f),
                Value::Text(s) if *t != Type::BYTEA && *t != Type::INT8 && *t != Type::INT4 => Box::new(s.clone()),
                Value::Bytes(b) if *t == Type::BYTEA => Box::new(b.clone()),
                _ => return Err(misfit()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fraction_is_never_bound_to_an_integer_parameter() {
        assert!(bind(&[Value::Real(1.5)], &[Type::INT8]).is_err());
        assert!(bind(&[Value::Real(1.5)], &[Type::FLOAT8]).is_ok());
        assert!(bind(&[Value::Int(1 << 40)], &[Type::INT4]).is_err());
        assert!(bind(&[Value::Int(1)], &[]).is_err(), "a count mismatch is refused");
    }
}
