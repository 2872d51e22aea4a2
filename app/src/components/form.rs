//! A generic object form: fields described by data, values kept as text, turned into the
//! API's JSON and parsed by the same serde types as the server, then validated against the
//! live inventory in the browser before the server validates it again authoritatively.
//! Every error is shown next to the field it names.

mod spec;

use crate::live::InventoryResource;
use domain::{DomainError, Inventory, Mutation, Object};
use leptos::prelude::*;
use serde_json::Value;
use spec::row_key;
pub use spec::{parse_local, place_error, Field, FormSpec, Group, Input, Values};
use std::collections::BTreeMap;

/// One field of a form: its label, its input (text, choice, checkbox or several choices),
/// and its error.
fn field_view(
    field: Field,
    key: String,
    values: RwSignal<BTreeMap<String, String>>,
    errors: RwSignal<BTreeMap<String, String>>,
) -> impl IntoView {
    let id = format!("f-{}", key.replace(['[', ']', '.'], "-"));
    let testid = format!("field-{key}");
    let error_key = key.clone();
    let error = move || errors.with(|e| e.get(&error_key).cloned());
    let has_error = {
        let error = error.clone();
        move || error().is_some()
    };
    let value_key = key.clone();
    let current = move || values.with(|v| v.get(&value_key).cloned().unwrap_or_default());
    let set_key = key.clone();
    let set = move |text: String| {
        values.update(|v| {
            v.insert(set_key.clone(), text);
        });
    };
    let input = match field.input.clone() {
        Input::Text | Input::Integer | Input::Decimal => {
            let mode = match field.input {
                Input::Integer => "numeric",
                Input::Decimal => "decimal",
                _ => "text",
            };
            view! {
                <input
                    id=id.clone()
                    type="text"
                    inputmode=mode
                    data-testid=testid.clone()
                    prop:value=current.clone()
                    on:input=move |ev| set(event_target_value(&ev))
                />
            }
            .into_any()
        }
        Input::Select(options) => {
            let optional = field.optional;
            view! {
                <select
                    id=id.clone()
                    data-testid=testid.clone()
                    prop:value=current.clone()
                    on:change=move |ev| set(event_target_value(&ev))
                >
                    {optional.then(|| view! { <option value="">"—"</option> })}
                    {options
                        .into_iter()
                        .map(|(value, label)| {
                            let selected = {
                                let value = value.clone();
                                let current = current.clone();
                                move || current() == value
                            };
                            view! { <option value=value selected=selected>{label}</option> }
                        })
                        .collect_view()}
                </select>
            }
            .into_any()
        }
        Input::Checkbox => view! {
            <input
                id=id.clone()
                type="checkbox"
                data-testid=testid.clone()
                prop:checked=move || current() == "true"
                on:change=move |ev| set(event_target_checked(&ev).to_string())
            />
        }
        .into_any(),
        Input::Multi(options) => view! {
            <div class="multi" data-testid=testid.clone()>
                {options
                    .into_iter()
                    .map(|(value, label)| {
                        let current = current.clone();
                        let set = set.clone();
                        let checked = {
                            let value = value.clone();
                            let current = current.clone();
                            move || current().split(',').any(|v| v == value)
                        };
                        let toggle = move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            let mut list: Vec<String> = current()
                                .split(',')
                                .filter(|v| !v.is_empty() && *v != value)
                                .map(str::to_owned)
                                .collect();
                            if on {
                                list.push(value.clone());
                            }
                            set(list.join(","));
                        };
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    data-testid=format!("{testid}-{label}")
                                    prop:checked=checked
                                    on:change=toggle
                                />
                                {label.clone()}
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        }
        .into_any(),
    };
    view! {
        <div class="field" class:invalid=has_error>
            <label for=id>{field.label}{field.optional.then_some(" (optional)")}</label>
            {input}
            {move || {
                error()
                    .map(|message| {
                        view! {
                            <p class="field-error" data-testid=format!("error-{key}")>{message}</p>
                        }
                    })
            }}
        </div>
    }
}

/// The form for creating (`initial = None`) or editing an object.
#[component]
pub fn ObjectForm(
    spec: FormSpec,
    /// The object being edited, as the API shows it, with its id.
    initial: Option<(uuid::Uuid, Value)>,
    #[prop(into)] on_done: Callback<()>,
) -> impl IntoView {
    let inventory = expect_context::<InventoryResource>();
    let creating = initial.is_none();
    let editing_id = initial.as_ref().map(|(id, _)| *id);
    let (start_values, start_rows) = match &initial {
        Some((_, v)) => spec.values_of(v),
        None => spec.defaults(),
    };
    let values = RwSignal::new(start_values);
    let rows = RwSignal::new(start_rows);
    let errors = RwSignal::new(BTreeMap::<String, String>::new());
    let form_error = RwSignal::new(None::<String>);
    let spec = StoredValue::new(spec);

    let save = Action::new(move |(create, object): &(bool, Object)| {
        crate::rpc::save_object(*create, object.clone())
    });

    let i18n = crate::i18n::use_i18n();
    let said = move |words: Option<Box<domain::Phrase>>, message: String| {
        crate::phrase_text::said_in(i18n.get_locale_untracked(), words.as_deref(), &message)
    };
    let show_refusal = move |field: Option<String>, message: String| {
        let keys = spec.with_value(|s| s.keys(&rows.get_untracked()));
        match place_error(&keys, field.as_deref()) {
            Some(key) => errors.set(BTreeMap::from([(key, message)])),
            None => form_error.set(Some(message)),
        }
    };

    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => on_done.run(()),
        Some(Err(refusal)) => show_refusal(refusal.field, said(refusal.words, refusal.message)),
        None => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(BTreeMap::new());
        form_error.set(None);
        let kind = spec.with_value(|s| s.kind);
        let built = spec
            .with_value(|s| {
                let locale = i18n.get_locale_untracked();
                s.to_json(&values.get_untracked(), &rows.get_untracked(), locale)
            })
            .map(|mut json| {
                if let (Some(id), Value::Object(map)) = (editing_id, &mut json) {
                    map.insert("id".into(), Value::String(id.to_string()));
                }
                json
            });
        let json = match built {
            Ok(json) => json,
            Err((field, message)) => {
                show_refusal(Some(field), message);
                return;
            }
        };
        // Instant feedback from the same rules the server applies.
        let object = match parse_local(kind, &json) {
            Ok(object) => object,
            Err(refusal) => {
                return show_refusal(refusal.field, said(refusal.words, refusal.message))
            }
        };
        let mutation = if creating {
            Mutation::Create(object.clone())
        } else {
            Mutation::Update(object.clone())
        };
        let local: Option<Result<(), DomainError>> = inventory.with_untracked(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|inv: &Inventory| inv.validate(mutation).map(|_| ()))
        });
        if let Some(Err(refusal)) = local {
            return show_refusal(refusal.field, said(refusal.words, refusal.message));
        }
        save.dispatch((creating, object));
    };

    let field_view = move |field: Field, key: String| field_view(field, key, values, errors);

    let fields = spec.with_value(|s| s.fields.clone());
    let groups = spec.with_value(|s| s.groups.clone());
    let i18n = crate::i18n::use_i18n();
    let kind = spec.with_value(|s| s.kind);
    let title = move || {
        if creating {
            crate::names::new_object(i18n, kind)
        } else {
            crate::names::edit_object(i18n, kind)
        }
    };

    view! {
        <form class="object-form" data-testid="object-form" on:submit=submit novalidate>
            <h3>{title}</h3>
            <div class="fields">
                {fields.into_iter().map(|f| { let key = f.key.to_string(); field_view(f, key) }).collect_view()}
            </div>
            {groups
                .into_iter()
                .map(|group| {
                    let g = group.clone();
                    view! {
                        <fieldset class="group" data-testid=format!("group-{}", group.key)>
                            <legend>{group.label}</legend>
                            {move || {
                                let count = rows.with(|r| r.get(g.key).copied().unwrap_or(0));
                                (0..count)
                                    .map(|i| {
                                        let g = g.clone();
                                        let row_fields = g.fields.clone();
                                        let group_key = g.key;
                                        let row_title = format!("{} {}", g.item, i + 1);
                                        let remove_testid = format!("remove-{}-{i}", g.key);
                                        let remove = move |_| {
                                            // Shift the later rows up by one.
                                            values.update(|v| {
                                                for j in i..count {
                                                    for f in &g.fields {
                                                        let next = v
                                                            .get(&row_key(g.key, j + 1, f.key))
                                                            .cloned()
                                                            .unwrap_or_default();
                                                        v.insert(row_key(g.key, j, f.key), next);
                                                    }
                                                }
                                            });
                                            rows.update(|r| {
                                                r.insert(g.key, count - 1);
                                            });
                                        };
                                        view! {
                                            <div class="row">
                                                <span class="row-title">{row_title}</span>
                                                {row_fields
                                                    .into_iter()
                                                    .map(|f| {
                                                        let key = row_key(group_key, i, f.key);
                                                        field_view(f, key)
                                                    })
                                                    .collect_view()}
                                                <button
                                                    type="button"
                                                    class="link"
                                                    data-testid=remove_testid
                                                    on:click=remove
                                                >
                                                    {crate::tx!(i18n, form.remove)}
                                                </button>
                                            </div>
                                        }
                                    })
                                    .collect_view()
                            }}
                            <button
                                type="button"
                                class="secondary"
                                data-testid=format!("add-{}", group.key)
                                on:click=move |_| {
                                    let count = rows.with(|r| r.get(group.key).copied().unwrap_or(0));
                                    values.update(|v| {
                                        for f in &group.fields {
                                            v.insert(row_key(group.key, count, f.key), f.default.clone());
                                        }
                                    });
                                    rows.update(|r| {
                                        r.insert(group.key, count + 1);
                                    });
                                }
                            >
                                {group.add}
                            </button>
                        </fieldset>
                    }
                })
                .collect_view()}
            {move || {
                form_error
                    .get()
                    .map(|m| view! { <p class="form-error" data-testid="form-error">{m}</p> })
            }}
            <div class="actions">
                <button type="submit" class="primary" data-testid="form-submit" disabled=move || save.pending().get()>
                    {move || if creating { crate::i18n::t_string!(i18n, form.create) } else { crate::i18n::t_string!(i18n, form.save) }}
                </button>
                <button type="button" class="secondary" data-testid="form-cancel" on:click=move |_| on_done.run(())>
                    {crate::tx!(i18n, form.cancel)}
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests;
