//! The page's language (docs/DESIGN.md#languages): which one a request gets, the header's
//! switch, and where the choice is kept. The texts themselves are in `app/locales/`, reached
//! through leptos_i18n's `t!` / `t_string!` with keys checked at compile time.

use crate::i18n::{use_i18n, Locale};
use domain::Lang;
use leptos::prelude::*;
use leptos_i18n::I18nContext;

/// The cookie that keeps a browser's choice (read by the server on the next request, the
/// sign-in page included).
pub const COOKIE: &str = "vmshift_lang";

pub fn locale_of(lang: Lang) -> Locale {
    match lang {
        Lang::En => Locale::en,
        Lang::Fr => Locale::fr,
    }
}

pub fn lang_of(locale: Locale) -> Lang {
    match locale {
        Locale::en => Lang::En,
        Locale::fr => Lang::Fr,
    }
}

/// The page's language for figures and dates (`domain::format`), read where it is called:
/// inside a closure of a view, the text follows a switch.
#[derive(Clone, Copy)]
pub struct PageLang(I18nContext<Locale>);

impl PageLang {
    pub fn get(self) -> Lang {
        lang_of(self.0.get_locale())
    }

    pub fn get_untracked(self) -> Lang {
        lang_of(self.0.get_locale_untracked())
    }
}

pub fn use_lang() -> PageLang {
    PageLang(use_i18n())
}

/// A translated text that follows the page's language, as a view or an attribute value.
/// Every text is this one closure type (its key a function pointer), so Leptos' rendering
/// code is built once for all of them, not once per text as `t!` would
/// (docs/PERFORMANCE.md#two-languages-in-the-bundle). Written `tx!(i18n, map.memory)`.
pub fn text(
    i18n: I18nContext<Locale>,
    key: fn(I18nContext<Locale>) -> &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || key(i18n)
}

/// `tx!(i18n, map.memory)`: [`text`] of a key, checked at compile time like `t!`'s.
#[macro_export]
macro_rules! tx {
    ($i18n:ident, $($key:tt)+) => {
        $crate::lang::text($i18n, |i| $crate::i18n::t_string!(i, $($key)+))
    };
}

/// Fills the `{name}` placeholders of a translated text (check results, whose values come
/// from the server); a name without a value is left as it is, for a test to see.
pub fn fill(text: &str, values: &[(&str, String)]) -> String {
    let mut out = text.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The language a request is answered in: the signed-in user's choice, else the browser's
/// (its cookie, then `Accept-Language`), else English.
#[cfg(feature = "ssr")]
pub fn request_lang() -> Lang {
    use axum::http::header::{ACCEPT_LANGUAGE, COOKIE as COOKIE_HEADER};
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return Lang::En;
    };
    let chosen = parts
        .extensions
        .get::<domain::accounts::CurrentUser>()
        .and_then(|u| u.language);
    let cookie = || {
        parts
            .headers
            .get_all(COOKIE_HEADER)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, value)| Lang::parse(value))
    };
    let accepted = || {
        parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
    };
    chosen.or_else(cookie).or_else(accepted).unwrap_or_default()
}

/// Sets up the language of the page: the one the server answered in (carried with the page),
/// then whatever the user picks. A change rewrites `<html lang>` and is kept in the browser's
/// cookie and, signed in, in the user's account.
pub fn provide_language(signed_in: bool) {
    let initial: Lang = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            request_lang()
        }
        #[cfg(not(feature = "ssr"))]
        {
            Lang::En
        }
    })
    .into_inner();
    // The locale is given: leptos_i18n's own negotiation (leptos-use's `use_locales`) is told
    // there is no header to read, instead of warning at every render that it cannot read it.
    let no_header =
        leptos_i18n::context::UseLocalesOptions::default().ssr_lang_header_getter(|| None);
    let i18n = leptos_i18n::context::init_i18n_subcontext_with_options::<Locale>(
        Some(Signal::stored(locale_of(initial))),
        None,
        None,
        Some(no_header),
    );
    provide_context(i18n);
    // Runs in the browser only: the first run is the page as served.
    Effect::new(move |previous: Option<Lang>| {
        let lang = lang_of(i18n.get_locale());
        if previous.is_some_and(|p| p != lang) {
            remember(lang, signed_in);
        }
        lang
    });
}

/// Keeps a choice: `<html lang>`, the cookie, the account.
fn remember(lang: Lang, signed_in: bool) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", lang.code());
        }
        if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
            let _ = doc.set_cookie(&format!(
                "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                lang.code()
            ));
        }
        if signed_in {
            leptos::task::spawn_local(async move {
                if let Err(e) = crate::rpc::set_language(lang).await {
                    leptos::logging::warn!("the language could not be kept: {e}");
                }
            });
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (lang, signed_in);
}

/// The header's language menu, each language in its own name.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let change = move |ev| {
        if let Some(lang) = Lang::parse(&event_target_value(&ev)) {
            i18n.set_locale(locale_of(lang));
        }
    };
    view! {
        <select
            class="lang"
            data-testid="lang-select"
            aria-label=move || crate::i18n::t_string!(i18n, shell.language)
            on:change=change
        >
            {Lang::ALL
                .map(|l| {
                    view! {
                        <option
                            value=l.code()
                            lang=l.code()
                            selected=move || lang_of(i18n.get_locale()) == l
                        >
                            {l.native_name()}
                        </option>
                    }
                })}
        </select>
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn fill_names_each_value() {
        assert_eq!(
            fill(
                "{vm} est sur {host}, {vm}",
                &[("vm", "web-01".into()), ("host", "esx".into())]
            ),
            "web-01 est sur esx, web-01"
        );
        assert_eq!(fill("{missing}", &[]), "{missing}");
    }
}
