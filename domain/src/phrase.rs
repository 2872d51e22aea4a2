//! Words the domain says to a person — a plan's title, why each VM moves, where to, its notes;
//! what the engine says of a migration (its phases, why it waits, how it ended) — as a stable
//! code and the values it names, so the pages word them in their own language; the REST API
//! keeps its English text beside them (docs/DESIGN.md#languages).

mod english;

pub use english::ENGLISH;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A wording's code (`plan.why.evacuate`), its values (`hosts`: `esx-03`) and the phrases it
/// holds (`stays`: what happens to the VM), each filling the `{name}` of the same name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrase {
    pub code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, Phrase>,
    /// In English, as the REST API says it (left out where the API's message says it already).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub english: String,
}

impl Phrase {
    /// `code` with `args`, worded in English by [`ENGLISH`].
    pub fn new(code: &str, args: &[(&str, String)]) -> Self {
        let mut p = Phrase {
            code: code.to_string(),
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
            ..Phrase::default()
        };
        p.english = p.word_in_english();
        p
    }

    /// A check result's wording (its code, values and English message) as a phrase.
    pub fn check(code: &str, args: &BTreeMap<String, String>, english: &str) -> Self {
        Phrase {
            code: code.to_string(),
            args: args.clone(),
            parts: BTreeMap::new(),
            english: english.to_string(),
        }
    }

    /// Text with no code: another program's own words (a hypervisor's error), shown as they are.
    pub fn raw(text: impl Into<String>) -> Self {
        Phrase {
            english: text.into(),
            ..Phrase::default()
        }
    }

    /// A name the pages translate themselves — an object kind, a migration kind, a fault
    /// kind, a role, a phase: `name.<what>` with the value's code, and its English.
    pub fn name(what: &str, code: &str, english: &str) -> Self {
        Phrase {
            code: format!("name.{what}"),
            args: BTreeMap::from([("code".to_string(), code.to_string())]),
            parts: BTreeMap::new(),
            english: english.to_string(),
        }
    }

    /// The phrase of `codes` whose English template `message` is, values recovered: a
    /// message that went through a decoder (serde says only text) worded again for a page.
    pub fn recognize(message: &str, codes: &[&str]) -> Option<Self> {
        codes.iter().find_map(|code| {
            let args = matched(english_template(code)?, message)?;
            let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
            let p = Phrase::new(code, &args);
            (p.english == message).then_some(p)
        })
    }

    /// The same, with `part` filling its `{name}`.
    pub fn with(mut self, name: &str, part: Phrase) -> Self {
        self.parts.insert(name.to_string(), part);
        self.english = self.word_in_english();
        self
    }

    /// The same without its English (kept in its parts): where the API's message holds it.
    pub fn without_english(mut self) -> Self {
        self.english.clear();
        self
    }

    fn word_in_english(&self) -> String {
        let template = english_template(&self.code).unwrap_or(&self.code);
        // Sizes are given in MiB and worded like the page words them (docs/DESIGN.md#languages).
        let args: BTreeMap<String, String> = self
            .args
            .iter()
            .map(|(k, v)| (k.clone(), value(crate::Lang::En, k, v)))
            .collect();
        let mut text = fill(template, &args);
        for (name, part) in &self.parts {
            text = text.replace(&format!("{{{name}}}"), &part.english);
        }
        text
    }
}

/// A value as a page shows it: sizes (`_mib`) and durations (`_s`, seconds) by their name's
/// suffix, in `lang`; the others as they are.
pub fn value(lang: crate::Lang, name: &str, value: &str) -> String {
    if name.ends_with("_mib") {
        if let Ok(mib) = value.parse::<u64>() {
            return crate::format::mib(lang, mib);
        }
    }
    if name.ends_with("_s") {
        if let Ok(s) = value.parse::<f64>() {
            return crate::format::duration(lang, s);
        }
    }
    value.to_string()
}

/// The values of `template`'s placeholders in `text`, if `text` is the template filled (each
/// value runs to the next literal part of the template).
fn matched<'t>(template: &'t str, text: &str) -> Option<Vec<(&'t str, String)>> {
    let mut values = Vec::new();
    let (mut t, mut rest) = (template, text);
    while let Some(open) = t.find('{') {
        rest = rest.strip_prefix(&t[..open])?;
        let close = open + t[open..].find('}')?;
        let name = &t[open + 1..close];
        t = &t[close + 1..];
        let literal = t.split('{').next().unwrap_or("");
        let end = if literal.is_empty() {
            rest.len()
        } else {
            rest.find(literal)?
        };
        values.push((name, rest[..end].to_string()));
        rest = &rest[end..];
    }
    (rest == t).then_some(values)
}

