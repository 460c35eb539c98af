//! Dates as mail carries them: RFC 5322 `Date:` and `Received:` stamps in
//! local time with the UTC offset and zone name, as Postfix's `mail_date()`
//! writes them ("Sat, 21 Nov 2026 08:00:00 +0100 (CET)").

use std::time::SystemTime;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// `time` as an RFC 5322 date-time in the system's local time zone
/// (`TZ`, else /etc/localtime), with the zone abbreviation as a comment.
pub fn mail_date(time: SystemTime) -> String {
    mail_date_in(time, &TimeZone::system())
}

/// [`mail_date`] in a given zone.
pub fn mail_date_in(time: SystemTime, zone: &TimeZone) -> String {
    let ts = Timestamp::try_from(time).unwrap_or(Timestamp::UNIX_EPOCH);
    let zoned = ts.to_zoned(zone.clone());
    let abbrev = zone.to_offset_info(ts).abbreviation().to_owned();
    // Postfix pads the day with a space (strftime %e), as ctime does.
    let text = zoned.strftime("%a, %e %b %Y %H:%M:%S %z").to_string();
    if abbrev.is_empty() || abbrev.starts_with(['+', '-']) {
        text
    } else {
        format!("{text} ({abbrev})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn utc_date_has_zone_comment() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_219_200);
        assert_eq!(
            mail_date_in(t, &TimeZone::UTC),
            "Sat, 21 Nov 2026 00:00:00 +0000 (UTC)"
        );
    }

    #[test]
    fn single_digit_day_is_space_padded() {
        let t = UNIX_EPOCH + Duration::from_secs(1_793_750_400 + 3600);
        let zone = TimeZone::get("Europe/Berlin").expect("tzdata is installed");
        assert_eq!(
            mail_date_in(t, &zone),
            "Wed,  4 Nov 2026 02:00:00 +0100 (CET)"
        );
    }
}
