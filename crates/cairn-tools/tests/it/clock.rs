use cairn_tools::clock::{at, now};
use jiff::Timestamp;

#[test]
fn utc_and_a_zone_for_a_known_instant() {
    let instant: Timestamp = "2026-03-01T12:00:00.750Z".parse().unwrap();
    let reading = at(instant, Some("Europe/Paris")).unwrap();
    assert_eq!(reading.utc, "2026-03-01T12:00:00Z");
    assert_eq!(reading.utc_weekday, "Sunday");
    assert_eq!(reading.unix_seconds, 1_772_366_400);
    let zone = reading.zone.unwrap();
    assert_eq!(zone.name, "Europe/Paris");
    assert_eq!(zone.local, "2026-03-01T13:00:00+01:00");
    assert_eq!(zone.offset, "+01:00");
    assert_eq!(zone.abbreviation, "CET");
    assert_eq!(zone.weekday, "Sunday");
}

#[test]
fn the_date_line_changes_the_weekday() {
    let instant: Timestamp = "2026-03-01T23:30:00Z".parse().unwrap();
    let zone = at(instant, Some("Pacific/Auckland")).unwrap().zone.unwrap();
    assert_eq!(zone.local, "2026-03-02T12:30:00+13:00");
    assert_eq!(zone.weekday, "Monday");
    let zone = at(instant, Some("utc")).unwrap().zone.unwrap();
    assert_eq!(zone.local, "2026-03-01T23:30:00+00:00");
    let zone = at(instant, Some("Asia/Kolkata")).unwrap().zone.unwrap();
    assert_eq!(zone.offset, "+05:30");
    let zone = at(instant, Some("America/St_Johns")).unwrap().zone.unwrap();
    assert_eq!(zone.offset, "-03:30");
}

#[test]
fn unknown_zones_are_refused_and_no_zone_is_utc_only() {
    let error = now(Some("Mars/Olympus_Mons")).unwrap_err().to_string();
    assert!(error.contains("unknown time zone"), "{error}");
    let reading = now(None).unwrap();
    assert!(reading.zone.is_none());
    assert!(reading.utc.ends_with('Z'), "{}", reading.utc);
    assert!(reading.unix_seconds > 1_700_000_000);
}
