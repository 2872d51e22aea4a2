//! Makes a missing translation a build error (docs/DESIGN.md#languages): every key of
//! `locales/en.json` is in `locales/fr.json` and the other way round, no text is empty, and a
//! text names the same `{placeholders}` in both languages. (leptos_i18n checks that a key the
//! code uses exists; a key missing in one language would only warn and fall back to English.)

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const LOCALES: [&str; 2] = ["en", "fr"];

fn main() {
    println!("cargo:rerun-if-changed=locales");
    let mut texts: Vec<BTreeMap<String, String>> = Vec::new();
    for locale in LOCALES {
        let path = format!("locales/{locale}.json");
        println!("cargo:rerun-if-changed={path}");
        let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let value: Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut flat = BTreeMap::new();
        flatten("", &value, &mut flat, &path);
        texts.push(flat);
    }
    let mut problems = Vec::new();
    let (en, fr) = (&texts[0], &texts[1]);
    for key in en.keys().filter(|k| !fr.contains_key(*k)) {
        problems.push(format!("{key}: in en.json, missing from fr.json"));
    }
    for key in fr.keys().filter(|k| !en.contains_key(*k)) {
        problems.push(format!("{key}: in fr.json, missing from en.json"));
    }
    for (locale, flat) in LOCALES.iter().zip(&texts) {
        for (key, text) in flat.iter().filter(|(_, t)| t.trim().is_empty()) {
            problems.push(format!("{key}: empty in {locale}.json ({text:?})"));
        }
    }
    for (key, text) in en {
        if let Some(other) = fr.get(key) {
            let (a, b) = (placeholders(text), placeholders(other));
            if a != b {
                problems.push(format!(
                    "{key}: en.json names {a:?}, fr.json names {b:?}: the same values in both"
                ));
            }
        }
    }
    if !problems.is_empty() {
        panic!(
            "the translations disagree (app/locales):\n  {}",
            problems.join("\n  ")
        );
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>, path: &str) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out, path);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => panic!("{path}: {prefix} is {other}, not a text"),
    }
}

/// The `{name}` placeholders a text fills in (the page's own, not leptos_i18n's `{{ }}`).
fn placeholders(text: &str) -> BTreeSet<&str> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            // leptos_i18n's own interpolation `{{ x }}`: it checks those itself.
            rest = stripped.split_once("}}").map_or("", |(_, r)| r);
            continue;
        }
        match after.find('}') {
            Some(end) => {
                found.insert(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    found
}
