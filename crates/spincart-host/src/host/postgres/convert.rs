//! Postgres values ⇄ `spin:postgres/postgres@4.0.0` values, with Spin's mapping (its
//! `factor-outbound-pg/src/types.rs`) and its failures: a `timestamptz` column is decoded as a
//! `NaiveDateTime` and so fails, as on Spin 4.0.2. The v3 and v2 interfaces convert to and from
//! these v4 values, as Spin does.

use anyhow::{anyhow, Context};
use bytes::{BufMut, BytesMut};
use chrono::{Datelike, Timelike};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};
use tokio_postgres::Row;

use crate::bindings::imports::spin::postgres4_0_0::postgres::{
    Column, DbDataType, DbValue, Interval as WitInterval, ParameterValue, RangeBoundKind,
};

/// A query parameter, boxed for tokio-postgres.
pub type SqlParam = Box<dyn ToSql + Send + Sync>;

pub fn convert_data_type(pg_type: &Type) -> DbDataType {
    match *pg_type {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(pg_type.name().to_owned()),
    }
}

/// The columns of a result, inferred from its first row (none when there are no rows).
pub fn infer_columns(row: &Row) -> Vec<Column> {
    row.columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            data_type: convert_data_type(c.type_()),
        })
        .collect()
}

pub fn convert_row(row: &Row) -> anyhow::Result<Vec<DbValue>> {
    (0..row.len()).map(|i| convert_entry(row, i)).collect()
}

fn db_value<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    convert: impl Fn(T) -> DbValue,
) -> anyhow::Result<DbValue> {
    let value: Option<T> = row.try_get(index)?;
    Ok(value.map(convert).unwrap_or(DbValue::DbNull))
}

fn try_db_value<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    convert: impl Fn(T) -> anyhow::Result<DbValue>,
) -> anyhow::Result<DbValue> {
    let value: Option<T> = row.try_get(index)?;
    value.map(convert).unwrap_or(Ok(DbValue::DbNull))
}

fn convert_entry(row: &Row, index: usize) -> anyhow::Result<DbValue> {
    let column = &row.columns()[index];
    match *column.type_() {
        Type::BOOL => db_value(row, index, DbValue::Boolean),
        Type::BYTEA => db_value(row, index, DbValue::Binary),
        Type::FLOAT4 => db_value(row, index, DbValue::Floating32),
        Type::FLOAT8 => db_value(row, index, DbValue::Floating64),
        Type::INT2 => db_value(row, index, DbValue::Int16),
        Type::INT4 => db_value(row, index, DbValue::Int32),
        Type::INT8 => db_value(row, index, DbValue::Int64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => db_value(row, index, DbValue::Str),
        // Spin decodes both timestamp types as NaiveDateTime; for timestamptz that is a type
        // error, which the guest sees as `query-failed`. Reproduced on purpose.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            try_db_value(row, index, |v: chrono::NaiveDateTime| {
                Ok(DbValue::Datetime((
                    v.year(),
                    v.month().try_into()?,
                    v.day().try_into()?,
                    v.hour().try_into()?,
                    v.minute().try_into()?,
                    v.second().try_into()?,
                    v.nanosecond(),
                )))
            })
        }
        Type::DATE => try_db_value(row, index, |v: chrono::NaiveDate| {
            Ok(DbValue::Date((
                v.year(),
                v.month().try_into()?,
                v.day().try_into()?,
            )))
        }),
        Type::TIME => try_db_value(row, index, |v: chrono::NaiveTime| {
            Ok(DbValue::Time((
                v.hour().try_into()?,
                v.minute().try_into()?,
                v.second().try_into()?,
                v.nanosecond(),
            )))
        }),
        Type::UUID => db_value(row, index, |v: uuid::Uuid| DbValue::Uuid(v.to_string())),
        Type::JSONB => try_db_value(row, index, |v: serde_json::Value| {
            Ok(DbValue::Jsonb(
                serde_json::to_vec(&v).context("invalid JSON from database")?,
            ))
        }),
        Type::NUMERIC => db_value(row, index, |v: rust_decimal::Decimal| {
            DbValue::Decimal(v.to_string())
        }),
        Type::INT4_RANGE => db_value(row, index, |v: postgres_range::Range<i32>| {
            DbValue::RangeInt32(range_to_wit(&v, |x| *x))
        }),
        Type::INT8_RANGE => db_value(row, index, |v: postgres_range::Range<i64>| {
            DbValue::RangeInt64(range_to_wit(&v, |x| *x))
        }),
        Type::NUM_RANGE => db_value(row, index, |v: postgres_range::Range<RangeableDecimal>| {
            DbValue::RangeDecimal(range_to_wit(&v, |x| x.0.to_string()))
        }),
        Type::INT4_ARRAY => db_value(row, index, DbValue::ArrayInt32),
        Type::INT8_ARRAY => db_value(row, index, DbValue::ArrayInt64),
        Type::NUMERIC_ARRAY => db_value(row, index, |v: Vec<Option<rust_decimal::Decimal>>| {
            DbValue::ArrayDecimal(v.iter().map(|d| d.map(|d| d.to_string())).collect())
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            db_value(row, index, DbValue::ArrayStr)
        }
        Type::INTERVAL => db_value(row, index, |v: Interval| DbValue::Interval(v.0)),
        _ => db_value(row, index, |v: Other| DbValue::Unsupported(v.0)),
    }
}

