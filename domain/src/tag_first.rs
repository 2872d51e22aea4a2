//! Tagged enums read in one pass when their tag comes first (docs/DESIGN.md#tag-first-reading).
//!
//! serde's derived reading of an internally tagged enum (`#[serde(tag = "…")]`) or an adjacently
//! tagged one buffers the object into its private `Content` tree before it knows the variant, so
//! every type inside such an enum is compiled twice: once read from JSON, once from the buffer.
//! In the browser that doubled the live link's code (the inventory, migrations, plans). vmshift's
//! own server always writes the tag first, so the browser reads the tag, then hands the rest of
//! the same map to the variant's type: one compiled reader per type. The server keeps serde's
//! derived reading, which also accepts the tag anywhere (the REST API's input).

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// A tagged enum readable tag first.
pub trait TagFirst: Sized {
    /// The tag's key (`"type"`, `"kind"`, `"op"`…).
    const TAG: &'static str;
    /// What the enum is, for error messages.
    const EXPECTING: &'static str;
    /// The variant named `tag`, read from the rest of the map (see [`rest`] and [`content`]).
    fn variant<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error>;
}

/// Reads a [`TagFirst`] enum from any deserializer (what its `Deserialize` does in the browser).
pub fn deserialize<'de, T: TagFirst, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(TagVisitor::<T>(PhantomData))
}

/// An internally tagged variant: the fields left in the map, read as `T`.
pub fn rest<'de, T: Deserialize<'de>, A: MapAccess<'de>>(map: A) -> Result<T, A::Error> {
    T::deserialize(MapAccessDeserializer::new(map))
}

/// An adjacently tagged variant: the next key must be `key`, its value read as `T`, and the map
/// must end there.
pub fn content<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    mut map: A,
    key: &'static str,
) -> Result<T, A::Error> {
    match map.next_key::<KeyName>()? {
        Some(KeyName(k)) if k == key => {}
        Some(KeyName(other)) => {
            return Err(de::Error::custom(format_args!(
                "unknown field `{other}`, expected `{key}`"
            )))
        }
        None => return Err(de::Error::missing_field(key)),
    }
    let value = map.next_value::<T>()?;
    match map.next_key::<KeyName>()? {
        None => Ok(value),
        Some(KeyName(other)) => Err(de::Error::unknown_field(&other, &[])),
    }
}

/// An unknown variant's error.
pub fn unknown<E: de::Error>(tag: &str, variants: &'static [&'static str]) -> E {
    E::unknown_variant(tag, variants)
}

struct TagVisitor<T>(PhantomData<T>);

impl<'de, T: TagFirst> Visitor<'de> for TagVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key::<KeyName>()? {
            Some(KeyName(k)) if k == T::TAG => {}
            Some(KeyName(k)) => {
                return Err(de::Error::custom(format_args!(
                    "expected `{}` as the first key, found `{k}`",
                    T::TAG
                )))
            }
            None => return Err(de::Error::missing_field(T::TAG)),
        }
        let tag = map.next_value::<KeyName>()?.0;
        T::variant(&tag, map)
    }
}

/// A key or a tag's value: a string, owned (JSON escapes may need it).
struct KeyName(String);

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(KeyName)
    }
}

/// Gives a [`TagFirst`] enum its `Deserialize` in the browser (wasm); elsewhere the type derives
/// serde's own.
#[macro_export]
macro_rules! tag_first_in_browser {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::tag_first::deserialize(d)
            }
        }
    };
}
