//! The tabs mapped to vmshift's inventory (docs/IMPORT.md#mapping): clusters and hosts, then
//! datastores and networks, then VMs. What the export does not say is inferred where the
//! other tabs allow, and every inference is reported as a guess with how many objects it
//! touched; a row that cannot be used is left out with a warning naming its tab, row and
//! column. Objects of the inventory with the same name keep their ids, so a newer export of
//! the same environment updates them instead of creating them twice.

mod attachments;
mod hosts;
mod ids;
mod keep;
mod network;
mod storage;
mod vcenters;
mod vms;

use crate::{ReadError, Row, Table, Workbook};
use domain::{Inventory, InventoryFile};
use serde::Serialize;
use std::collections::BTreeMap;

pub use domain::{ImportGuess as Guess, ImportWarning as Warning};

/// What was understood and what was guessed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The tabs read, with their rows.
    pub tabs: BTreeMap<String, usize>,
    pub templates_skipped: usize,
    pub warnings: Vec<Warning>,
    pub guesses: Vec<Guess>,
}

/// An export translated: the objects in vmshift's import format and the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    pub file: InventoryFile,
    pub report: Report,
}

/// The translation under way: the file being built, the report, the current inventory (whose
/// objects' ids are reused by name).
pub(crate) struct Work<'a> {
    pub book: &'a Workbook,
    pub current: &'a Inventory,
    pub ids: &'a mut ids::Ids,
    pub file: InventoryFile,
    pub report: Report,
}

/// What the reader says, as a code and values for the pages (docs/DESIGN.md#languages).
fn recognized(message: &str) -> Option<domain::Phrase> {
    domain::Phrase::recognize(message, domain::inventory::report::IMPORT_CODES)
        .map(domain::Phrase::without_english)
}

impl Work<'_> {
    pub fn warn(&mut self, table: &Table, row: &Row, column: &str, message: String) {
        self.report.warnings.push(Warning {
            tab: table.tab.clone(),
            row: row.number,
            column: column.to_string(),
            words: recognized(&message),
            message,
        });
    }

    pub fn guess(&mut self, objects: usize, what: String) {
        if objects > 0 {
            self.report.guesses.push(Guess {
                words: recognized(&what),
                what,
                objects,
            });
        }
    }
}

/// The column a mapping needs: refused, naming it, when the tab lacks it.
pub(crate) fn need(table: &Table, names: &[&str]) -> Result<usize, ReadError> {
    table.column(names).ok_or_else(|| ReadError::MissingColumn {
        tab: table.tab.clone(),
        column: names[0].to_string(),
    })
}

/// A host name as VMs and hosts are joined: case ignored, the domain left off
/// (`ESX-01.corp.example` is `esx-01`).
pub(crate) fn host_key(name: &str) -> String {
    name.trim().split('.').next().unwrap_or("").to_lowercase()
}

/// Translates `book` against `current`, each vCenter of the export on its own.
pub fn translate(book: &Workbook, current: &Inventory) -> Result<Translation, ReadError> {
    book.require_vinfo()?;
    let mut ids = ids::Ids::new(current);
    let mut file = InventoryFile::default();
    let mut report = Report {
        tabs: book
            .tables
            .iter()
            .map(|t| (t.tab.clone(), t.rows.len()))
            .collect(),
        ..Report::default()
    };
    for part in vcenters::split(book) {
        ids.enter(&part.vcenter, &part.server);
        let mut work = Work {
            book: &part.book,
            current,
            ids: &mut ids,
            file: InventoryFile::default(),
            report: Report::default(),
        };
        let hosts = hosts::map(&mut work)?;
        let storage = storage::map(&mut work, &hosts)?;
        let network = network::map(&mut work, &hosts)?;
        vms::map(&mut work, &hosts, &storage, &network)?;
        let (f, r) = (work.file, work.report);
        file.clusters.extend(f.clusters);
        file.hosts.extend(f.hosts);
        file.datastores.extend(f.datastores);
        file.switches.extend(f.switches);
        file.portgroups.extend(f.portgroups);
        file.vms.extend(f.vms);
        report.templates_skipped += r.templates_skipped;
        report.warnings.extend(r.warnings);
        for g in r.guesses {
            match report.guesses.iter_mut().find(|o| o.what == g.what) {
                Some(o) => o.objects += g.objects,
                None => report.guesses.push(g),
            }
        }
    }
    if ids.suffixed > 0 {
        let what = "names another vCenter of the export also uses: suffixed with the vCenter's server (`web-01 (vc-02)`)";
        report.guesses.push(Guess {
            words: recognized(what),
            what: what.into(),
            objects: ids.suffixed,
        });
    }
    keep::unexported(&mut file, current);
    report
        .warnings
        .sort_by(|a, b| (&a.tab, a.row).cmp(&(&b.tab, b.row)));
    Ok(Translation { file, report })
}
