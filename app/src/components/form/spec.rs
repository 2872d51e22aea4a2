//! A form described by data (docs/DESIGN.md#languages for its words): its fields and groups,
//! their values kept as text, turned into the API's JSON and back, parsed by the server's own
//! serde types, and where an error goes.

use crate::i18n::{td_string, Locale};
use crate::lang::fill;
use domain::{DomainError, Object, ObjectKind};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Text,
    /// A whole number (unsigned in the model).
    Integer,
    Decimal,
    /// One of (value, label).
    Select(Vec<(String, String)>),
    Checkbox,
    /// Several of (value, label), sent as a list.
    Multi(Vec<(String, String)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// JSON path relative to the object or its group row ("workload.dirty_rate_mib_s").
    pub key: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub optional: bool,
    pub default: String,
}

impl Field {
    pub fn new(key: &'static str, label: &'static str, input: Input) -> Self {
        Self {
            key,
            label,
            input,
            optional: false,
            default: String::new(),
        }
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn default(mut self, value: impl Into<String>) -> Self {
        self.default = value.into();
        self
    }
}

/// A list of sub-objects with their own fields (a VM's disks, NICs, devices).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub key: &'static str,
    pub label: &'static str,
    pub item: &'static str,
    /// Its button's label ("Add disk").
    pub add: &'static str,
    pub fields: Vec<Field>,
    /// Rows a new object starts with.
    pub initial_rows: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FormSpec {
    pub kind: ObjectKind,
    pub fields: Vec<Field>,
    pub groups: Vec<Group>,
}

/// The text values of a form, keyed by field path ("name", "disks[0].capacity_mib").
pub type Values = BTreeMap<String, String>;

pub(super) fn row_key(group: &str, row: usize, field: &str) -> String {
    format!("{group}[{row}].{field}")
}

impl FormSpec {
    /// Values for a new object: the fields' defaults, one row per group.
    pub fn defaults(&self) -> (Values, BTreeMap<&'static str, usize>) {
        let mut values = Values::new();
        for f in &self.fields {
            values.insert(f.key.to_string(), f.default.clone());
        }
        let mut rows = BTreeMap::new();
        for g in &self.groups {
            rows.insert(g.key, g.initial_rows);
            for i in 0..g.initial_rows {
                for f in &g.fields {
                    values.insert(row_key(g.key, i, f.key), f.default.clone());
                }
            }
        }
        (values, rows)
    }

    /// Values of an existing object (as the API shows it).
    pub fn values_of(&self, object: &Value) -> (Values, BTreeMap<&'static str, usize>) {
        let mut values = Values::new();
        for f in &self.fields {
            values.insert(f.key.to_string(), text_of(lookup(object, f.key), &f.input));
        }
        let mut rows = BTreeMap::new();
        for g in &self.groups {
            let items = object
                .get(g.key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            rows.insert(g.key, items.len());
            for (i, item) in items.iter().enumerate() {
                for f in &g.fields {
                    values.insert(
                        row_key(g.key, i, f.key),
                        text_of(lookup(item, f.key), &f.input),
                    );
                }
            }
        }
        (values, rows)
    }

    /// Builds the object's JSON from the text values; a value that is not even of the right
    /// shape (a letter in a number) is reported against its field.
    pub fn to_json(
        &self,
        values: &Values,
        rows: &BTreeMap<&'static str, usize>,
        locale: Locale,
    ) -> Result<Value, (String, String)> {
        let mut object = Map::new();
        for f in &self.fields {
            let text = values.get(f.key).map(String::as_str).unwrap_or("");
            if let Some(v) = value_of(text, f, locale).map_err(|m| (f.key.to_string(), m))? {
                insert_path(&mut object, f.key, v);
            }
        }
        for g in &self.groups {
            let mut items = Vec::new();
            for i in 0..rows.get(g.key).copied().unwrap_or(0) {
                let mut item = Map::new();
                for f in &g.fields {
                    let key = row_key(g.key, i, f.key);
                    let text = values.get(&key).map(String::as_str).unwrap_or("");
                    if let Some(v) = value_of(text, f, locale).map_err(|m| (key.clone(), m))? {
                        insert_path(&mut item, f.key, v);
                    }
                }
                items.push(Value::Object(item));
            }
            object.insert(g.key.to_string(), Value::Array(items));
        }
        Ok(Value::Object(object))
    }

    /// Every field path the form shows, to place errors.
    pub fn keys(&self, rows: &BTreeMap<&'static str, usize>) -> Vec<String> {
        let mut keys: Vec<String> = self.fields.iter().map(|f| f.key.to_string()).collect();
        for g in &self.groups {
            for i in 0..rows.get(g.key).copied().unwrap_or(0) {
                keys.extend(g.fields.iter().map(|f| row_key(g.key, i, f.key)));
            }
        }
        keys
    }
}

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, part| v.get(part))
}

