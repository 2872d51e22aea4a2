//! Words a plan shows (its title, why each VM moves, where to, its notes) as a stable code and
//! the values it names, so the pages word them in their own language; the REST API keeps its
//! English text beside them (docs/DESIGN.md#languages).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A wording's code (`plan.why.evacuate`) and its values (`host`: `esx-03`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrase {
    pub code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// The check that explains it, as its code and values (`stays_where_it_went`'s reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<Box<Phrase>>,
    /// In English, as the REST API says it (the because included).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub english: String,
}

impl Phrase {
    /// `code` with `args`, worded in English by [`ENGLISH`].
    pub fn new(code: &str, args: &[(&str, String)]) -> Self {
        let args: BTreeMap<String, String> = args
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        let template = english_template(code).unwrap_or(code);
        Phrase {
            code: code.to_string(),
            english: fill(template, &args),
            args,
            because: None,
        }
    }

    /// The same, explained by a check's wording (its code and values) and English message.
    pub fn because(mut self, code: &str, args: &BTreeMap<String, String>, english: &str) -> Self {
        self.english = format!("{}: {english}", self.english);
        self.because = Some(Box::new(Phrase {
            code: code.to_string(),
            args: args.clone(),
            because: None,
            english: english.to_string(),
        }));
        self
    }
}

/// The English wording of every plan phrase: the API's text, and the pages' English (a test of
/// the `app` crate holds its locale to these).
pub const ENGLISH: &[(&str, &str)] = &[
    ("plan.title.evacuate", "Evacuate {host}"),
    ("plan.title.exit", "Exit maintenance on {host}"),
    ("plan.title.drain", "Drain {datastore}"),
    ("plan.title.rolling", "Rolling maintenance of {cluster}"),
    ("plan.title.moves", "Move {count} VM(s)"),
    ("plan.why.evacuate", "off {hosts} for maintenance"),
    ("plan.why.drain", "off {datastore}"),
    ("plan.why.back", "back to {hosts}"),
    ("plan.why.asked", "asked for"),
    ("plan.target.host", "{host}"),
    ("plan.target.datastore", "{datastore}"),
    ("plan.target.both", "{host} and {datastore}"),
    (
        "plan.note.host_stays",
        "{host} stays out of maintenance mode: {count} VM(s) cannot leave it",
    ),
    (
        "plan.note.hosts_stay",
        "{hosts} stay(s) out of maintenance mode: {count} VM(s) cannot leave",
    ),
    ("plan.note.stays_where_it_went", "{vm} stays where it went"),
    (
        "plan.blocker.no_target",
        "{vm} has no possible target: no other connected host or datastore can take it",
    ),
    (
        "plan.blocker.no_target.remedy",
        "Add capacity, or bring a host out of maintenance mode.",
    ),
    (
        "plan.blocker.inventory.remedy",
        "Fix the VM's configuration in the inventory, then plan again.",
    ),
];

/// The English template of `code`.
pub fn english_template(code: &str) -> Option<&'static str> {
    ENGLISH.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
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
    fn a_phrase_is_worded_in_english_with_its_values() {
        let p = Phrase::new("plan.why.evacuate", &[("hosts", "esx-03".into())]);
        assert_eq!(p.english, "off esx-03 for maintenance");
        assert_eq!(p.args["hosts"], "esx-03");
        let args = BTreeMap::from([("vm".to_string(), "db-01".to_string())]);
        let p = Phrase::new("plan.note.stays_where_it_went", &[("vm", "web-01".into())]).because(
            "vm.powered_on.off",
            &args,
            "db-01 is off",
        );
        assert_eq!(p.english, "web-01 stays where it went: db-01 is off");
        assert_eq!(
            p.because.as_ref().map(|b| b.code.as_str()),
            Some("vm.powered_on.off")
        );
    }

    #[test]
    fn every_placeholder_of_a_template_is_a_known_name() {
        for (code, template) in ENGLISH {
            let mut rest = *template;
            while let Some(start) = rest.find('{') {
                let end = rest[start..].find('}').expect(code) + start;
                let name = &rest[start + 1..end];
                assert!(
                    ["host", "hosts", "datastore", "cluster", "count", "vm"].contains(&name),
                    "{code}: {name}"
                );
                rest = &rest[end + 1..];
            }
        }
    }
}
