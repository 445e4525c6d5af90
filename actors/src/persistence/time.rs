//! A timestamp that sorts correctly on both backends.
//!
//! sqlx writes `OffsetDateTime` to SQLite as RFC 3339 with a variable number of fractional digits,
//! which breaks text comparison (`13.5Z` sorts before `13Z`). Every timestamp here is UTC with
//! millisecond precision: fixed-width text on SQLite (the same form as the schema's default), a
//! native `timestamptz` on PostgreSQL, so both backends return identical values.

use serde::{Serialize, Serializer};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// A UTC instant with millisecond precision, as stored and as shown in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current instant, truncated to milliseconds.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Converts any instant to UTC milliseconds.
    pub fn from_datetime(value: OffsetDateTime) -> Self {
        let utc = value.to_offset(UtcOffset::UTC);
        let millis = utc.millisecond();
        Timestamp(utc.replace_millisecond(millis).unwrap_or(utc))
    }

    /// The instant as `time` sees it.
    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// This instant moved forward; saturates rather than overflowing.
    pub fn plus(self, by: Duration) -> Self {
        Timestamp(self.0.checked_add(time_duration(by)).unwrap_or(self.0))
    }

    /// This instant moved back; saturates rather than overflowing.
    pub fn minus(self, by: Duration) -> Self {
        Timestamp(self.0.checked_sub(time_duration(by)).unwrap_or(self.0))
    }

    /// The API form: RFC 3339, UTC, always three fractional digits (`2026-11-23T21:32:13.209Z`).
    pub fn to_rfc3339(self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.0.format(&format).unwrap_or_default()
    }

    /// Parses any RFC 3339 instant.
    pub fn parse(text: &str) -> Result<Self, time::error::Parse> {
        OffsetDateTime::parse(text, &Rfc3339).map(Self::from_datetime)
    }
}

fn time_duration(by: Duration) -> time::Duration {
    time::Duration::try_from(by).unwrap_or(time::Duration::MAX)
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Timestamp {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.to_rfc3339(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Timestamp::parse(text)?)
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let inner = <OffsetDateTime as Decode<Postgres>>::decode(value)?;
        Ok(Timestamp::from_datetime(inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_fixed_width_and_sorts() {
        let a = Timestamp::parse("2026-11-23T21:32:13Z").unwrap();
        let b = Timestamp::parse("2026-11-23T21:32:13.5Z").unwrap();
        assert_eq!(a.to_rfc3339(), "2026-11-23T21:32:13.000Z");
        assert_eq!(b.to_rfc3339(), "2026-11-23T21:32:13.500Z");
        assert!(a.to_rfc3339() < b.to_rfc3339());
    }

    #[test]
    fn truncates_to_milliseconds_and_normalises_offsets() {
        let t = Timestamp::parse("2026-11-24T04:32:13.209876+07:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-23T21:32:13.209Z");
    }
}
