//! The page's polite live region (docs/ACCESSIBILITY.md#live-regions): what a screen reader is
//! told without moving the focus — a migration's end, the live link lost and back — at most one
//! sentence a second, so a burst of endings is summed up, never read one by one.

use crate::i18n::{t_string, use_i18n};
use crate::lang::fill;
use crate::live::{LiveState, News};
use domain::migration::Phase;
use leptos::prelude::*;

/// The region, always in the page (a region added with its text is not read).
#[component]
pub fn Announcer() -> impl IntoView {
    let live = expect_context::<LiveState>();
    let i18n = use_i18n();
    let said = RwSignal::new(String::new());
    let pending = StoredValue::new(false);
    Effect::new(move |_| {
        if live.news.with(Vec::is_empty) || pending.get_value() {
            return;
        }
        pending.set_value(true);
        set_timeout(
            move || {
                pending.set_value(false);
                let news = live.news.try_update(std::mem::take).unwrap_or_default();
                let words = Words {
                    completed: t_string!(i18n, announce.completed),
                    failed: t_string!(i18n, announce.failed),
                    cancelled: t_string!(i18n, announce.cancelled),
                    many: t_string!(i18n, announce.many),
                    lost: t_string!(i18n, announce.link_lost),
                    back: t_string!(i18n, announce.link_back),
                };
                let text = sentence(&news, &words);
                if !text.is_empty() {
                    // The same sentence twice must still be read: a region is read when its
                    // text changes.
                    said.update(|s| {
                        *s = if *s == text {
                            format!("{text}\u{a0}")
                        } else {
                            text
                        }
                    });
                }
            },
            std::time::Duration::from_secs(1),
        );
    });
    view! {
        <div class="visually-hidden" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">
            {move || said.get()}
        </div>
    }
}

/// The texts a sentence is made of, in the page's language.
struct Words<'a> {
    completed: &'a str,
    failed: &'a str,
    cancelled: &'a str,
    many: &'a str,
    lost: &'a str,
    back: &'a str,
}

/// One sentence for what happened since the last: a single ending by name, several as counts,
/// the live link's state as it is now.
fn sentence(news: &[News], w: &Words) -> String {
    let ended: Vec<(&str, Phase)> = news
        .iter()
        .filter_map(|n| match n {
            News::Ended { vm, phase } => Some((vm.as_str(), *phase)),
            _ => None,
        })
        .collect();
    let mut parts = Vec::new();
    match ended.as_slice() {
        [] => {}
        [(vm, phase)] => {
            let text = match phase {
                Phase::Failed => w.failed,
                Phase::Cancelled => w.cancelled,
                _ => w.completed,
            };
            parts.push(fill(text, &[("vm", vm.to_string())]));
        }
        many => {
            let count = |p: Phase| many.iter().filter(|(_, q)| *q == p).count().to_string();
            parts.push(fill(
                w.many,
                &[
                    ("count", many.len().to_string()),
                    ("completed", count(Phase::Completed)),
                    ("failed", count(Phase::Failed)),
                    ("cancelled", count(Phase::Cancelled)),
                ],
            ));
        }
    }
    let link = news
        .iter()
        .rev()
        .find(|n| matches!(n, News::LinkLost | News::LinkBack));
    match link {
        Some(News::LinkLost) => parts.push(w.lost.to_string()),
        Some(News::LinkBack) => parts.push(w.back.to_string()),
        _ => {}
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Words = Words {
        completed: "{vm} completed.",
        failed: "{vm} failed.",
        cancelled: "{vm} cancelled.",
        many: "{count} ended: {completed} completed, {failed} failed, {cancelled} cancelled.",
        lost: "Lost.",
        back: "Back.",
    };

    fn ended(vm: &str, phase: Phase) -> News {
        News::Ended {
            vm: vm.into(),
            phase,
        }
    }

    #[test]
    fn one_ending_is_named_several_are_counted_and_the_link_says_how_it_is_now() {
        assert_eq!(sentence(&[], &W), "");
        assert_eq!(
            sentence(&[ended("web-01", Phase::Completed)], &W),
            "web-01 completed."
        );
        assert_eq!(sentence(&[ended("db", Phase::Failed)], &W), "db failed.");
        let burst = [
            ended("a", Phase::Completed),
            ended("b", Phase::Completed),
            ended("c", Phase::Failed),
            ended("d", Phase::Cancelled),
        ];
        assert_eq!(
            sentence(&burst, &W),
            "4 ended: 2 completed, 1 failed, 1 cancelled."
        );
        assert_eq!(sentence(&[News::LinkLost], &W), "Lost.");
        assert_eq!(
            sentence(
                &[News::LinkLost, ended("a", Phase::Completed), News::LinkBack],
                &W
            ),
            "a completed. Back."
        );
    }
}
