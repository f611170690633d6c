//! Small helpers for ids and time.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new time-ordered id (UUIDv7), so ids sort by creation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

fn utc(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The UTC calendar day of a unix-millisecond time, as `YYYY-MM-DD`.
pub fn day_of(ms: i64) -> String {
    let d = utc(ms).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Midnight UTC on the first day of the month containing `ms`.
pub fn month_start_ms(ms: i64) -> i64 {
    let d = utc(ms)
        .date()
        .replace_day(1)
        .expect("day 1 exists in every month");
    (d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The first day of the month after the one containing `ms`, as `YYYY-MM-DD`.
pub fn next_month_day(ms: i64) -> String {
    let d = utc(ms).date();
    let (y, m) = match d.month() {
        time::Month::December => (d.year() + 1, 1),
        other => (d.year(), u8::from(other) + 1),
    };
    format!("{y:04}-{m:02}-01")
}

/// Checks a `YYYY-MM-DD` day.
pub fn is_day(s: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_months() {
        // 2026-11-23T22:06:41Z
        let ms = 1_795_471_601_000;
        assert_eq!(day_of(ms), "2026-11-23");
        assert_eq!(day_of(month_start_ms(ms)), "2026-11-01");
        assert_eq!(next_month_day(ms), "2026-12-01");
        assert!(is_day("2026-02-28") && !is_day("2026-02-30") && !is_day("x"));
    }
}
