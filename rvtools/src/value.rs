//! Cell text read leniently (docs/IMPORT.md#values): numbers with thousands separators as
//! exports in any locale write them, `True`/`False` in any case, empty as unknown.

/// How a CSV file writes numbers: comma-separated files write `16,384` and `1.5`; files
/// saved in European locales separate fields with `;` and write `16.384` and `1,5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separators {
    /// Decimal point `.`, thousands `,`.
    Point,
    /// Decimal comma `,`, thousands `.`.
    Comma,
}

/// A number, or `None` for an empty cell; `Err` when the text is not a number. Spaces,
/// no-break spaces and apostrophes group thousands in every locale (`16 384`, `16'384`).
pub fn parse_number(text: &str, separators: Separators) -> Result<Option<f64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (group, decimal) = match separators {
        Separators::Point => (',', '.'),
        Separators::Comma => ('.', ','),
    };
    let mut plain = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c == group => {}
            ' ' | '\u{a0}' | '\u{202f}' | '\'' => {}
            c if c == decimal => plain.push('.'),
            c => plain.push(c),
        }
    }
    plain
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| format!("\"{text}\" is not a number"))
}

/// A yes/no cell: `True`/`False` in any case, `1`/`0`, `yes`/`no`; `None` when empty.
pub fn parse_bool(text: &str) -> Result<Option<bool>, String> {
    match text.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "true" | "1" | "yes" => Ok(Some(true)),
        "false" | "0" | "no" => Ok(Some(false)),
        _ => Err(format!("\"{}\" is not True or False", text.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_every_locale_an_export_is_saved_in() {
        let p = Separators::Point;
        let c = Separators::Comma;
        assert_eq!(parse_number("16,384", p), Ok(Some(16_384.0)));
        assert_eq!(parse_number("16.384", c), Ok(Some(16_384.0)));
        assert_eq!(parse_number("16 384", p), Ok(Some(16_384.0)));
        assert_eq!(parse_number("16\u{a0}384", c), Ok(Some(16_384.0)));
        assert_eq!(parse_number("1,5", c), Ok(Some(1.5)));
        assert_eq!(parse_number("2.375", p), Ok(Some(2.375)));
        assert_eq!(parse_number("1,234,567.5", p), Ok(Some(1_234_567.5)));
        assert_eq!(parse_number("-3", p), Ok(Some(-3.0)));
        assert_eq!(parse_number("  ", p), Ok(None));
        assert!(parse_number("12 GB", p).unwrap_err().contains("12 GB"));
        assert!(parse_number("NaN", p).is_err());
        assert!(parse_number("inf", p).is_err());
    }

    #[test]
    fn booleans_as_exports_write_them() {
        assert_eq!(parse_bool("True"), Ok(Some(true)));
        assert_eq!(parse_bool("TRUE"), Ok(Some(true)));
        assert_eq!(parse_bool("false"), Ok(Some(false)));
        assert_eq!(parse_bool("0"), Ok(Some(false)));
        assert_eq!(parse_bool(""), Ok(None));
        assert!(parse_bool("maybe").is_err());
    }
}
