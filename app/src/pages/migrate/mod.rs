//! The migrate wizard: VM → kind → target (valid targets first, the others greyed with their
//! first error) → check results by severity with remedies → summary of the planned move.
//! Every choice re-runs the checks in the browser (the same Rust rules as the server), with
//! no round trip; the server re-checks authoritatively when a migration is submitted.

mod steps;

use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use crate::live::LiveState;
use domain::checks::{
    check_migration, rank_targets, CheckReport, MigrationKind, MigrationOptions, MigrationRequest,
    Severity,
};
use domain::format;
use domain::platform::Platform;
use domain::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeSet;
use steps::{results_view, target_list};

/// Milliseconds from a monotonic clock, to time the in-browser checks.
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        window().performance().map(|p| p.now()).unwrap_or(0.0)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
            * 1e3
    }
}

#[derive(Clone, Copy)]
struct Choices {
    vm: RwSignal<Option<VmId>>,
    kind: RwSignal<MigrationKind>,
    host: RwSignal<Option<HostId>>,
    datastore: RwSignal<Option<DatastoreId>>,
    planned: RwSignal<bool>,
    options: RwSignal<MigrationOptions>,
    starting: RwSignal<bool>,
    start_error: RwSignal<Option<String>>,
    /// Every target shown, not only the best ones.
    all_targets: RwSignal<bool>,
    /// Opens a page (the new migration's detail).
    go: Callback<String>,
}

