//! The map past the scale threshold (docs/DESIGN.md#the-map-at-scale): every cluster as a
//! tile of aggregates with a compact host grid (one cell per host, coloured by load, marked
//! while it sends or receives a migration); the clusters named in `?open=` shown in full
//! above it, as the small map shows every cluster. Only the tiles and the open clusters are
//! loaded, and the live link is scoped to them.

use super::model::MapModel;
use super::window::{large_cluster, WINDOWED_FROM_HOSTS};
use super::{cluster_view, Motion, PlanMarks};
use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use crate::live::LiveState;
use crate::rpc;
use domain::format;
use domain::overview::ClusterTile;
use domain::{ClusterId, HostId, HostState, Inventory, VmId};
use leptos::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The clusters named in `?open=` (comma-separated ids).
fn open_clusters() -> Memo<Vec<ClusterId>> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            q.get("open")
                .map(|s| {
                    s.split(',')
                        .filter_map(|p| p.trim().parse::<uuid::Uuid>().ok().map(ClusterId))
                        .collect()
                })
                .unwrap_or_default()
        })
    })
}

#[component]
pub(super) fn Overview(moving: Memo<BTreeMap<VmId, Motion>>, plans: PlanMarks) -> impl IntoView {
    let live = expect_context::<LiveState>();
    let open = open_clusters();
    Effect::new(move |_| live.open.set(open.get()));
    on_cleanup(move || {
        live.open.try_set(Vec::new());
    });
    let first = Resource::new(|| (), |_| rpc::map_overview());
    let part = Resource::new(
        move || open.get(),
        |ids| async move {
            if ids.is_empty() {
                Ok(Inventory::default())
            } else {
                rpc::map_clusters(ids).await
            }
        },
    );
    // Migrations in flight: how many leave and reach each host.
    let ends: Memo<HashMap<HostId, (u32, u32)>> = Memo::new(move |_| {
        live.migrations.with(|map| {
            let mut ends: HashMap<HostId, (u32, u32)> = HashMap::new();
            for m in map.values().filter(|m| !m.phase.is_final()) {
                ends.entry(m.source_host_id).or_default().0 += 1;
                ends.entry(m.target_host_id).or_default().1 += 1;
            }
            ends
        })
    });
    super::scroll_to_highlight(move || {
        part.with(|p| p.is_some()) || live.scoped.with(|s| s.is_some())
    });
    let i18n = use_i18n();
    view! {
        <Suspense fallback=move || view! { <p class="empty">{crate::tx!(i18n, map.loading_cluster)}</p> }>
            {move || {
                part.get().map(|r| match r {
                    Ok(fetched) => shown_clusters(fetched, open, live, moving, plans).into_any(),
                    Err(e) => view! { <p class="error">{crate::tx!(i18n, map.cluster_failed)}" " {e.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
        <Suspense fallback=move || view! { <p class="empty">{crate::tx!(i18n, map.loading_overview)}</p> }>
            {move || {
                first.get().map(|r| match r {
                    Ok(initial) => tiles_view(initial, live, open, ends).into_any(),
                    Err(e) => view! { <p class="error">{crate::tx!(i18n, map.overview_failed)}" " {e.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}

/// The open clusters in full: from the live link once it holds them, else as loaded. A large
/// cluster draws the columns in view and redraws a card only when its host changes
/// (`super::window`); a small one redraws whole.
fn shown_clusters(
    fetched: Inventory,
    open: Memo<Vec<ClusterId>>,
    live: LiveState,
    moving: Memo<BTreeMap<VmId, Motion>>,
    plans: PlanMarks,
) -> impl IntoView {
    let lang = use_lang();
    let i18n = use_i18n();
    let model = Memo::new(move |_| {
        let wanted: BTreeSet<ClusterId> = open.get().into_iter().collect();
        let l = lang.get();
        live.scoped.with(|s| match s {
            Some(inv) if inv.clusters.keys().copied().collect::<BTreeSet<_>>() == wanted => {
                MapModel::build(inv, l)
            }
            _ => MapModel::build(&fetched, l),
        })
    });
    // Which clusters, and which of them are large: what changes the page's layout.
    let layout = Memo::new(move |_| {
        model.with(|m| {
            m.clusters
                .iter()
                .map(|c| (c.id, c.hosts.len() > WINDOWED_FROM_HOSTS))
                .collect::<Vec<_>>()
        })
    });
    move || {
        let layout = layout.get();
        if layout.is_empty() {
            return None;
        }
        let clusters = layout
            .into_iter()
            .map(|(id, large)| {
                if large {
                    large_cluster(id, model, moving, live.lab, plans).into_any()
                } else {
                    let cluster =
                        move || model.with(|m| m.clusters.iter().find(|c| c.id == id).cloned());
                    (move || cluster().map(|c| cluster_view(c, moving, live.lab, plans))).into_any()
                }
            })
            .collect_view();
        Some(view! {
            <div class="open-clusters" data-testid="open-clusters">
                <a class="link small" href="/" data-testid="overview-back">{crate::tx!(i18n, map.all_clusters)}</a>
                {clusters}
            </div>
        })
    }
}

fn tiles_view(
    initial: Vec<ClusterTile>,
    live: LiveState,
    open: Memo<Vec<ClusterId>>,
    ends: Memo<HashMap<HostId, (u32, u32)>>,
) -> impl IntoView {
    let initial = StoredValue::new(initial);
    let tiles = move || {
        let held = live.tiles.get();
        if held.is_empty() {
            initial.get_value()
        } else {
            held
        }
    };
    let lang = use_lang();
    let i18n = use_i18n();
    let summary = move || {
        let t = tiles();
        let l = lang.get();
        let hosts: usize = t.iter().map(|t| t.hosts.len()).sum();
        let vms: u64 = t.iter().map(|t| u64::from(t.vms)).sum();
        fill(
            t_string!(i18n, map.overview_summary),
            &[
                ("clusters", format::count(l, t.len() as u64)),
                ("hosts", format::count(l, hosts as u64)),
                ("vms", format::count(l, vms)),
            ],
        )
    };
    // A switch of language draws the tiles again, in it.
    view! {
        <p class="summary" data-testid="map-summary">{summary}</p>
        <div class="tiles" data-testid="overview">
            {move || {
                lang.get();
                view! {
                    <For each=tiles key=|t| t.clone() let:tile>
                        {tile_view(tile, open, ends, live)}
                    </For>
                }
            }}
        </div>
    }
}

fn load_class(load: u8) -> &'static str {
    match load {
        0..=49 => "cell l-low",
        50..=74 => "cell l-mid",
        75..=89 => "cell l-warm",
        _ => "cell l-high",
    }
}

fn tile_view(
    tile: ClusterTile,
    open: Memo<Vec<ClusterId>>,
    ends: Memo<HashMap<HostId, (u32, u32)>>,
    live: LiveState,
) -> impl IntoView {
    let id = tile.id;
    let hosts: Vec<HostId> = tile.hosts.iter().map(|h| h.id).collect();
    let members: std::collections::HashSet<HostId> = hosts.iter().copied().collect();
    // Each cell's mark, recomputed for this tile only when its hosts' migrations change.
    let marks: Memo<Vec<(u32, u32)>> = Memo::new(move |_| {
        ends.with(|e| {
            hosts
                .iter()
                .map(|h| e.get(h).copied().unwrap_or_default())
                .collect()
        })
    });
    let in_flight = Memo::new(move |_| {
        live.migrations.with(|map| {
            map.values()
                .filter(|m| !m.phase.is_final())
                .filter(|m| {
                    members.contains(&m.source_host_id) || members.contains(&m.target_host_id)
                })
                .count()
        })
    });
    let is_open = move || open.with(|o| o.contains(&id));
    let name = tile.name.clone();
    let i18n = use_i18n();
    let l = use_lang().get_untracked();
    let hosts_line = if tile.maintenance > 0 {
        fill(
            t_string!(i18n, map.hosts_in_maintenance),
            &[
                ("hosts", format::count(l, tile.hosts.len() as u64)),
                ("maintenance", tile.maintenance.to_string()),
            ],
        )
    } else {
        format::count(l, tile.hosts.len() as u64)
    };
    let vms_line = fill(
        t_string!(i18n, map.vms_on),
        &[
            ("vms", format::count(l, u64::from(tile.vms))),
            ("on", format::count(l, u64::from(tile.running_vms))),
        ],
    );
    let cpu = format::pct(l, tile.cpu_percent(), 0);
    let memory = format::pct(l, tile.memory_percent(), 0);
    let space = fill(
        t_string!(i18n, map.share_of),
        &[
            ("share", format::pct(l, tile.space_percent(), 0)),
            ("total", format::mib(l, tile.space_mib)),
        ],
    );
    let cell_title = t_string!(i18n, map.cell_title);
    let cells = tile
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let title = fill(
                cell_title,
                &[
                    ("host", h.name.to_string()),
                    ("load", format::pct(l, f64::from(h.load), 0)),
                    ("vms", h.vms.to_string()),
                ],
            );
            let state = match h.state {
                HostState::Connected => None,
                HostState::Maintenance => Some("maintenance"),
                HostState::Disconnected => Some("disconnected"),
            };
            let moving = move || {
                marks.with(|m| match m.get(i).copied().unwrap_or_default() {
                    (0, 0) => None,
                    (_, 0) => Some("out"),
                    (0, _) => Some("in"),
                    _ => Some("both"),
                })
            };
            view! {
                <li class=load_class(h.load) data-state=state data-moving=moving data-testid=format!("cell-{}", h.name) title=title></li>
            }
        })
        .collect_view();
    view! {
        <article class="tile" class:open=is_open data-testid=format!("tile-{name}")>
            <h2>
                <a href=format!("/?open={id}") data-testid=format!("open-{name}")>{name.clone()}</a>
            </h2>
            {tile.vcenter.clone().map(|v| view! { <p class="badge vcenter">"vCenter · "{v}</p> })}
            <dl class="aggregates">
                <div><dt>{crate::tx!(i18n, map.hosts)}</dt><dd data-testid="tile-hosts">{hosts_line}</dd></div>
                <div><dt>"VMs"</dt><dd data-testid="tile-vms">{vms_line}</dd></div>
                <div><dt>"CPU"</dt><dd data-testid="tile-cpu">{cpu}</dd></div>
                <div><dt>{crate::tx!(i18n, map.memory)}</dt><dd data-testid="tile-memory">{memory}</dd></div>
                <div><dt>{crate::tx!(i18n, map.storage)}</dt><dd data-testid="tile-storage">{space}</dd></div>
                <div><dt>{crate::tx!(i18n, map.migrating)}</dt><dd data-testid="tile-migrations">{move || in_flight.get()}</dd></div>
            </dl>
            <ul class="host-grid" aria-label=fill(t_string!(i18n, map.host_grid), &[("cluster", name.clone())])>{cells}</ul>
        </article>
    }
}