/// The English template of `code` (looked up in a table built once: the engine words a
/// migration's phrases on its tick).
pub fn english_template(code: &str) -> Option<&'static str> {
    static TABLE: std::sync::OnceLock<std::collections::HashMap<&str, &str>> =
        std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| ENGLISH.iter().copied().collect())
        .get(code)
        .copied()
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_is_worded_in_english_with_its_values_and_parts() {
        let p = Phrase::new("plan.why.evacuate", &[("hosts", "esx-03".into())]);
        assert_eq!(p.english, "off esx-03 for maintenance");
        assert_eq!(p.args["hosts"], "esx-03");
        let args = BTreeMap::from([("vm".to_string(), "db-01".to_string())]);
        let p = Phrase::new("plan.note.stays_where_it_went", &[("vm", "web-01".into())]).with(
            "reason",
            Phrase::check("vm.powered_on.off", &args, "db-01 is off"),
        );
        assert_eq!(p.english, "web-01 stays where it went: db-01 is off");
        assert_eq!(p.parts["reason"].code, "vm.powered_on.off");
        let raw = Phrase::new("engine.failed.hypervisor", &[])
            .with("reason", Phrase::raw("QMP: socket closed"))
            .with(
                "stays",
                Phrase::new(
                    "engine.stays",
                    &[("vm", "web-01".into()), ("host", "esx-01".into())],
                ),
            );
        assert_eq!(
            raw.english,
            "The hypervisor reported an error: QMP: socket closed; web-01 keeps running on esx-01"
        );
    }

    #[test]
    fn every_value_refusal_is_recognised_from_its_message() {
        use crate::values::*;
        let messages = [
            Name::parse("").unwrap_err(),
            Name::parse(" a").unwrap_err(),
            Name::parse(&"x".repeat(81)).unwrap_err(),
            Name::parse("a\u{200B}b").unwrap_err(),
            SizeMib::parse(0).unwrap_err(),
            SizeMib::parse(u64::MAX).unwrap_err(),
            RateMibS::parse(-1.5).unwrap_err(),
            Fraction::parse(2.0).unwrap_err(),
            LinkGbps::parse(0.001).unwrap_err(),
            VlanId::parse(5000).unwrap_err(),
        ];
        let mut codes = std::collections::BTreeSet::new();
        for m in &messages {
            let p = Phrase::recognize(m, VALUE_CODES).unwrap_or_else(|| panic!("{m}"));
            assert_eq!(&p.english, m);
            codes.insert(p.code);
        }
        assert_eq!(codes.len(), VALUE_CODES.len(), "{codes:?}");
        assert!(Phrase::recognize("invalid type: string, expected u32", VALUE_CODES).is_none());
        let p = Phrase::recognize("a VLAN id is between 0 and 4094 (got 5000)", VALUE_CODES);
        assert_eq!(p.map(|p| p.args["value"].clone()).as_deref(), Some("5000"));
    }

    #[test]
    fn every_import_message_is_recognised_with_its_values() {
        for code in crate::inventory::report::IMPORT_CODES {
            let template = english_template(code).expect(code);
            let mut args = Vec::new();
            let mut rest = template;
            while let Some(start) = rest.find('{') {
                let end = rest[start..].find('}').expect(code) + start;
                args.push((
                    &rest[start + 1..end],
                    format!("v{}-{}", args.len(), code.len()),
                ));
                rest = &rest[end + 1..];
            }
            let message = Phrase::new(code, &args).english;
            let p = Phrase::recognize(&message, crate::inventory::report::IMPORT_CODES);
            assert_eq!(
                p.as_ref().map(|p| p.code.as_str()),
                Some(*code),
                "{message}"
            );
        }
    }

    #[test]
    fn every_placeholder_of_a_template_is_a_known_name() {
        const NAMES: &[&str] = &[
            "host",
            "hosts",
            "datastore",
            "datastores",
            "cluster",
            "count",
            "vm",
            "reason",
            "stays",
            "target",
            "task",
            "downtime",
            "mib",
            "percent",
            "used",
            "budget",
            "slots",
            "free_mib",
            "heading_mib",
            "who",
            "completed",
            "total",
            "done",
            "hold_s",
            "elapsed_s",
            "predicted_s",
            "vms",
            "why",
            "kind",
            "name",
            "migration",
            "connection",
            "url",
            "user",
            "role",
            "from",
            "to",
            "address",
            "token",
            "route",
            "moves",
            "blocked",
            "created",
            "updated",
            "removed",
            "field",
            "id",
            "users",
            "disk",
            "capacity",
            "allocated",
            "reservation",
            "memory",
            "free",
            "need",
            "portgroup",
            "switch",
            "least",
            "rule",
            "most",
            "k",
            "left_mib",
            "needed_mib",
            "min",
            "char",
            "network",
            "state",
            "rate",
            "mhz",
            "gib",
            "gbps",
            "cores",
            "level",
            "value",
            "plan",
            "max",
            "link",
            "n",
            "replica",
            "taken",
            "first",
            "rest",
            "seconds",
            "what",
            "phase",
        ];
        for (code, template) in ENGLISH {
            let mut rest = *template;
            while let Some(start) = rest.find('{') {
                let end = rest[start..].find('}').expect(code) + start;
                let name = &rest[start + 1..end];
                assert!(NAMES.contains(&name), "{code}: {name}");
                rest = &rest[end + 1..];
            }
        }
    }
}