#[component]
pub fn MigratePage() -> impl IntoView {
    crate::mark_ready();
    let large = expect_context::<crate::Scale>().large;
    let query = use_query_map();
    let initial_vm = query.with_untracked(|q| q.get("vm").and_then(|v| v.parse::<VmId>().ok()));
    let vm_signal = RwSignal::new(initial_vm);
    // At scale: what the chosen VM's cluster shows (docs/DESIGN.md#the-map-at-scale).
    let inventory = if large {
        Resource::new(
            move || vm_signal.get(),
            |vm| async move {
                match vm {
                    Some(vm) => crate::rpc::vm_scope(vm).await,
                    None => Ok(Inventory::default()),
                }
            },
        )
    } else {
        crate::live::use_inventory()
    };
    let choices = Choices {
        vm: vm_signal,
        kind: RwSignal::new(MigrationKind::VMotion),
        host: RwSignal::new(None),
        datastore: RwSignal::new(None),
        planned: RwSignal::new(false),
        options: RwSignal::new(MigrationOptions::default()),
        starting: RwSignal::new(false),
        start_error: RwSignal::new(None),
        all_targets: RwSignal::new(false),
        go: {
            let navigate = leptos_router::hooks::use_navigate();
            Callback::new(move |path: String| navigate(&path, Default::default()))
        },
    };
    // Which VMs are real lab guests and the figures they are predicted with: changes only
    // when the lab does (not at every heartbeat), so the wizard redraws then only.
    let live = use_context::<LiveState>();
    // At scale the live link follows the chosen VM's cluster, and the wizard shows it from
    // there once it holds it.
    let current = move || {
        let fetched = inventory.get()?;
        Some(fetched.map(|inv| {
            live.filter(|_| large)
                .and_then(|l| {
                    l.scoped.with(|s| {
                        s.as_ref()
                            .filter(|s| s.clusters.keys().eq(inv.clusters.keys()))
                            .cloned()
                    })
                })
                .unwrap_or(inv)
        }))
    };
    if let Some(l) = live.filter(|_| large) {
        Effect::new(move |_| {
            if let Some(Ok(inv)) = inventory.get() {
                l.open.set(inv.clusters.keys().copied().collect());
            }
        });
        on_cleanup(move || {
            l.open.try_set(Vec::new());
        });
    }
    // The chosen VM's name, shown in the picker while nothing is being typed.
    let chosen_name = RwSignal::new(String::new());
    Effect::new(move |_| {
        let name = inventory.with(|r| match r {
            Some(Ok(inv)) => vm_signal
                .get()
                .and_then(|id| inv.vms.get(&id))
                .map(|v| v.name.to_string()),
            _ => None,
        });
        if let Some(name) = name {
            chosen_name.set(name);
        }
    });
    let picked = Callback::new(move |hit: domain::search::Hit| {
        chosen_name.set(hit.name.clone());
        choices.vm.set(Some(VmId(hit.id)));
        choices.host.set(None);
        choices.datastore.set(None);
        choices.planned.set(false);
    });
    let lab = Memo::new(move |_| {
        live.map(|l| {
            (
                l.lab
                    .with(|m| m.keys().copied().collect::<BTreeSet<VmId>>()),
                l.lab_platform.get(),
            )
        })
        .unwrap_or_default()
    });
    let i18n = use_i18n();
    let lang = use_lang();
    view! {
        <section class="page migrate-page" data-testid="wizard">
            <h1>{crate::tx!(i18n, wizard.title)}</h1>
            // The picker stays put while the steps below redraw (live changes, the lab's
            // heartbeats): what is being typed is kept.
            <div class="step">
                <h3>{crate::tx!(i18n, wizard.step_vm)}</h3>
                <crate::components::search::Combobox
                    label=Signal::derive(move || t_string!(i18n, wizard.vm_label).to_string())
                    placeholder=Signal::derive(move || t_string!(i18n, wizard.vm_placeholder).to_string())
                    testid="wizard-vm"
                    only=Some(ObjectKind::Vm)
                    on_pick=picked
                    shown=chosen_name
                />
            </div>
            <Suspense fallback=move || view! { <p class="empty">{crate::tx!(i18n, map.loading)}</p> }>
                {move || {
                    // A switch of language draws the steps again, in it.
                    let l = lang.get();
                    current()
                        .map(|r| match r {
                            Ok(inv) => wizard(&inv, choices, lab, l).into_any(),
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// Submits the move; on success, opens its detail page to watch it live.
fn start(request: MigrationRequest, c: Choices) {
    c.starting.set(true);
    c.start_error.set(None);
    leptos::task::spawn_local(async move {
        let answer = crate::rpc::start_migration(request).await;
        c.starting.set(false);
        match answer {
            Ok(m) => c.go.run(format!("/tasks/{}", m.id)),
            Err(e) => c.start_error.set(Some(e.message)),
        }
    });
}

/// The real lab guests and their platform's figures (QEMU driver).
type LabFigures = (BTreeSet<VmId>, Option<Platform>);

fn wizard(inv: &Inventory, c: Choices, lab: Memo<LabFigures>, lang: Lang) -> AnyView {
    let i18n = use_i18n();
    let vm_id = c.vm.get();
    let kind = c.kind.get();
    let host = c.host.get();
    let datastore = c.datastore.get();
    // VMs already moving (not tracked: the wizard does not redraw at every progress tick).
    let busy: BTreeSet<VmId> = use_context::<LiveState>()
        .map(|live| {
            live.migrations.with_untracked(|m| {
                m.values()
                    .filter(|m| !m.phase.is_final())
                    .map(|m| m.vm_id)
                    .collect()
            })
        })
        .unwrap_or_default();
    // A real lab guest is predicted with the lab's figures (QEMU on this machine), every
    // other VM with vSphere's.
    let lab_platform =
        lab.with(|(real, platform)| vm_id.filter(|vm| real.contains(vm)).and(*platform));

    let started = now_ms();
    let vm = vm_id.and_then(|id| inv.vms.get(&id));
    let targets = vm.and_then(|v| rank_targets(inv, v.id, kind, host, datastore, &busy).ok());
    let ready = vm.is_some()
        && (!kind.moves_host() || host.is_some())
        && (!kind.moves_storage() || datastore.is_some());
    let report: Option<CheckReport> = if ready {
        let request = MigrationRequest {
            vm_id: vm_id.expect("ready"),
            kind,
            target_host_id: if kind.moves_host() { host } else { None },
            target_datastore_id: if kind.moves_storage() {
                datastore
            } else {
                None
            },
            options: Default::default(),
        };
        check_migration(inv, &request, &busy).ok()
    } else {
        None
    };
    let check_ms = now_ms() - started;

    let where_now = vm.map(|v| where_now(inv, v, lang));

    let kinds = kind_choices(c);

    let target_lists = targets.map(|t| {
        let hosts = (!t.hosts.is_empty()).then(|| {
            target_list(
                t_string!(i18n, wizard.target_host),
                "host",
                t.hosts,
                host.map(|h| h.0),
                c.all_targets,
                move |id| {
                    c.host.set(Some(HostId(id)));
                    c.planned.set(false);
                },
            )
        });
        let datastores = (!t.datastores.is_empty()).then(|| {
            target_list(
                t_string!(i18n, wizard.target_datastore),
                "datastore",
                t.datastores,
                datastore.map(|d| d.0),
                c.all_targets,
                move |id| {
                    c.datastore.set(Some(DatastoreId(id)));
                    c.planned.set(false);
                },
            )
        });
        view! { <div class="targets">{hosts}{datastores}</div> }.into_any()
    });

    let allowed = report.as_ref().is_some_and(|r| r.allowed);
    // A VM mirrored from a vCenter moving host: vCenter's own verdict beside the checks.
    let vcenter = vm
        .filter(|v| report.is_some() && kind.moves_host() && inv.sources.contains_key(&v.id.0))
        .zip(host)
        .map(|(v, h)| (v.id, h));
    let results = report.clone().map(|r| results_view(&r, check_ms));
    let summary = (c.planned.get() && allowed).then(|| {
        let v = vm.expect("a report needs a VM");
        let warnings = report
            .as_ref()
            .map(|r| r.count(Severity::Warning))
            .unwrap_or(0);
        summary_card(inv, c, v, warnings, lab_platform, lang)
    });

    view! {
        <div class="wizard">
            {where_now.map(|w| view! { <p class="muted small" data-testid="wizard-vm-info">{w}</p> })}
            {vm.is_some().then(|| view! {
                <div class="step">
                    <h3>{crate::tx!(i18n, wizard.step_kind)}</h3>
                    <div class="kinds">{kinds.into_any()}</div>
                </div>
                <div class="step">
                    <h3>{crate::tx!(i18n, wizard.step_target)}</h3>
                    {target_lists}
                </div>
            })}
            {results.map(|r| view! {
                <div class="step">
                    <h3>{crate::tx!(i18n, wizard.step_checks)}</h3>
                    {r}
                    {vcenter.map(|(vm, host)| view! { <crate::pages::vcenter_verdict::VcenterVerdict vm host/> })}
                    <button
                        class="primary"
                        data-testid="wizard-next"
                        disabled=!allowed
                        on:click=move |_| c.planned.set(true)
                    >
                        {if allowed { t_string!(i18n, wizard.review) } else { t_string!(i18n, wizard.fix_errors) }}
                    </button>
                </div>
            })}
            {summary}
        </div>
    }
    .into_any()
}

/// Where a VM is now and what it is, in words.
fn where_now(inv: &Inventory, v: &Vm, lang: Lang) -> String {
    let i18n = use_i18n();
    let host = inv
        .hosts
        .get(&v.host_id)
        .map(|h| h.name.to_string())
        .unwrap_or_default();
    let stores: Vec<String> = v
        .disks
        .iter()
        .filter_map(|d| {
            inv.datastores
                .get(&d.datastore_id)
                .map(|ds| ds.name.to_string())
        })
        .collect();
    fill(
        t_string!(i18n, wizard.where_now),
        &[
            ("host", host),
            (
                "datastores",
                if stores.is_empty() {
                    t_string!(i18n, wizard.no_datastore).to_string()
                } else {
                    stores.join(", ")
                },
            ),
            ("vcpus", v.vcpus.to_string()),
            ("memory", format::mib(lang, v.memory_mib.get())),
            (
                "power",
                crate::names::power_state(i18n, v.power_state).to_string(),
            ),
        ],
    )
}

/// The three kinds of move, as radio buttons.
fn kind_choices(c: Choices) -> impl IntoView {
    let i18n = use_i18n();
    MigrationKind::ALL
        .into_iter()
        .map(|k| {
            let explain = match k {
                MigrationKind::VMotion => t_string!(i18n, wizard.explain_vmotion),
                MigrationKind::StorageVMotion => t_string!(i18n, wizard.explain_svmotion),
                MigrationKind::Combined => t_string!(i18n, wizard.explain_combined),
            };
            view! {
                <label
                    class="kind"
                    class:chosen=move || c.kind.get() == k
                    data-testid=format!("wizard-kind-{}", k.as_str())
                >
                    <input
                        type="radio"
                        name="kind"
                        prop:checked=move || c.kind.get() == k
                        on:change=move |_| {
                            c.kind.set(k);
                            c.host.set(None);
                            c.datastore.set(None);
                            c.planned.set(false);
                        }
                    />
                    <strong>{crate::names::migration_kind(i18n, k)}</strong>
                    <span class="muted small">{explain}</span>
                </label>
            }
        })
        .collect_view()
}

/// The planned move: what moves where, its prediction, its options, and Start.
fn summary_card(
    inv: &Inventory,
    c: Choices,
    v: &Vm,
    warnings: usize,
    lab_platform: Option<Platform>,
    lang: Lang,
) -> AnyView {
    let i18n = use_i18n();
    let (kind, host, datastore, options) = (
        c.kind.get(),
        c.host.get(),
        c.datastore.get(),
        c.options.get(),
    );
    let platform = lab_platform.unwrap_or(Platform::VSPHERE);
    let from = inv
        .hosts
        .get(&v.host_id)
        .map(|h| h.name.to_string())
        .unwrap_or_default();
    let to_host = host
        .and_then(|h| inv.hosts.get(&h))
        .map(|h| h.name.to_string());
    let to_ds = datastore
        .and_then(|d| inv.datastores.get(&d))
        .map(|d| d.name.to_string());
    let request = MigrationRequest {
        vm_id: v.id,
        kind,
        target_host_id: if kind.moves_host() { host } else { None },
        target_datastore_id: if kind.moves_storage() {
            datastore
        } else {
            None
        },
        options,
    };
    let prediction = domain::prediction::predict_on(inv, &request, platform).ok();
    let predicted = prediction.map(|p| {
        let data = format::mib(lang, (p.bytes_total / (1024.0 * 1024.0)).round() as u64);
        if p.converges {
            let mut text = fill(
                t_string!(i18n, wizard.predicted),
                &[
                    ("duration", format::seconds(lang, p.duration_s)),
                    ("data", data),
                    ("downtime", format::number(lang, p.downtime_ms, 0)),
                ],
            );
            if !p.rounds.is_empty() {
                text += &fill(
                    t_string!(i18n, wizard.predicted_rounds),
                    &[("rounds", p.rounds.len().to_string())],
                );
            }
            if p.max_throttle > 0.0 {
                text += &fill(
                    t_string!(i18n, wizard.predicted_throttle),
                    &[("throttle", format::pct(lang, p.max_throttle * 100.0, 0))],
                );
            }
            text + "."
        } else {
            fill(
                t_string!(i18n, wizard.predicted_failure),
                &[("why", crate::phrase_text::failure_in(i18n.get_locale(), &p))],
            )
        }
    });
    let figures = if lab_platform.is_some() {
        t_string!(i18n, wizard.lab_figures)
    } else {
        t_string!(i18n, wizard.vsphere_figures)
    };
    let values = [
        ("vm", v.name.to_string()),
        ("from", from),
        ("host", to_host.unwrap_or_default()),
        ("datastore", to_ds.unwrap_or_default()),
    ];
    let line = match (kind.moves_host(), kind.moves_storage()) {
        (true, false) => fill(t_string!(i18n, wizard.line_vmotion), &values),
        (false, true) => fill(t_string!(i18n, wizard.line_svmotion), &values),
        _ => fill(t_string!(i18n, wizard.line_combined), &values),
    };
    view! {
        <div class="summary-card" data-testid="wizard-summary">
            <h3>{fill(t_string!(i18n, wizard.planned), &[("kind", crate::names::migration_kind(i18n, kind).to_string())])}</h3>
            <p>{line}</p>
            <p data-testid="wizard-prediction">{predicted}</p>
            <p class="muted small" data-testid="wizard-platform">{figures}</p>
            <div class="options">
                <label>
                    {crate::tx!(i18n, wizard.downtime_target)}" "
                    <input
                        type="number"
                        min="1"
                        max="100000"
                        data-testid="option-downtime"
                        prop:value=options.downtime_target_ms.unwrap_or(500).to_string()
                        on:change=move |ev| {
                            let v = event_target_value(&ev).parse().ok();
                            c.options.update(|o| o.downtime_target_ms = v);
                        }
                    />
                </label>
                <label>
                    {crate::tx!(i18n, wizard.bandwidth_cap)}" "
                    <input
                        type="number"
                        min="1"
                        data-testid="option-cap"
                        prop:value=options.bandwidth_cap_mbps.map(|c| c.to_string()).unwrap_or_default()
                        on:change=move |ev| {
                            let v = event_target_value(&ev).parse().ok().filter(|c| *c > 0);
                            c.options.update(|o| o.bandwidth_cap_mbps = v);
                        }
                    />
                </label>
                <label>
                    {crate::tx!(i18n, wizard.priority)}" "
                    <input
                        type="number"
                        min="0"
                        max="10"
                        data-testid="option-priority"
                        prop:value=options.priority.unwrap_or(5).to_string()
                        on:change=move |ev| {
                            let v = event_target_value(&ev).parse().ok().filter(|p| *p <= 10);
                            c.options.update(|o| o.priority = v);
                        }
                    />
                </label>
            </div>
            <p class="muted">
                {if warnings > 0 {
                    fill(t_string!(i18n, wizard.warnings), &[("warnings", warnings.to_string())]) + " "
                } else {
                    String::new()
                }}
                {crate::tx!(i18n, wizard.server_checks)}
            </p>
            {if crate::allowed(domain::accounts::Role::Operator) {
                view! {
                    <button
                        class="primary"
                        data-testid="wizard-start"
                        disabled=move || c.starting.get()
                        on:click=move |_| start(request.clone(), c)
                    >
                        {move || if c.starting.get() { t_string!(i18n, wizard.starting) } else { t_string!(i18n, wizard.start) }}
                    </button>
                }
                    .into_any()
            } else {
                view! {
                    <p class="muted" data-testid="wizard-start-denied">
                        {crate::tx!(i18n, wizard.needs_operator)}
                    </p>
                }
                    .into_any()
            }}
            {move || c.start_error.get().map(|e| view! { <p class="error" data-testid="wizard-start-error">{e}</p> })}
        </div>
    }
    .into_any()
}
