//! The languages of the interface (docs/DESIGN.md#languages): which one a request asks for,
//! and the conventions its figures follow. The REST API stays in English whatever the page's
//! language; only what a person reads is translated.

use serde::{Deserialize, Serialize};

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 tag, as in `<html lang>`: "en", "fr".
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language's own name, as its speakers write it in a menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    /// A language tag ("fr", "fr-CA", "EN_us") read by its primary subtag; `None` when it is
    /// not one of ours.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.code()))
    }

    /// The language an `Accept-Language` header prefers among ours: the highest weight wins,
    /// the first listed among equals; `q=0` refuses a language. `None` when it names none of
    /// ours (the caller falls back to English).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(u16, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), quality)
                .unwrap_or(0);
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The decimal separator: "1.5" / "1,5".
    pub fn decimal_point(self) -> char {
        match self {
            Lang::En => '.',
            Lang::Fr => ',',
        }
    }

    /// What separates groups of three digits: "1,234" / "1 234" (a narrow no-break space, as
    /// French typography and CLDR write it).
    pub fn group_separator(self) -> char {
        match self {
            Lang::En => ',',
            Lang::Fr => '\u{202f}',
        }
    }
}

/// An `Accept-Language` weight ("0.8", "1", "0.125") in thousandths; `None` if malformed.
fn quality(q: &str) -> Option<u16> {
    let q = q.trim();
    let (whole, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value = format!("{frac:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::parse(s).ok_or_else(|| format!("unknown language {s:?}: en or fr"))
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn tags_are_read_by_their_primary_subtag() {
        assert_eq!(Lang::parse("fr"), Some(Lang::Fr));
        assert_eq!(Lang::parse("fr-CA"), Some(Lang::Fr));
        assert_eq!(Lang::parse(" EN_us "), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::parse(""), None);
        assert_eq!("fr".parse::<Lang>(), Ok(Lang::Fr));
        assert!("frr".parse::<Lang>().is_err());
    }

    #[test]
    fn accept_language_picks_the_heaviest_of_ours() {
        let pick = Lang::from_accept_language;
        assert_eq!(pick("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"), Some(Lang::Fr));
        assert_eq!(pick("en-GB,fr;q=0.5"), Some(Lang::En));
        assert_eq!(pick("de-DE,de;q=0.9,fr;q=0.4,en;q=0.3"), Some(Lang::Fr));
        assert_eq!(pick("en;q=0.2, fr;q=0.8"), Some(Lang::Fr));
        assert_eq!(pick("fr;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(pick("fr, en"), Some(Lang::Fr));
        assert_eq!(pick("de, *;q=0.5"), None);
        assert_eq!(pick(""), None);
        assert_eq!(pick("fr;q=banana, en;q=0.5"), Some(Lang::En));
        assert_eq!(pick("fr;q=1.5"), None);
    }
}
