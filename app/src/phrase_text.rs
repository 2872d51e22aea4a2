//! A plan's phrases (its title, why and where each VM moves, its notes, its blockers) in the
//! page's language (docs/DESIGN.md#languages): the domain gives a code and values
//! (`domain::Phrase`), the page words them. A code this page does not know shows the English.

use crate::check_text::coded_in;
use crate::i18n::{td_string, Locale};
use crate::lang::fill;
use domain::plan::Blocker;
use domain::Phrase;

/// The template of a plan phrase's code in `locale`.
#[rustfmt::skip]
pub fn template_in(locale: Locale, code: &str) -> Option<&'static str> {
    Some(match code {
        "plan.title.evacuate" => td_string!(locale, phrases.title_evacuate),
        "plan.title.exit" => td_string!(locale, phrases.title_exit),
        "plan.title.drain" => td_string!(locale, phrases.title_drain),
        "plan.title.rolling" => td_string!(locale, phrases.title_rolling),
        "plan.title.moves" => td_string!(locale, phrases.title_moves),
        "plan.why.evacuate" => td_string!(locale, phrases.why_evacuate),
        "plan.why.drain" => td_string!(locale, phrases.why_drain),
        "plan.why.back" => td_string!(locale, phrases.why_back),
        "plan.why.asked" => td_string!(locale, phrases.why_asked),
        "plan.target.host" => td_string!(locale, phrases.target_host),
        "plan.target.datastore" => td_string!(locale, phrases.target_datastore),
        "plan.target.both" => td_string!(locale, phrases.target_both),
        "plan.note.host_stays" => td_string!(locale, phrases.note_host_stays),
        "plan.note.hosts_stay" => td_string!(locale, phrases.note_hosts_stay),
        "plan.note.stays_where_it_went" => td_string!(locale, phrases.note_stays_where_it_went),
        "plan.blocker.no_target" => td_string!(locale, phrases.blocker_no_target),
        "plan.blocker.no_target.remedy" => td_string!(locale, phrases.blocker_no_target_remedy),
        "plan.blocker.inventory.remedy" => td_string!(locale, phrases.blocker_inventory_remedy),
        _ => return None,
    })
}

/// `phrase` in `locale`; its English when the code is unknown (an older stored plan).
pub fn phrase_in(locale: Locale, phrase: &Phrase) -> String {
    let Some(template) = template_in(locale, &phrase.code) else {
        return phrase.english.clone();
    };
    let values: Vec<(&str, String)> = phrase
        .args
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let text = fill(template, &values);
    match &phrase.because {
        None => text,
        Some(b) => {
            let reason = coded_in(locale, &b.code, &b.args)
                .map_or_else(|| b.english.clone(), |(message, _)| message);
            fill(
                td_string!(locale, phrases.because),
                &[("text", text), ("reason", reason)],
            )
        }
    }
}

/// A stored plan's title in `locale` (its English for a plan stored before titles had codes).
pub fn title(locale: Locale, plan: &domain::plan::PlanRecord) -> String {
    if plan.draft.title_phrase.code.is_empty() {
        return plan.title().to_string();
    }
    phrase_in(locale, &plan.draft.title_phrase)
}

/// A blocker's message and remedy in `locale`, and whether the message is the server's own
/// English (the inventory's refusal, which has no code yet).
pub fn blocker_in(locale: Locale, b: &Blocker) -> (String, String, bool) {
    if let Some((message, remedy)) = coded_in(locale, &b.code, &b.args) {
        return (message, remedy, false);
    }
    let remedy_code = format!("{}.remedy", b.code);
    let remedy = template_in(locale, &remedy_code).map_or_else(|| b.remedy.clone(), str::to_string);
    match template_in(locale, &b.code) {
        Some(template) => {
            let values: Vec<(&str, String)> = b
                .args
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            (fill(template, &values), remedy, false)
        }
        None => (b.message.clone(), remedy, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plan_phrase_reads_in_english_as_the_api_says_it_and_in_french() {
        for (code, english) in domain::phrase::ENGLISH {
            assert_eq!(template_in(Locale::en, code), Some(*english), "{code}");
            let french = template_in(Locale::fr, code).expect(code);
            if !english.starts_with('{') || english.contains(' ') {
                assert_ne!(french, *english, "{code}: not translated");
            }
        }
    }

    #[test]
    fn a_phrase_with_a_reason_words_both_in_french() {
        let args = [("vm".to_string(), "db-01".to_string())].into();
        let p = Phrase::new("plan.note.stays_where_it_went", &[("vm", "web-01".into())]).because(
            "vm.busy",
            &args,
            "db-01 already has a migration queued or running",
        );
        let fr = phrase_in(Locale::fr, &p);
        assert!(fr.starts_with("web-01 reste"), "{fr}");
        assert!(fr.contains("db-01") && !fr.contains("already"), "{fr}");
        assert_eq!(phrase_in(Locale::en, &p), p.english);
    }
}