type WitBound<T> = Option<(T, RangeBoundKind)>;

fn range_to_wit<T, U>(
    range: &postgres_range::Range<T>,
    f: impl Fn(&T) -> U,
) -> (WitBound<U>, WitBound<U>)
where
    T: postgres_range::Normalizable + PartialOrd,
{
    fn bound<S: postgres_range::BoundSided, T, U>(
        b: Option<&postgres_range::RangeBound<S, T>>,
        f: &impl Fn(&T) -> U,
    ) -> WitBound<U> {
        b.map(|b| {
            let kind = match b.type_ {
                postgres_range::BoundType::Inclusive => RangeBoundKind::Inclusive,
                postgres_range::BoundType::Exclusive => RangeBoundKind::Exclusive,
            };
            (f(&b.value), kind)
        })
    }
    (bound(range.lower(), &f), bound(range.upper(), &f))
}

fn range_from_wit<T, U>(
    (lower, upper): &(WitBound<U>, WitBound<U>),
    f: impl Fn(&U) -> anyhow::Result<T>,
) -> anyhow::Result<postgres_range::Range<T>>
where
    T: postgres_range::Normalizable + PartialOrd,
{
    fn kind(k: &RangeBoundKind) -> postgres_range::BoundType {
        match k {
            RangeBoundKind::Inclusive => postgres_range::BoundType::Inclusive,
            RangeBoundKind::Exclusive => postgres_range::BoundType::Exclusive,
        }
    }
    let lower = match lower {
        Some((v, k)) => Some(postgres_range::RangeBound::new(f(v)?, kind(k))),
        None => None,
    };
    let upper = match upper {
        Some((v, k)) => Some(postgres_range::RangeBound::new(f(v)?, kind(k))),
        None => None,
    };
    Ok(postgres_range::Range::new(lower, upper))
}

/// `rust_decimal::Decimal` usable inside `postgres_range::Range` (NUMERIC bounds).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct RangeableDecimal(rust_decimal::Decimal);

impl postgres_range::Normalizable for RangeableDecimal {
    fn normalize<S>(
        bound: postgres_range::RangeBound<S, Self>,
    ) -> postgres_range::RangeBound<S, Self>
    where
        S: postgres_range::BoundSided,
    {
        bound
    }
}

impl<'a> FromSql<'a> for RangeableDecimal {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(rust_decimal::Decimal::from_sql(ty, raw)?))
    }
    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as FromSql>::accepts(ty)
    }
}

