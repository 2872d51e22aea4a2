//! An open cluster of more than [`WINDOWED_FROM_HOSTS`] hosts (docs/DESIGN.md#large-open-clusters):
//! every host keeps its column, but only the columns in view — and a margin on each side —
//! hold their card and VMs; the others are empty slots of the same width. Each card redraws
//! only when its own host changes, so a live change neither redraws the cluster nor loses
//! where it is scrolled.

use super::model::{ClusterView, MapModel};
use super::{cluster_head, fabric_row, host_card, Highlight, Motion, PlanMarks, COLUMN};
use crate::protocol::LabGuest;
use domain::{ClusterId, VmId};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Past this many hosts an open cluster draws only the columns in view.
pub(super) const WINDOWED_FROM_HOSTS: usize = 16;
/// Columns drawn on each side of those in view.
const MARGIN: usize = 2;
/// Columns drawn before the browser has measured the view (the server's rendering and the
/// hydration that must match it).
const FIRST_COLUMNS: usize = 8;
/// The head column (15rem) and the grid's padding, in CSS pixels.
const HEAD_PX: f64 = 256.0;

/// The columns to draw, `first..end`, for a cluster scrolled `scroll_left` pixels in a view
/// `width` pixels wide.
pub(super) fn columns_in_view(scroll_left: f64, width: f64, count: usize) -> (usize, usize) {
    let column = COLUMN as f64;
    let first = ((scroll_left - HEAD_PX) / column).floor().max(0.0) as usize;
    let last = ((scroll_left + width - HEAD_PX) / column).ceil().max(0.0) as usize;
    (
        first.saturating_sub(MARGIN).min(count),
        (last + MARGIN).min(count),
    )
}

/// The column of the host that is, or holds, the object `wanted` (a host or VM id).
fn column_of(cluster: &ClusterView, wanted: &str) -> Option<usize> {
    cluster.hosts.iter().position(|host| {
        host.id.to_string() == wanted || host.vms.iter().any(|vm| vm.id.to_string() == wanted)
    })
}

/// The columns drawn first: from the highlighted object's host when it is in this cluster
/// (the page then scrolls to it), else from the first.
pub(super) fn first_columns(cluster: &ClusterView, highlight: Option<&str>) -> (usize, usize) {
    let at = highlight.and_then(|h| column_of(cluster, h)).unwrap_or(0);
    let first = at.saturating_sub(MARGIN);
    (first, (first + FIRST_COLUMNS).min(cluster.hosts.len()))
}

/// The open cluster `id` of `model`, drawn by the columns in view.
pub(super) fn large_cluster(
    id: ClusterId,
    model: Memo<MapModel>,
    moving: Memo<BTreeMap<VmId, Motion>>,
    lab: RwSignal<BTreeMap<VmId, LabGuest>>,
    plans: PlanMarks,
) -> impl IntoView {
    let operator = crate::allowed(domain::accounts::Role::Operator);
    let cluster =
        Memo::new(move |_| model.with(|m| m.clusters.iter().find(|c| c.id == id).cloned()));
    let count = Memo::new(move |_| cluster.with(|c| c.as_ref().map_or(0, |c| c.hosts.len())));
    let highlight = use_context::<Highlight>().map(|h| h.0);
    let wanted_columns = move |wanted: Option<String>| {
        cluster.with_untracked(|c| {
            c.as_ref()
                .map_or((0, 0), |c| first_columns(c, wanted.as_deref()))
        })
    };
    let window = RwSignal::new(wanted_columns(highlight.and_then(|h| h.get_untracked())));
    // A highlight asked for later (a search on this page): its column is drawn.
    if let Some(h) = highlight {
        Effect::new(move |ran: Option<()>| {
            let wanted = h.get();
            if ran.is_some() {
                window.set(wanted_columns(wanted));
            }
        });
    }
    let node = NodeRef::<leptos::html::Article>::new();
    let measure = move |el: &leptos::web_sys::Element| {
        let range = columns_in_view(
            f64::from(el.scroll_left()),
            f64::from(el.client_width()),
            count.get_untracked(),
        );
        if window.get_untracked() != range {
            window.set(range);
        }
    };
    // Measured once mounted, unless a highlighted object here is drawn first: the page
    // scrolls to it, and the scroll measures.
    let pinned = highlight
        .and_then(|h| h.get_untracked())
        .is_some_and(|wanted| {
            cluster.with_untracked(|c| c.as_ref().and_then(|c| column_of(c, &wanted)).is_some())
        });
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            if !pinned {
                measure(&el);
            }
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        if let Some(el) = node.get_untracked() {
            measure(&el);
        }
    });
    on_cleanup(move || resize.remove());
    let slot = move |i: usize| {
        let host =
            Memo::new(move |_| cluster.with(|c| c.as_ref().and_then(|c| c.hosts.get(i).cloned())));
        let drawn = Memo::new(move |_| window.with(|(first, end)| (*first..*end).contains(&i)));
        move || match (drawn.get(), host.get()) {
            (true, Some(h)) => host_card(h, moving, lab, plans, operator).into_any(),
            (_, h) => view! {
                <div class="host-slot" data-testid=h.map(|h| format!("slot-{}", h.name))></div>
            }
            .into_any(),
        }
    };
    let fabric = Memo::new(move |_| {
        cluster.with(|c| c.as_ref().map(|c| c.fabric.clone()).unwrap_or_default())
    });
    let name = cluster.with_untracked(|c| c.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    view! {
        <article
            class="cluster"
            data-testid=format!("cluster-{name}")
            data-windowed="true"
            node_ref=node
            on:scroll=move |ev| measure(&event_target::<leptos::web_sys::Element>(&ev))
        >
            <div
                class="cluster-grid"
                style=move || format!("grid-template-columns: 15rem repeat({}, {COLUMN}px)", count.get().max(1))
            >
                {move || cluster.with(|c| c.as_ref().map(|c| cluster_head(c, operator)))}
                {move || (0..count.get()).map(slot).collect_view()}
                {move || {
                    let columns = count.get().max(1);
                    fabric.get().into_iter().map(|bar| fabric_row(bar, columns, operator)).collect_view()
                }}
            </div>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_in_view_and_a_margin_are_drawn() {
        // Unscrolled, 1,000 px wide: the head, then columns 0..4 in view (744 px of them).
        assert_eq!(columns_in_view(0.0, 1000.0, 50), (0, 6));
        // Scrolled past 20 columns: 20..24 in view (one cut at each edge), two more each side.
        assert_eq!(
            columns_in_view(256.0 + 20.0 * 200.0 + 100.0, 800.0, 50),
            (18, 27)
        );
        // At the end: never past the last column.
        assert_eq!(columns_in_view(256.0 + 48.0 * 200.0, 1000.0, 50), (46, 50));
        // A cluster narrower than the view.
        assert_eq!(columns_in_view(0.0, 4000.0, 3), (0, 3));
    }
}