fn insert_path(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let child = object
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(child) = child {
                insert_path(child, rest, value);
            }
        }
    }
}

fn text_of(value: Option<&Value>, input: &Input) -> String {
    match (value, input) {
        (None | Some(Value::Null), Input::Checkbox) => "false".into(),
        (None | Some(Value::Null), _) => String::new(),
        (Some(Value::String(s)), _) => s.clone(),
        (Some(Value::Array(items)), _) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        (Some(v), _) => v.to_string(),
    }
}

fn value_of(text: &str, field: &Field, locale: Locale) -> Result<Option<Value>, String> {
    let text = text.trim();
    let say = |template: &str| fill(template, &[("label", field.label.to_string())]);
    if text.is_empty() && !matches!(field.input, Input::Checkbox | Input::Multi(_) | Input::Text) {
        return if field.optional {
            Ok(None)
        } else {
            Err(say(td_string!(locale, form.required)))
        };
    }
    Ok(Some(match &field.input {
        Input::Text | Input::Select(_) => Value::String(text.to_string()),
        Input::Integer => {
            let n: i64 = text
                .parse()
                .map_err(|_| say(td_string!(locale, form.whole_number)))?;
            if n < 0 {
                return Err(say(td_string!(locale, form.not_negative)));
            }
            Value::from(n)
        }
        Input::Decimal => {
            let n: f64 = text
                .parse()
                .map_err(|_| say(td_string!(locale, form.a_number)))?;
            Value::from(n)
        }
        Input::Checkbox => Value::Bool(text == "true"),
        Input::Multi(_) => Value::Array(
            text.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
    }))
}

/// Parses the form's JSON into a typed object for the local check, or `None` when a value
/// does not fit its type: the server then names the field (it tracks the error path; the
/// browser bundle does without that code).
/// The form's values as an object of `kind`, or the refusal naming the field that does not
/// fit (as the server would name it).
pub fn parse_local(kind: ObjectKind, json: &Value) -> Result<Object, DomainError> {
    let tagged = serde_json::json!({ "kind": kind, "object": json });
    serde_path_to_error::deserialize(tagged).map_err(|e| {
        let path = e.path().to_string();
        let field = path.strip_prefix("object.").unwrap_or(&path).to_owned();
        let reason = e.into_inner().to_string();
        let reason = domain::Phrase::recognize(&reason, domain::values::VALUE_CODES)
            .unwrap_or_else(|| domain::Phrase::raw(reason));
        let words = domain::Phrase::new("refuse.field_value", &[("field", field.clone())])
            .with("reason", reason);
        DomainError::invalid(field, words)
    })
}

/// Where to show an error: the field it names, or the closest field the form has
/// (`host_ids[1]` → `host_ids`), or the form as a whole.
pub fn place_error(keys: &[String], field: Option<&str>) -> Option<String> {
    let mut field = field?.to_string();
    loop {
        if keys.contains(&field) {
            return Some(field);
        }
        let cut = field.rfind(['[', '.'])?;
        field.truncate(cut);
    }
}