impl ToSql for RangeableDecimal {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }
    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as ToSql>::accepts(ty)
    }
    tokio_postgres::types::to_sql_checked!();
}

/// Postgres `interval`, in its binary form: microseconds, days, months.
#[derive(Debug, Clone, Copy)]
struct Interval(WitInterval);

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        if raw.len() != 16 {
            return Err("unexpected binary format for Postgres INTERVAL".into());
        }
        let micros = i64::from_be_bytes(raw[0..8].try_into()?);
        let days = i32::from_be_bytes(raw[8..12].try_into()?);
        let months = i32::from_be_bytes(raw[12..16].try_into()?);
        Ok(Interval(WitInterval {
            micros,
            days,
            months,
        }))
    }
    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INTERVAL)
    }
}

impl ToSql for Interval {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.put_i64(self.0.micros);
        out.put_i32(self.0.days);
        out.put_i32(self.0.months);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INTERVAL)
    }
    tokio_postgres::types::to_sql_checked!();
}

/// Any other value, as the raw bytes of its binary form (Spin's `unsupported(bytes)`).
struct Other(Vec<u8>);

impl<'a> FromSql<'a> for Other {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Other(raw.to_owned()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
struct PgNull;

impl ToSql for PgNull {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    fn to_sql_checked(
        &self,
        _: &Type,
        _: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }
}

/// A guest parameter as a tokio-postgres parameter; an error for values Spin itself refuses.
pub fn to_sql_parameter(value: &ParameterValue) -> anyhow::Result<SqlParam> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date((y, m, d)) => Box::new(
            chrono::NaiveDate::from_ymd_opt(*y, (*m).into(), (*d).into())
                .ok_or_else(|| anyhow!("invalid date y={y}, m={m}, d={d}"))?,
        ),
        ParameterValue::Time((h, min, s, ns)) => Box::new(
            chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*min).into(), (*s).into(), *ns)
                .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))?,
        ),
        ParameterValue::Datetime((y, mon, d, h, min, s, ns)) => {
            let date = chrono::NaiveDate::from_ymd_opt(*y, (*mon).into(), (*d).into())
                .ok_or_else(|| anyhow!("invalid date y={y}, m={mon}, d={d}"))?;
            let time =
                chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*min).into(), (*s).into(), *ns)
                    .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))?;
            Box::new(chrono::NaiveDateTime::new(date, time))
        }
        ParameterValue::Timestamp(v) => Box::new(
            chrono::DateTime::<chrono::Utc>::from_timestamp(*v, 0)
                .ok_or_else(|| anyhow!("invalid epoch timestamp {v}"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).with_context(|| format!("invalid UUID {v}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(v)))?,
        ),
        ParameterValue::Decimal(v) => Box::new(decimal(v)?),
        ParameterValue::RangeInt32(r) => Box::new(range_from_wit(r, |x: &i32| Ok(*x))?),
        ParameterValue::RangeInt64(r) => Box::new(range_from_wit(r, |x: &i64| Ok(*x))?),
        ParameterValue::RangeDecimal(r) => Box::new(range_from_wit(r, |x: &String| {
            Ok(RangeableDecimal(decimal(x)?))
        })?),
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(decimal).transpose())
                .collect::<anyhow::Result<Vec<Option<rust_decimal::Decimal>>>>()?,
        ),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::Interval(v) => Box::new(Interval(*v)),
        ParameterValue::DbNull => Box::new(PgNull),
    })
}

fn decimal(text: &str) -> anyhow::Result<rust_decimal::Decimal> {
    rust_decimal::Decimal::from_str_exact(text).with_context(|| format!("invalid decimal {text}"))
}

/// Conversions between the v4 types and the older interfaces, as in Spin's `conversions.rs`.
pub mod older {
    use crate::bindings::imports::fermyon::spin2_0_0::rdbms_types as v2;
    use crate::bindings::imports::spin::postgres3_0_0::postgres as v3;
    use crate::bindings::imports::spin::postgres4_0_0::postgres as v4;

