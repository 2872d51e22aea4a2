//! Human-readable figures for the pages, in the conventions of the page's language
//! (docs/DESIGN.md#languages): "1,234.5 GiB" / "1 234,5 Gio", "23.8 MiB/s" / "23,8 Mio/s".

use crate::lang::Lang;

/// A number with `decimals` digits after the point, its thousands grouped: "1,234.5" /
/// "1 234,5". Not finite numbers read as 0.
pub fn number(lang: Lang, value: f64, decimals: usize) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let negative = value < 0.0 && text.bytes().any(|b| matches!(b, b'1'..=b'9'));
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 2);
    if negative {
        out.push('-');
    }
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(lang.group_separator());
        }
        out.push(digit);
    }
    if !frac.is_empty() {
        out.push(lang.decimal_point());
        out.push_str(frac);
    }
    out
}

/// A whole count: "45,000" / "45 000".
pub fn count(lang: Lang, value: u64) -> String {
    number(lang, value as f64, 0)
}

/// The binary byte units: "B", "KiB"… / "o", "Kio"… (octets in French).
fn unit(lang: Lang, power: usize) -> &'static str {
    const EN: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    const FR: [&str; 6] = ["o", "Kio", "Mio", "Gio", "Tio", "Pio"];
    match lang {
        Lang::En => EN[power],
        Lang::Fr => FR[power],
    }
}

/// A figure and its unit: a plain space in English (the REST API's messages have always
/// read so), a no-break one in French, as its typography wants.
fn with_unit(lang: Lang, figure: String, unit: &str) -> String {
    format!("{figure}{}{unit}", unit_space(lang))
}

fn unit_space(lang: Lang) -> char {
    match lang {
        Lang::En => ' ',
        Lang::Fr => '\u{a0}',
    }
}

/// "512 MiB", "4.0 GiB", "1.5 TiB" / "512 Mio", "4,0 Gio", "1,5 Tio".
pub fn mib(lang: Lang, value: u64) -> String {
    let v = value as f64;
    match (1..=3).rev().find(|p| v >= 1024f64.powi(*p as i32)) {
        Some(p) => with_unit(
            lang,
            number(lang, v / 1024f64.powi(p as i32), 1),
            unit(lang, p + 2),
        ),
        None => with_unit(lang, count(lang, value), unit(lang, 2)),
    }
}

/// A percentage of `used` over `total`, clamped to 0..=100 for gauges.
pub fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (used as f64 * 100.0 / total as f64).clamp(0.0, 100.0)
    }
}

/// A share as "42 %" in French, "42%" in English.
pub fn pct(lang: Lang, value: f64, decimals: usize) -> String {
    match lang {
        Lang::En => format!("{}%", number(lang, value, decimals)),
        Lang::Fr => format!("{}\u{202f}%", number(lang, value, decimals)),
    }
}

/// "10 Gbit/s", "500 Mbit/s", "down" / "coupé".
pub fn link(lang: Lang, gbps: f64) -> String {
    if gbps <= 0.0 {
        match lang {
            Lang::En => "down".into(),
            Lang::Fr => "coupé".into(),
        }
    } else if gbps < 1.0 {
        with_unit(lang, number(lang, gbps * 1000.0, 0), "Mbit/s")
    } else {
        let decimals = if gbps.fract() == 0.0 { 0 } else { 1 };
        with_unit(lang, number(lang, gbps, decimals), "Gbit/s")
    }
}

/// Bytes as "740 KiB", "12.5 MiB", "3.2 GiB" / "740 Kio", "12,5 Mio", "3,2 Gio".
pub fn bytes(lang: Lang, value: f64) -> String {
    let v = if value.is_finite() {
        value.max(0.0)
    } else {
        0.0
    };
    match (1..=4).rev().find(|p| v >= 1024f64.powi(*p as i32)) {
        Some(1) => with_unit(lang, number(lang, v / 1024.0, 0), unit(lang, 1)),
        Some(p) => with_unit(
            lang,
            number(lang, v / 1024f64.powi(p as i32), 1),
            unit(lang, p),
        ),
        None => with_unit(lang, number(lang, v, 0), unit(lang, 0)),
    }
}

/// A transfer rate: "118.0 MiB/s" / "118,0 Mio/s".
pub fn rate(lang: Lang, bytes_per_s: f64) -> String {
    format!("{}/s", bytes(lang, bytes_per_s))
}

/// Seconds as "0.4 s", "42 s", "3 min 05 s", "2 h 10 min" ("0,4 s" in French).
pub fn duration(lang: Lang, seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    if s < 10.0 {
        with_unit(lang, number(lang, s, 1), "s")
    } else if s < 60.0 {
        with_unit(lang, number(lang, s, 0), "s")
    } else if s < 3600.0 {
        let sp = unit_space(lang);
        format!("{}{sp}min {:02}{sp}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        let sp = unit_space(lang);
        format!(
            "{}{sp}h {:02}{sp}min",
            count(lang, (s / 3600.0) as u64),
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

/// Seconds with one decimal, whatever their size: "75.3 s" / "75,3 s" (a prediction).
pub fn seconds(lang: Lang, seconds: f64) -> String {
    with_unit(lang, number(lang, seconds, 1), "s")
}

/// Whole milliseconds: "1,188 ms" / "1 188 ms" (a downtime).
pub fn millis(lang: Lang, ms: f64) -> String {
    with_unit(lang, number(lang, ms, 0), "ms")
}

/// A UTC date and time on a 24-hour clock: "2026-11-27 10:58:12 UTC" / "27/11/2026 10:58:12 UTC".
pub fn datetime(lang: Lang, ms: i64) -> String {
    let (y, mo, d, h, m, s) = civil(ms);
    match lang {
        Lang::En => format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02} UTC"),
        Lang::Fr => format!("{d:02}/{mo:02}/{y:04} {h:02}:{m:02}:{s:02} UTC"),
    }
}

/// A UTC time of day on a 24-hour clock: "14:05 UTC" (the same in both languages).
pub fn time_of_day(ms: i64) -> String {
    let (_, _, _, h, m, _) = civil(ms);
    format!("{h:02}:{m:02} UTC")
}

/// Year, month, day, hour, minute and second (UTC) of a time in ms since 1970-01-01.
fn civil(ms: i64) -> (i64, i64, i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    (y, mo, d, rem / 3600, (rem % 3600) / 60, rem % 60)
}

#[cfg(test)]
mod tests;
