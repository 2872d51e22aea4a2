use super::*;
use crate::lang::Lang::{En, Fr};

/// The strings with plain spaces, to keep the expectations readable: a no-break space
/// (U+00A0) becomes "_", a narrow one (U+202F) "^".
fn show(s: String) -> String {
    s.replace('\u{a0}', "_").replace('\u{202f}', "^")
}

#[test]
fn numbers_group_thousands_and_use_the_languages_decimal_point() {
    assert_eq!(show(number(En, 1234.5, 1)), "1,234.5");
    assert_eq!(show(number(Fr, 1234.5, 1)), "1^234,5");
    assert_eq!(show(number(Fr, 1_234_567.0, 0)), "1^234^567");
    assert_eq!(show(number(En, 999.96, 1)), "1,000.0");
    assert_eq!(number(En, -12.34, 1), "-12.3");
    assert_eq!(number(En, -0.01, 1), "0.0");
    assert_eq!(number(Fr, f64::NAN, 1), "0,0");
    assert_eq!(show(count(Fr, 45_000)), "45^000");
    assert_eq!(count(En, 45_000), "45,000");
    assert_eq!(show(pct(Fr, 42.0, 0)), "42^%");
    assert_eq!(pct(En, 42.25, 1), "42.2%");
}

#[test]
fn sizes_pick_a_readable_unit_in_each_language() {
    assert_eq!(show(mib(En, 512)), "512 MiB");
    assert_eq!(show(mib(Fr, 512)), "512_Mio");
    assert_eq!(show(mib(En, 4096)), "4.0 GiB");
    assert_eq!(show(mib(Fr, 1536 * 1024)), "1,5_Tio");
    assert_eq!(show(mib(En, 2 << 30)), "2.0 PiB");
    assert_eq!(show(mib(Fr, 1_048_575)), "1^024,0_Gio");
    assert_eq!(show(bytes(En, 512.0)), "512 B");
    assert_eq!(show(bytes(Fr, 512.0)), "512_o");
    assert_eq!(show(bytes(Fr, 740.0 * 1024.0)), "740_Kio");
    assert_eq!(show(bytes(En, 3.0 * 1024.0 * 1024.0 * 1024.0)), "3.0 GiB");
    assert_eq!(show(bytes(Fr, -5.0)), "0_o");
    assert_eq!(percent(50, 200), 25.0);
    assert_eq!(percent(5, 0), 0.0);
    assert_eq!(percent(300, 200), 100.0);
}

#[test]
fn rates_and_links() {
    assert_eq!(show(rate(En, 118.0 * 1024.0 * 1024.0)), "118.0 MiB/s");
    assert_eq!(show(rate(Fr, 23.8 * 1024.0 * 1024.0)), "23,8_Mio/s");
    assert_eq!(link(En, 0.0), "down");
    assert_eq!(link(Fr, 0.0), "coupé");
    assert_eq!(show(link(En, 0.5)), "500 Mbit/s");
    assert_eq!(show(link(Fr, 25.0)), "25_Gbit/s");
    assert_eq!(show(link(Fr, 2.5)), "2,5_Gbit/s");
}

#[test]
fn durations() {
    assert_eq!(show(duration(En, 0.42)), "0.4 s");
    assert_eq!(show(duration(Fr, 0.42)), "0,4_s");
    assert_eq!(show(duration(Fr, 42.0)), "42_s");
    assert_eq!(show(duration(En, 185.0)), "3 min 05 s");
    assert_eq!(show(duration(Fr, 7_800.0)), "2_h 10_min");
    assert_eq!(show(duration(En, -3.0)), "0.0 s");
    assert_eq!(show(seconds(En, 75.25)), "75.2 s");
    assert_eq!(show(seconds(Fr, 1234.56)), "1^234,6_s");
    assert_eq!(show(millis(En, 1187.6)), "1,188 ms");
    assert_eq!(show(millis(Fr, 1187.6)), "1^188_ms");
}

#[test]
fn dates_on_a_24_hour_clock() {
    assert_eq!(datetime(En, 0), "1970-01-01 00:00:00 UTC");
    assert_eq!(datetime(En, 1_795_777_092_304), "2026-11-27 10:58:12 UTC");
    assert_eq!(datetime(Fr, 1_795_777_092_304), "27/11/2026 10:58:12 UTC");
    assert_eq!(datetime(Fr, 951_782_400_000), "29/02/2000 00:00:00 UTC");
    assert_eq!(datetime(En, 1_795_822_800_000), "2026-11-27 23:40:00 UTC");
    assert_eq!(time_of_day(1_795_822_800_000), "23:40 UTC");
}
