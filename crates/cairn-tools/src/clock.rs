//! The current time, which a model cannot know: UTC, and optionally in an IANA time zone
//! (`Europe/Paris`). jiff carries the tz database (the system's, else its bundled copy), so
//! zone names work even in a container without `/usr/share/zoneinfo`.

use jiff::{Timestamp, tz::TimeZone};
use serde::Serialize;

use crate::ToolError;

/// What the clock tool answers. Times are RFC 3339 to the second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockReading {
    /// e.g. `2026-03-01T12:00:00Z`.
    pub utc: String,
    /// e.g. `Sunday`.
    pub utc_weekday: String,
    pub unix_seconds: i64,
    /// The time in the requested zone, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<ZoneTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneTime {
    /// The zone's IANA name as the database spells it.
    pub name: String,
    /// e.g. `2026-03-01T13:00:00+01:00`.
    pub local: String,
    pub weekday: String,
    /// e.g. `+01:00`.
    pub offset: String,
    /// e.g. `CET`, where the database has one.
    pub abbreviation: String,
}

/// The time now, in UTC and in `zone` if given.
pub fn now(zone: Option<&str>) -> Result<ClockReading, ToolError> {
    at(Timestamp::now(), zone)
}

/// The reading for a given instant; [`now`] with the clock made explicit, for tests.
pub fn at(instant: Timestamp, zone: Option<&str>) -> Result<ClockReading, ToolError> {
    let instant = Timestamp::from_second(instant.as_second())
        .expect("whole seconds of a valid timestamp are valid");
    let utc = instant.to_zoned(TimeZone::UTC);
    let zone = zone
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| zone_time(instant, name))
        .transpose()?;
    Ok(ClockReading {
        utc: instant.to_string(),
        utc_weekday: utc.strftime("%A").to_string(),
        unix_seconds: instant.as_second(),
        zone,
    })
}

fn zone_time(instant: Timestamp, name: &str) -> Result<ZoneTime, ToolError> {
    let tz = if name.eq_ignore_ascii_case("utc") || name == "Z" {
        TimeZone::UTC
    } else {
        TimeZone::get(name).map_err(|_| {
            ToolError::InvalidInput(format!(
                "unknown time zone {name:?}; use an IANA name such as Europe/Paris, America/New_York or UTC"
            ))
        })?
    };
    let zoned = instant.to_zoned(tz.clone());
    let offset = zoned.offset();
    Ok(ZoneTime {
        name: tz.iana_name().unwrap_or(name).to_string(),
        local: instant.display_with_offset(offset).to_string(),
        weekday: zoned.strftime("%A").to_string(),
        offset: format_offset(offset.seconds()),
        abbreviation: tz.to_offset_info(instant).abbreviation().to_string(),
    })
}

/// `+05:30`; jiff's own display drops zero minutes (`+01`), which RFC 3339 readers dislike.
fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}
