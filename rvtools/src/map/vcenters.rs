//! Exports that merge several vCenters (docs/IMPORT.md#several-vcenters): every tab's rows
//! carry their vCenter in `VI SDK Server`; each vCenter is mapped on its own, so that its
//! hosts, VMs and networks are joined only with its own, and its objects' ids derive from its
//! instance UUID (`VI SDK UUID`).

use crate::{Table, Workbook};
use std::borrow::Cow;

const SERVER: &[&str] = &["VI SDK Server"];
const INSTANCE: &[&str] = &["VI SDK UUID"];

/// One vCenter's part of the export.
pub(crate) struct Part<'a> {
    /// Its instance UUID, else its server name, else empty.
    pub vcenter: String,
    /// Its server name (what clashing names are suffixed with).
    pub server: String,
    pub book: Cow<'a, Workbook>,
}

/// The vCenters vInfo names, in the order they first appear.
fn servers(info: &Table) -> Vec<String> {
    let Some(col) = info.column(SERVER) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for r in &info.rows {
        if let Some(s) = info.text(r, col) {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
                out.push(s);
            }
        }
    }
    out
}

/// The vCenter's instance UUID as vInfo gives it, else its server name.
fn instance(info: &Table, server: &str) -> String {
    let (Some(s), Some(u)) = (info.column(SERVER), info.column(INSTANCE)) else {
        return server.to_string();
    };
    info.rows
        .iter()
        .find(|r| {
            info.text(r, s)
                .is_some_and(|v| v.eq_ignore_ascii_case(server))
        })
        .and_then(|r| info.text(r, u))
        .unwrap_or_else(|| server.to_string())
}

/// The export cut by vCenter: one part when it holds one (or does not say). A tab without
/// the `VI SDK Server` column goes whole to every part; a row that leaves it empty goes to
/// the first.
pub(crate) fn split(book: &Workbook) -> Vec<Part<'_>> {
    let info = book.get("vInfo").expect("required");
    let servers = servers(info);
    if servers.len() < 2 {
        let server = servers.into_iter().next().unwrap_or_default();
        return vec![Part {
            vcenter: instance(info, &server),
            server,
            book: Cow::Borrowed(book),
        }];
    }
    servers
        .iter()
        .enumerate()
        .map(|(i, server)| {
            let tables = book
                .tables
                .iter()
                .map(|t| match t.column(SERVER) {
                    None => t.clone(),
                    Some(col) => t.with_rows(
                        t.rows
                            .iter()
                            .filter(|r| match t.text(r, col) {
                                Some(s) => s.eq_ignore_ascii_case(server),
                                None => i == 0,
                            })
                            .cloned()
                            .collect(),
                    ),
                })
                .collect();
            Part {
                vcenter: instance(info, server),
                server: server.clone(),
                book: Cow::Owned(Workbook { tables }),
            }
        })
        .collect()
}
