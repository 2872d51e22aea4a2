//! The cluster map: hosts in columns grouped by cluster with their VMs, and below them the
//! datastores and distributed switches as bars joining the hosts they reach.

pub mod model;
mod overview;
mod window;

use crate::components::Gauge;
use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use crate::live::{InventoryResource, LiveState};
use crate::protocol::LabGuest;
use domain::{CpuVendor, HostState, PowerState};
use domain::{HostId, VmId};
use leptos::prelude::*;
use model::{ClusterView, FabricBar, FabricKind, HostView, MapModel};
use std::collections::BTreeMap;

/// Width of a host column, in pixels (the CSS grid and the SVG bars share it).
const COLUMN: usize = 200;
const ROW: usize = 34;

#[component]
pub fn MapPage() -> impl IntoView {
    crate::mark_ready();
    let inventory = expect_context::<InventoryResource>();
    let live = expect_context::<LiveState>();
    // VMs in motion: where they go and how far along they are.
    let i18n = crate::i18n::use_i18n();
    let moving: Memo<BTreeMap<VmId, Motion>> = Memo::new(move |_| {
        let locale = i18n.get_locale();
        live.migrations.with(|map| {
            map.values()
                .filter(|m| !m.phase.is_final())
                .map(|m| {
                    (
                        m.vm_id,
                        Motion {
                            to: crate::phrase_text::said_in(
                                locale,
                                m.target_words.as_ref(),
                                &m.target,
                            ),
                            percent: m.percent.floor(),
                            phase: m.phase.as_str(),
                            migration: m.id.to_string(),
                        },
                    )
                })
                .collect()
        })
    });
    // Plans under way: the hosts they are emptying, and when each is predicted to be empty.
    let active = Resource::new(|| (), |_| crate::rpc::list_plans(true));
    Effect::new(move |_| {
        if let Some(Ok(plans)) = active.get() {
            live.absorb_plans(plans);
        }
    });
    let evacuating: Memo<BTreeMap<HostId, Evacuation>> = Memo::new(move |_| {
        live.plans.with(|plans| {
            plans
                .values()
                .flat_map(|p| {
                    p.evacuating().into_iter().map(|h| {
                        (
                            h,
                            Evacuation {
                                plan: p.id.to_string(),
                                ends_ms: p.predicted_end_ms,
                            },
                        )
                    })
                })
                .collect()
        })
    });
    // A clock for the countdowns, ticking once a second in the browser.
    let now = RwSignal::new(crate::pages::plans::parts::now_ms());
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || now.set(crate::pages::plans::parts::now_ms()),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let plans = PlanMarks { evacuating, now };
    let query = leptos_router::hooks::use_query_map();
    provide_context(Highlight(Memo::new(move |_| {
        query.with(|q| q.get("highlight"))
    })));
    if expect_context::<crate::Scale>().large {
        return view! {
            <section class="page map-page" data-testid="map" data-scale="overview">
                <h1 class="visually-hidden">{crate::tx!(i18n, shell.map)}</h1>
                <overview::Overview moving plans/>
            </section>
        }
        .into_any();
    }
    scroll_to_highlight(move || inventory.with(|i| i.is_some()));
    let i18n = use_i18n();
    let lang = use_lang();
    view! {
        <section class="page map-page" data-testid="map">
            <h1 class="visually-hidden">{crate::tx!(i18n, shell.map)}</h1>
            <Suspense fallback=move || view! { <p class="empty">{crate::tx!(i18n, map.loading)}</p> }>
                {move || {
                    inventory
                        .get()
                        .map(|result| match result {
                            Ok(inv) => {
                                let l = lang.get();
                                let model = MapModel::build(&inv, l);
                                let count = |n: usize| domain::format::count(l, n as u64);
                                let summary = fill(
                                    t_string!(i18n, map.summary),
                                    &[
                                        ("clusters", count(inv.clusters.len())),
                                        ("hosts", count(inv.hosts.len())),
                                        ("vms", count(inv.vms.len())),
                                        ("datastores", count(inv.datastores.len())),
                                    ],
                                );
                                view! {
                                    <p class="summary" data-testid="map-summary">{summary}</p>
                                    {model
                                        .clusters
                                        .into_iter()
                                        .map(|c| cluster_view(c, moving, live.lab, plans))
                                        .collect_view()}
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <p class="error">{crate::tx!(i18n, map.load_failed)}" " {e.to_string()}</p> }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
    .into_any()
}

/// The object the map is asked to show (`?highlight=<id>`, from search): marked, scrolled to.
#[derive(Clone, Copy)]
struct Highlight(Memo<Option<String>>);

/// Scrolls the highlighted object into the middle of the view, once per `?highlight=`,
/// when `shown` says the map holds it.
fn scroll_to_highlight(shown: impl Fn() -> bool + Send + Sync + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let scrolled = StoredValue::new(None::<String>);
        let query = leptos_router::hooks::use_query_map();
        Effect::new(move |_| {
            let wanted = query.with(|q| q.get("highlight"));
            if !shown() || wanted.is_none() || scrolled.get_value() == wanted {
                return;
            }
            set_timeout(
                move || {
                    if let Ok(Some(el)) = document().query_selector("[data-highlighted]") {
                        let options = web_sys::ScrollIntoViewOptions::new();
                        options.set_block(web_sys::ScrollLogicalPosition::Center);
                        options.set_inline(web_sys::ScrollLogicalPosition::Center);
                        el.scroll_into_view_with_scroll_into_view_options(&options);
                        scrolled.set_value(wanted);
                    }
                },
                std::time::Duration::from_millis(50),
            );
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = shown;
}

/// Whether `id` is the highlighted object (reactive).
fn lit(id: impl ToString) -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let highlight = use_context::<Highlight>().map(|h| h.0);
    let id = StoredValue::new(id.to_string());
    move || highlight.is_some_and(|h| h.with(|h| h.as_deref() == Some(id.get_value().as_str())))
}

/// A host a plan is emptying, and when it is predicted to be done.
#[derive(Debug, Clone, PartialEq)]
struct Evacuation {
    plan: String,
    ends_ms: Option<i64>,
}

/// What the map shows of the plans under way.
#[derive(Clone, Copy)]
struct PlanMarks {
    evacuating: Memo<BTreeMap<HostId, Evacuation>>,
    now: RwSignal<i64>,
}

/// A VM in motion, as the map marks it.
#[derive(Debug, Clone, PartialEq)]
struct Motion {
    to: String,
    percent: f64,
    phase: &'static str,
    migration: String,
}

fn cluster_view(
    cluster: ClusterView,
    moving: Memo<BTreeMap<VmId, Motion>>,
    lab: RwSignal<BTreeMap<VmId, LabGuest>>,
    plans: PlanMarks,
) -> AnyView {
    let operator = crate::allowed(domain::accounts::Role::Operator);
    let columns = cluster.hosts.len().max(1);
    let grid = format!("grid-template-columns: 15rem repeat({columns}, {COLUMN}px)");
    let head = cluster_head(&cluster, operator);
    view! {
        <article class="cluster" data-testid=format!("cluster-{}", cluster.name)>
            <div class="cluster-grid" style=grid>
                {head}
                {cluster.hosts.into_iter().map(|h| host_card(h, moving, lab, plans, operator)).collect_view()}
                {cluster
                    .fabric
                    .into_iter()
                    .map(|bar| fabric_row(bar, columns, operator))
                    .collect_view()}
            </div>
        </article>
    }
    .into_any()
}

/// The first column of a cluster: its name, source, counts and EVC level.
fn cluster_head(cluster: &ClusterView, operator: bool) -> AnyView {
    let i18n = use_i18n();
    let level = cluster.evc_level;
    let evc = move || match level {
        Some(l) => fill(t_string!(i18n, map.evc_level), &[("level", l.to_string())]),
        None => t_string!(i18n, map.evc_off).to_string(),
    };
    let host_count = cluster.hosts.len();
    let vm_count: usize = cluster.hosts.iter().map(|h| h.vms.len()).sum();
    let counts = move || {
        fill(
            t_string!(i18n, map.cluster_counts),
            &[
                ("hosts", host_count.to_string()),
                ("vms", vm_count.to_string()),
            ],
        )
    };
    let name = cluster.name.clone();
    let id = cluster.id;
    view! {
        <div class="cluster-head">
            <h2>{name.clone()}</h2>
            {cluster.vcenter.clone().map(|v| view! {
                <p class="badge vcenter" data-testid=format!("vcenter-{name}")
                    title=crate::tx!(i18n, map.mirrored)>
                    "vCenter · "{v}
                </p>
            })}
            <p class="muted">{counts}</p>
            <p class="muted">{evc}</p>
            {operator.then(|| view! {
                <a class="link small" href=format!("/plans/new?rolling={id}") data-testid=format!("rolling-{name}")>
                    {crate::tx!(i18n, map.rolling)}
                </a>
            })}
        </div>
    }
    .into_any()
}

fn host_card(
    host: HostView,
    moving: Memo<BTreeMap<VmId, Motion>>,
    lab: RwSignal<BTreeMap<VmId, LabGuest>>,
    plans: PlanMarks,
    operator: bool,
) -> AnyView {
    let i18n = use_i18n();
    let lang = use_lang();
    let host_id = host.id;
    let evacuation = move || plans.evacuating.with(|m| m.get(&host_id).cloned());
    let countdown_testid = format!("evacuating-{}", host.name);
    let countdown = move || {
        evacuation().map(|e| {
            let left = e.ends_ms.map(|end| {
                domain::format::duration(lang.get(), ((end - plans.now.get()).max(0) as f64) / 1000.0)
            });
            let text = match left {
                Some(l) => fill(t_string!(i18n, map.evacuating_left), &[("left", l)]),
                None => t_string!(i18n, map.evacuating).to_string(),
            };
            view! {
                <a class="evacuating" href=format!("/plans/{}", e.plan) data-testid=countdown_testid.clone()>{text}</a>
            }
        })
    };
    let plan_link = operator.then(|| {
        let exit = host.state == HostState::Maintenance;
        let (query, testid) = if exit {
            ("exit", format!("exit-maintenance-{}", host.name))
        } else {
            ("evacuate", format!("maintenance-{}", host.name))
        };
        let label = move || {
            if exit {
                t_string!(i18n, map.exit_maintenance)
            } else {
                t_string!(i18n, map.enter_maintenance)
            }
        };
        view! {
            <a class="link small" href=format!("/plans/new?{query}={}", host.id) data-testid=testid>{label}</a>
        }
    });
    let state = match host.state {
        HostState::Connected => "connected",
        HostState::Maintenance => "maintenance",
        HostState::Disconnected => "disconnected",
    };
    let host_state = host.state;
    let state_name = move || match host_state {
        HostState::Connected => t_string!(i18n, states.connected),
        HostState::Maintenance => t_string!(i18n, states.maintenance),
        HostState::Disconnected => t_string!(i18n, states.disconnected),
    };
    let vendor = match host.vendor {
        CpuVendor::Intel => "Intel",
        CpuVendor::Amd => "AMD",
    };
    let host_lit = lit(host.id);
    view! {
        <div class="host" class:highlight=host_lit data-highlighted=move || host_lit().then_some("true") data-testid=format!("host-{}", host.name) data-state=state>
            <header>
                <strong>{host.name.clone()}</strong>
                <span class=format!("badge state-{state}")>{state_name}</span>
            </header>
            <p class="muted small">{format!("{vendor} · {}", host.vmotion)}</p>
            {countdown}
            {plan_link}
            <Gauge label="CPU" percent=host.cpu_percent detail=host.cpu_label/>
            <Gauge label=t_string!(i18n, map.memory) percent=host.memory_percent detail=host.memory_label/>
            {host
                .local_datastores
                .into_iter()
                .map(|ds| {
                    let testid = format!("datastore-{}", ds.name);
                    let drain = operator.then(|| view! {
                        <a class="link small" href=format!("/plans/new?drain={}", ds.id) data-testid=format!("drain-{}", ds.name)>{crate::tx!(i18n, map.drain)}</a>
                    });
                    view! {
                        <div class="local-ds" data-testid=testid title=crate::tx!(i18n, map.local_datastore)>
                            <span class="fabric-name">{ds.name}</span>
                            {drain}
                            <Gauge label=t_string!(i18n, map.local) percent=ds.percent detail=ds.detail/>
                        </div>
                    }
                })
                .collect_view()}
            <ul class="vms">
                {host
                    .vms
                    .into_iter()
                    .map(|vm| {
                        let power = match vm.power {
                            PowerState::On => "on",
                            PowerState::Off => "off",
                            PowerState::Suspended => "suspended",
                        };
                        let testid = format!("vm-{}", vm.name);
                        let id = vm.id;
                        let motion = move || moving.with(|m| m.get(&id).cloned());
                        let vm_lit = lit(id);
                        let class = move || {
                            if motion().is_some() {
                                format!("vm power-{power} moving")
                            } else {
                                format!("vm power-{power}")
                            }
                        };
                        let badge_testid = format!("vm-moving-{}", vm.name);
                        let real_testid = format!("vm-real-{}", vm.name);
                        // A real lab guest (QEMU driver): its heartbeat, live.
                        let real = move || {
                            lab.with(|l| l.get(&id).cloned()).map(|g| {
                                let beat = g.heartbeat.map_or(t_string!(i18n, map.booting).to_string(), |b| format!("♥ {b}"));
                                let title = fill(
                                    t_string!(i18n, map.real_guest),
                                    &[
                                        ("heartbeat", g.heartbeat.unwrap_or(0).to_string()),
                                        ("uptime", (g.uptime_ms.unwrap_or(0) / 1000).to_string()),
                                        ("verified", g.disk_ok.to_string()),
                                        ("bad", g.disk_bad.to_string()),
                                    ],
                                );
                                let class = if g.disk_bad > 0 { "real bad" } else { "real" };
                                view! {
                                    <span
                                        class=class
                                        data-testid=real_testid.clone()
                                        data-heartbeat=g.heartbeat.unwrap_or(0)
                                        title=title
                                    >
                                        {beat}
                                    </span>
                                }
                            })
                        };
                        view! {
                            <li class=class class:highlight=vm_lit data-highlighted=move || vm_lit().then_some("true") data-testid=testid title=vm.detail>
                                <a href=format!("/migrate?vm={}", vm.id) title=crate::tx!(i18n, shell.migrate)>
                                    <span class="dot"></span>
                                    {vm.name}
                                    // The dot's colour in words, for a state other than on
                                    // (docs/ACCESSIBILITY.md: not by colour alone).
                                    {(vm.power != PowerState::On).then(|| view! {
                                        <span class="visually-hidden">" ("{crate::names::power_state(i18n, vm.power)}")"</span>
                                    })}
                                </a>
                                {real}
                                {move || {
                                    motion()
                                        .map(|m| {
                                            view! {
                                                <a
                                                    class="motion"
                                                    href=format!("/tasks/{}", m.migration)
                                                    data-testid=badge_testid.clone()
                                                    data-phase=m.phase
                                                    title=t_string!(i18n, map.in_motion)
                                                >
                                                    <span class="motion-track">
                                                        <span
                                                            class="motion-fill"
                                                            style=format!("width: {}%", m.percent)
                                                        ></span>
                                                    </span>
                                                    {format!("→ {} {:.0} %", m.to, m.percent)}
                                                </a>
                                            }
                                        })
                                }}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

fn fabric_row(bar: FabricBar, columns: usize, operator: bool) -> AnyView {
    let i18n = use_i18n();
    let drain = (operator && matches!(bar.kind, FabricKind::Datastore(_))).then(|| view! {
        <a class="link small" href=format!("/plans/new?drain={}", bar.id) data-testid=format!("drain-{}", bar.name)>{crate::tx!(i18n, map.drain)}</a>
    });
    let (class, kind_label, testid) = match bar.kind {
        FabricKind::Switch => (
            "fabric switch",
            "vDS".to_string(),
            format!("switch-{}", bar.name),
        ),
        FabricKind::Datastore(k) => (
            "fabric datastore",
            crate::names::datastore_kind(i18n, k).to_string(),
            format!("datastore-{}", bar.name),
        ),
    };
    let width = columns * COLUMN;
    let center = |c: usize| c * COLUMN + COLUMN / 2;
    let first = bar.columns.iter().copied().min().unwrap_or(0);
    let last = bar.columns.iter().copied().max().unwrap_or(0);
    let y = ROW / 2;
    let others = bar.elsewhere;
    let elsewhere = move || {
        (others > 0).then(|| {
            fill(
                t_string!(i18n, map.elsewhere),
                &[("hosts", others.to_string())],
            )
        })
    };
    let level = bar.gauge.as_ref().map(|(p, _)| {
        if *p > 90.0 {
            "high"
        } else if *p > 75.0 {
            "warm"
        } else {
            "ok"
        }
    });
    let space = bar.gauge.map(|(_, detail)| format!(" · {detail}"));
    view! {
        <div class=format!("{class} fabric-label") data-testid=testid>
            <span class="fabric-name">{bar.name.clone()}</span>
            <span class=format!("muted small space-{}", level.unwrap_or("none"))>{kind_label}{space}{elsewhere}</span>
            {drain}
        </div>
        <svg
            class=format!("{class} fabric-bar")
            width=width
            height=ROW
            viewBox=format!("0 0 {width} {ROW}")
            role="img"
            aria-label={
                let (name, reach) = (bar.name.clone(), bar.columns.len());
                move || fill(t_string!(i18n, map.connects), &[("name", name.clone()), ("hosts", reach.to_string())])
            }
        >
            {(0..columns)
                .map(|c| view! { <line class="guide" x1=center(c) x2=center(c) y1=0 y2=ROW></line> })
                .collect_view()}
            <line class="bar" x1=center(first) x2=center(last) y1=y y2=y></line>
            {bar
                .columns
                .iter()
                .map(|&c| view! { <circle class="tap" cx=center(c) cy=y r=5></circle> })
                .collect_view()}
        </svg>
    }
    .into_any()
}