    pub fn v3_param(p: v3::ParameterValue) -> v4::ParameterValue {
        use v3::ParameterValue as P;
        match p {
            P::Boolean(v) => v4::ParameterValue::Boolean(v),
            P::Int8(v) => v4::ParameterValue::Int8(v),
            P::Int16(v) => v4::ParameterValue::Int16(v),
            P::Int32(v) => v4::ParameterValue::Int32(v),
            P::Int64(v) => v4::ParameterValue::Int64(v),
            P::Floating32(v) => v4::ParameterValue::Floating32(v),
            P::Floating64(v) => v4::ParameterValue::Floating64(v),
            P::Str(v) => v4::ParameterValue::Str(v),
            P::Binary(v) => v4::ParameterValue::Binary(v),
            P::Date(v) => v4::ParameterValue::Date(v),
            P::Time(v) => v4::ParameterValue::Time(v),
            P::Datetime(v) => v4::ParameterValue::Datetime(v),
            P::Timestamp(v) => v4::ParameterValue::Timestamp(v),
            P::DbNull => v4::ParameterValue::DbNull,
        }
    }

    pub fn v2_param(p: v2::ParameterValue) -> Result<v4::ParameterValue, v2::Error> {
        use v2::ParameterValue as P;
        Ok(match p {
            P::Boolean(v) => v4::ParameterValue::Boolean(v),
            P::Int8(v) => v4::ParameterValue::Int8(v),
            P::Int16(v) => v4::ParameterValue::Int16(v),
            P::Int32(v) => v4::ParameterValue::Int32(v),
            P::Int64(v) => v4::ParameterValue::Int64(v),
            P::Floating32(v) => v4::ParameterValue::Floating32(v),
            P::Floating64(v) => v4::ParameterValue::Floating64(v),
            P::Str(v) => v4::ParameterValue::Str(v),
            P::Binary(v) => v4::ParameterValue::Binary(v),
            P::DbNull => v4::ParameterValue::DbNull,
            P::Uint8(_) | P::Uint16(_) | P::Uint32(_) | P::Uint64(_) => {
                return Err(v2::Error::ValueConversionFailed(
                    "Postgres does not support unsigned integers".to_owned(),
                ))
            }
        })
    }

    fn error_text(e: v4::QueryError) -> String {
        match e {
            v4::QueryError::Text(text) => text,
            v4::QueryError::DbError(e) => e.as_text,
        }
    }

    pub fn v3_error(e: v4::Error) -> v3::Error {
        match e {
            v4::Error::ConnectionFailed(m) => v3::Error::ConnectionFailed(m),
            v4::Error::BadParameter(m) => v3::Error::BadParameter(m),
            v4::Error::QueryFailed(q) => v3::Error::QueryFailed(error_text(q)),
            v4::Error::ValueConversionFailed(m) => v3::Error::ValueConversionFailed(m),
            v4::Error::Other(m) => v3::Error::Other(m),
        }
    }

    pub fn v2_error(e: v4::Error) -> v2::Error {
        match e {
            v4::Error::ConnectionFailed(m) => v2::Error::ConnectionFailed(m),
            v4::Error::BadParameter(m) => v2::Error::BadParameter(m),
            v4::Error::QueryFailed(q) => v2::Error::QueryFailed(error_text(q)),
            v4::Error::ValueConversionFailed(m) => v2::Error::ValueConversionFailed(m),
            v4::Error::Other(m) => v2::Error::Other(m),
        }
    }

