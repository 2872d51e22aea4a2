//! What the pages ask for at vCenter's scale (docs/DESIGN.md#the-map-at-scale): the map's
//! overview, the part of the inventory open clusters show, and search by name.

use super::ServerError;
use domain::overview::ClusterTile;
use domain::search::Found;
use domain::{ClusterId, Inventory, ObjectKind, VmId};
use leptos::prelude::*;
use leptos::server_fn::codec::PostUrl;

/// The most hits one search returns.
pub const MAX_HITS: usize = 200;

/// Every cluster's tile, by name.
#[server(prefix = "/rpc", endpoint = "viewer/map/overview", input = PostUrl, output = crate::rpc::TextJson)]
pub async fn map_overview() -> Result<Vec<ClusterTile>, ServerError> {
    call!(MapOverview, |api, _| async { Ok(api.overview()) })
}

/// What these clusters show on the map: them, their hosts and VMs, what their hosts reach.
#[server(prefix = "/rpc", endpoint = "viewer/map/clusters", input = super::FieldJson, output = crate::rpc::TextJson)]
pub async fn map_clusters(clusters: Vec<ClusterId>) -> Result<Inventory, ServerError> {
    call!(MapClusters, |api, _| async {
        Ok(api.inventory_scope(clusters.into_iter().collect()))
    })
}

/// What the cluster of a VM shows: the migrate wizard's inventory at scale.
#[server(prefix = "/rpc", endpoint = "viewer/map/vm", input = super::FieldJson, output = crate::rpc::TextJson)]
pub async fn vm_scope(vm: VmId) -> Result<Inventory, ServerError> {
    call!(VmScope, |api, _| async {
        api.vm_scope(vm).ok_or_else(|| ServerError {
            field: Some("vm".into()),
            words: None,
            ..ServerError::new(404, "not_found", format!("vm: no VM {vm}"))
        })
    })
}

/// Objects whose name contains `text` (all kinds, or `only` one), best first.
#[server(prefix = "/rpc", endpoint = "viewer/search", input = super::FieldJson, output = crate::rpc::TextJson)]
pub async fn search(
    text: String,
    only: Option<ObjectKind>,
    limit: usize,
) -> Result<Found, ServerError> {
    call!(Search, |api, _| async {
        if text.chars().count() > 200 {
            return Err(ServerError {
                field: Some("text".into()),
                words: None,
                ..ServerError::new(422, "invalid", "text: at most 200 characters")
            });
        }
        Ok(api.search(text, only, limit.min(MAX_HITS)))
    })
}

/// The most objects one `object_names` call names.
pub const MAX_NAMES: usize = 100;

/// The names of a few objects (those that exist, whatever their kind), for a page that shows
/// them without loading the inventory.
#[server(prefix = "/rpc", endpoint = "viewer/inventory/names", input = super::FieldJson, output = crate::rpc::TextJson)]
pub async fn object_names(ids: Vec<uuid::Uuid>) -> Result<Vec<(uuid::Uuid, String)>, ServerError> {
    call!(ObjectNames, |api, _| async {
        if ids.len() > MAX_NAMES {
            return Err(ServerError {
                field: Some("ids".into()),
                words: None,
                ..ServerError::new(422, "invalid", format!("ids: at most {MAX_NAMES}"))
            });
        }
        let mut names = Vec::with_capacity(ids.len());
        api.read_inventory(&mut |inv| {
            names.extend(ids.iter().filter_map(|&id| {
                ObjectKind::ALL
                    .into_iter()
                    .find_map(|kind| inv.get(kind, id))
                    .map(|o| (id, o.name().to_string()))
            }));
        });
        Ok(names)
    })
}

/// One page of an inventory table (docs/DESIGN.md#paged-lists).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TablePage {
    /// The first row's place in the whole list, and the rows from there.
    pub offset: usize,
    pub rows: Vec<TableRow>,
    /// How many objects match in all.
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableRow {
    pub id: uuid::Uuid,
    pub name: String,
    pub cells: Vec<String>,
    /// The vCenter it is mirrored from: read-only here (docs/VCENTER.md#mirrored-objects).
    pub vcenter: Option<String>,
}

/// The rows of a kind's table that `query` asks for, built on the server.
#[server(prefix = "/rpc", endpoint = "viewer/inventory/page", input = super::FieldJson, output = crate::rpc::TextJson)]
pub async fn inventory_page(
    kind: ObjectKind,
    query: domain::listing::ListQuery,
    /// The language of the rows' words and figures.
    #[server(default)]
    lang: domain::Lang,
) -> Result<TablePage, ServerError> {
    let locale = crate::lang::locale_of(lang);
    call!(InventoryPage, |api, _| async {
        let mut page = Err(ServerError::new(
            500,
            "internal",
            "the inventory was not read",
        ));
        api.read_inventory(&mut |inv| {
            page = domain::listing::list(inv, kind, &query)
                .map_err(ServerError::from)
                .map(|listing| TablePage {
                    offset: query.offset,
                    rows: listing
                        .ids
                        .iter()
                        .filter_map(|id| crate::tables::row(locale, kind, inv, *id))
                        .map(|(id, name, cells)| TableRow {
                            vcenter: inv.sources.get(&id).map(|s| s.vcenter.clone()),
                            id,
                            name,
                            cells,
                        })
                        .collect(),
                    total: listing.total,
                });
        });
        page
    })
}
