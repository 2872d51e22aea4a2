//! Validated value types: each is parsed once, at the edge, and is valid from then on.

use crate::Phrase;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The codes of the values' refusals (their English is the message a parse gives, so a page
/// recognises one in a decoding error: `Phrase::recognize`, docs/DESIGN.md#languages).
pub const VALUE_CODES: &[&str] = &[
    "value.name_empty",
    "value.name_space",
    "value.name_long",
    "value.name_printable",
    "value.size_positive",
    "value.size_max",
    "value.rate_range",
    "value.fraction_range",
    "value.link",
    "value.vlan",
];

/// The English of a value's refusal.
fn said(code: &str, args: &[(&str, String)]) -> String {
    Phrase::new(code, args).english
}

/// Longest accepted object name, in characters.
pub const NAME_MAX_CHARS: usize = 80;

/// An object name: 1 to 80 printable characters, no leading or trailing white space.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err(said("value.name_empty", &[]));
        }
        if raw.trim() != raw {
            return Err(said("value.name_space", &[]));
        }
        let chars = raw.chars().count();
        if chars > NAME_MAX_CHARS {
            return Err(said(
                "value.name_long",
                &[
                    ("max", NAME_MAX_CHARS.to_string()),
                    ("count", chars.to_string()),
                ],
            ));
        }
        if let Some(c) = raw
            .chars()
            .find(|c| c.is_control() || is_invisible_format(*c))
        {
            return Err(said(
                "value.name_printable",
                &[("char", format!("U+{:04X}", c as u32))],
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Unicode format characters (category Cf) that render as nothing or reorder text: a name
/// holding one would look like another name.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

impl TryFrom<String> for Name {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Name> for String {
    fn from(value: Name) -> Self {
        value.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A positive size in MiB, at most [`SizeMib::MAX`] (1 EiB): sums over a whole inventory
/// stay far from overflowing, in Rust, in SQLite's signed integers and in JavaScript numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct SizeMib(u64);

impl SizeMib {
    pub const MAX: u64 = 1 << 40;

    pub fn parse(value: u64) -> Result<Self, String> {
        if value == 0 {
            Err(said("value.size_positive", &[]))
        } else if value > Self::MAX {
            Err(said("value.size_max", &[("max", Self::MAX.to_string())]))
        } else {
            Ok(Self(value))
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for SizeMib {
    type Error = String;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<SizeMib> for u64 {
    fn from(value: SizeMib) -> u64 {
        value.0
    }
}

impl fmt::Display for SizeMib {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! bounded_float {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $code:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub struct $name(f64);

        impl $name {
            pub const MIN: f64 = $min;
            pub const MAX: f64 = $max;

            pub fn parse(value: f64) -> Result<Self, String> {
                if value.is_finite() && (Self::MIN..=Self::MAX).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(said(
                        $code,
                        &[
                            ("min", Self::MIN.to_string()),
                            ("max", Self::MAX.to_string()),
                            ("value", value.to_string()),
                        ],
                    ))
                }
            }

            pub fn get(self) -> f64 {
                self.0
            }
        }

        impl TryFrom<f64> for $name {
            type Error = String;
            fn try_from(value: f64) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for f64 {
            fn from(value: $name) -> f64 {
                value.0
            }
        }
    };
}

/// Speed of a vMotion network link in Gbit/s: 0 means the link is down, else 0.01 (10 Mbit/s)
/// to 800 — a slower link is not a vMotion network, and the transfer model's figures would
/// no longer be meaningful (docs/DESIGN.md#the-domain-model).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct LinkGbps(f64);

impl LinkGbps {
    /// The slowest link that is up.
    pub const MIN_UP: f64 = 0.01;
    pub const MAX: f64 = 800.0;

    pub fn parse(value: f64) -> Result<Self, String> {
        if value == 0.0 || (value.is_finite() && (Self::MIN_UP..=Self::MAX).contains(&value)) {
            Ok(Self(value.abs()))
        } else {
            Err(said(
                "value.link",
                &[
                    ("min", Self::MIN_UP.to_string()),
                    ("max", Self::MAX.to_string()),
                    ("value", value.to_string()),
                ],
            ))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for LinkGbps {
    type Error = String;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<LinkGbps> for f64 {
    fn from(value: LinkGbps) -> f64 {
        value.0
    }
}
bounded_float!(
    /// A data rate in MiB/s (memory dirtying, disk writes).
    RateMibS,
    0.0,
    1_000_000.0,
    "value.rate_range"
);
bounded_float!(
    /// A fraction between 0 and 1 (for instance of memory pages that are zero).
    Fraction,
    0.0,
    1.0,
    "value.fraction_range"
);

/// An 802.1Q VLAN id, 0 (untagged) to 4094.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct VlanId(u16);

impl VlanId {
    pub const MAX: u16 = 4094;

    pub fn parse(value: u16) -> Result<Self, String> {
        if value <= Self::MAX {
            Ok(Self(value))
        } else {
            Err(said(
                "value.vlan",
                &[("max", Self::MAX.to_string()), ("value", value.to_string())],
            ))
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for VlanId {
    type Error = String;
    fn try_from(value: u16) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<VlanId> for u16 {
    fn from(value: VlanId) -> u16 {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_printable_text_up_to_80_characters() {
        assert_eq!(Name::parse("esx-01").unwrap().as_str(), "esx-01");
        assert!(Name::parse("web 01 (prod) – é").is_ok());
        assert!(Name::parse(&"a".repeat(80)).is_ok());
        // 80 characters, more bytes: the limit counts characters.
        assert!(Name::parse(&"é".repeat(80)).is_ok());
    }

    #[test]
    fn names_reject_empty_long_padded_or_control_text() {
        assert!(Name::parse("").unwrap_err().contains("empty"));
        assert!(Name::parse("   ").unwrap_err().contains("empty"));
        assert!(Name::parse(&"a".repeat(81))
            .unwrap_err()
            .contains("at most 80"));
        assert!(Name::parse(" esx").unwrap_err().contains("white space"));
        assert!(Name::parse("esx\u{7}01").unwrap_err().contains("printable"));
        assert!(Name::parse("esx\n01").unwrap_err().contains("printable"));
        assert!(Name::parse("esx-01\u{200B}")
            .unwrap_err()
            .contains("printable"));
        assert!(Name::parse("\u{202E}10-xse")
            .unwrap_err()
            .contains("printable"));
    }

    #[test]
    fn names_are_checked_when_deserialized() {
        assert!(serde_json::from_str::<Name>("\"ok\"").is_ok());
        let err = serde_json::from_str::<Name>("\"\"").unwrap_err();
        assert!(err.to_string().contains("empty"));
    }

    #[test]
    fn bounded_numbers_reject_out_of_range_values() {
        assert_eq!(LinkGbps::parse(0.0).unwrap().get(), 0.0);
        assert_eq!(LinkGbps::parse(25.0).unwrap().get(), 25.0);
        assert!(LinkGbps::parse(-1.0).is_err());
        // A link is down or a real network: nothing in between.
        assert!(LinkGbps::parse(1e-6).is_err());
        assert!(LinkGbps::parse(0.009).is_err());
        assert_eq!(LinkGbps::parse(0.01).unwrap().get(), 0.01);
        assert_eq!(LinkGbps::parse(-0.0).unwrap().get(), 0.0);
        assert!(LinkGbps::parse(f64::NAN).is_err());
        assert!(Fraction::parse(1.0).is_ok());
        assert!(Fraction::parse(1.01).is_err());
        assert!(RateMibS::parse(-0.5).is_err());
        assert!(RateMibS::parse(f64::INFINITY).is_err());
        assert_eq!(VlanId::parse(4094).unwrap().get(), 4094);
        assert!(VlanId::parse(4095).is_err());
        assert!(serde_json::from_str::<VlanId>("5000").is_err());
        assert!(serde_json::from_str::<Fraction>("0.25").is_ok());
        assert_eq!(SizeMib::parse(1).unwrap().get(), 1);
        assert!(SizeMib::parse(0).is_err());
        assert!(SizeMib::parse(SizeMib::MAX).is_ok());
        assert!(SizeMib::parse(SizeMib::MAX + 1).is_err());
        assert!(serde_json::from_str::<SizeMib>("18446744073709551615").is_err());
    }
}