    pub fn v3_row_set(r: v4::RowSet) -> v3::RowSet {
        v3::RowSet {
            columns: r
                .columns
                .into_iter()
                .map(|c| v3::Column {
                    name: c.name,
                    data_type: v3_type(c.data_type),
                })
                .collect(),
            rows: r
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(v3_value).collect())
                .collect(),
        }
    }

    fn v3_type(t: v4::DbDataType) -> v3::DbDataType {
        use v4::DbDataType as T;
        match t {
            T::Boolean => v3::DbDataType::Boolean,
            T::Int8 => v3::DbDataType::Int8,
            T::Int16 => v3::DbDataType::Int16,
            T::Int32 => v3::DbDataType::Int32,
            T::Int64 => v3::DbDataType::Int64,
            T::Floating32 => v3::DbDataType::Floating32,
            T::Floating64 => v3::DbDataType::Floating64,
            T::Str => v3::DbDataType::Str,
            T::Binary => v3::DbDataType::Binary,
            T::Date => v3::DbDataType::Date,
            T::Time => v3::DbDataType::Time,
            T::Datetime => v3::DbDataType::Datetime,
            T::Timestamp => v3::DbDataType::Timestamp,
            _ => v3::DbDataType::Other,
        }
    }

    fn v3_value(v: v4::DbValue) -> v3::DbValue {
        use v4::DbValue as V;
        match v {
            V::Boolean(x) => v3::DbValue::Boolean(x),
            V::Int8(x) => v3::DbValue::Int8(x),
            V::Int16(x) => v3::DbValue::Int16(x),
            V::Int32(x) => v3::DbValue::Int32(x),
            V::Int64(x) => v3::DbValue::Int64(x),
            V::Floating32(x) => v3::DbValue::Floating32(x),
            V::Floating64(x) => v3::DbValue::Floating64(x),
            V::Str(x) => v3::DbValue::Str(x),
            V::Binary(x) => v3::DbValue::Binary(x),
            V::Date(x) => v3::DbValue::Date(x),
            V::Time(x) => v3::DbValue::Time(x),
            V::Datetime(x) => v3::DbValue::Datetime(x),
            V::Timestamp(x) => v3::DbValue::Timestamp(x),
            V::DbNull => v3::DbValue::DbNull,
            _ => v3::DbValue::Unsupported,
        }
    }

    pub fn v2_row_set(r: v4::RowSet) -> v2::RowSet {
        v2::RowSet {
            columns: r
                .columns
                .into_iter()
                .map(|c| v2::Column {
                    name: c.name,
                    data_type: v2_type(c.data_type),
                })
                .collect(),
            rows: r
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(v2_value).collect())
                .collect(),
        }
    }

    fn v2_type(t: v4::DbDataType) -> v2::DbDataType {
        use v4::DbDataType as T;
        match t {
            T::Boolean => v2::DbDataType::Boolean,
            T::Int8 => v2::DbDataType::Int8,
            T::Int16 => v2::DbDataType::Int16,
            T::Int32 => v2::DbDataType::Int32,
            T::Int64 => v2::DbDataType::Int64,
            T::Floating32 => v2::DbDataType::Floating32,
            T::Floating64 => v2::DbDataType::Floating64,
            T::Str => v2::DbDataType::Str,
            T::Binary => v2::DbDataType::Binary,
            _ => v2::DbDataType::Other,
        }
    }

    fn v2_value(v: v4::DbValue) -> v2::DbValue {
        use v4::DbValue as V;
        match v {
            V::Boolean(x) => v2::DbValue::Boolean(x),
            V::Int8(x) => v2::DbValue::Int8(x),
            V::Int16(x) => v2::DbValue::Int16(x),
            V::Int32(x) => v2::DbValue::Int32(x),
            V::Int64(x) => v2::DbValue::Int64(x),
            V::Floating32(x) => v2::DbValue::Floating32(x),
            V::Floating64(x) => v2::DbValue::Floating64(x),
            V::Str(x) => v2::DbValue::Str(x),
            V::Binary(x) => v2::DbValue::Binary(x),
            V::DbNull => v2::DbValue::DbNull,
            _ => v2::DbValue::Unsupported,
        }
    }
}
