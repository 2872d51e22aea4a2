//! Generated exports (docs/IMPORT.md#tests): vmshift's own RVTools-layout export of the demo
//! inventory and of a generated one, written as 4.x and 3.x workbooks, as comma and semicolon
//! CSV sets with custom-attribute columns and multi-line cells, and merged from two vCenters —
//! each read back to the same objects, field by field.

use domain::*;
use rvtools::{export, read, translate, write, Cell, Limits, Table, Upload, Workbook};
use std::io::{Cursor, Write};

const DEMO: &str = include_str!("../../server/data/demo.json");

fn demo() -> Inventory {
    let file: InventoryFile = serde_json::from_str(DEMO).unwrap();
    Inventory::default().validate_import(file).unwrap().0
}

fn import(current: &Inventory, uploads: &[Upload<'_>]) -> (Inventory, rvtools::Translation) {
    let book = read(uploads, &Limits::default()).expect("read");
    let t = translate(&book, current).expect("translate");
    let (next, _, _) = current
        .validate_import(t.file.clone())
        .expect("the gate accepts it");
    (next, t)
}

fn xlsx(book: &Workbook) -> Vec<u8> {
    write::xlsx(book).unwrap()
}

/// Every object of `a` has its twin in `b` (by name), the same in every field the export
/// holds; references compared by the names they lead to.
fn same_objects(a: &Inventory, b: &Inventory) {
    fn by_name<'x, T>(m: impl Iterator<Item = &'x T>, name: impl Fn(&T) -> &str) -> Vec<&'x T>
    where
        T: 'x,
    {
        let mut v: Vec<&T> = m.collect();
        v.sort_by(|x, y| name(x).cmp(name(y)));
        v
    }
    let host = |i: &Inventory, id: &HostId| i.hosts[id].name.to_string();
    let ds = |i: &Inventory, id: &DatastoreId| i.datastores[id].name.to_string();
    let pg = |i: &Inventory, id: &PortgroupId| i.portgroups[id].name.to_string();
    assert_eq!(a.clusters.len(), b.clusters.len(), "clusters");
    for (x, y) in by_name(a.clusters.values(), |c| c.name.as_str())
        .iter()
        .zip(by_name(b.clusters.values(), |c| c.name.as_str()))
    {
        assert_eq!((&x.name, x.evc_level), (&y.name, y.evc_level));
    }
    assert_eq!(a.hosts.len(), b.hosts.len(), "hosts");
    for (x, y) in by_name(a.hosts.values(), |h| h.name.as_str())
        .iter()
        .zip(by_name(b.hosts.values(), |h| h.name.as_str()))
    {
        let mut y2 = y.clone();
        (y2.id, y2.cluster_id) = (x.id, x.cluster_id);
        assert_eq!(**x, y2, "host {}", x.name);
        assert_eq!(
            a.clusters[&x.cluster_id].name,
            b.clusters[&y.cluster_id].name
        );
    }
    assert_eq!(a.datastores.len(), b.datastores.len(), "datastores");
    for (x, y) in by_name(a.datastores.values(), |d| d.name.as_str())
        .iter()
        .zip(by_name(b.datastores.values(), |d| d.name.as_str()))
    {
        assert_eq!(
            (&x.name, x.kind, x.capacity_mib),
            (&y.name, y.kind, y.capacity_mib)
        );
        let hosts = |i: &Inventory, d: &Datastore| {
            let mut v: Vec<String> = d.host_ids.iter().map(|h| host(i, h)).collect();
            v.sort();
            v
        };
        assert_eq!(hosts(a, x), hosts(b, y), "datastore {}", x.name);
    }
    assert_eq!(a.switches.len(), b.switches.len(), "switches");
    assert_eq!(a.portgroups.len(), b.portgroups.len(), "port groups");
    let place = |i: &Inventory, p: &Portgroup| match p.attachment() {
        Some(PortgroupAttachment::Distributed(s)) => format!("dvs {}", i.switches[&s].name),
        Some(PortgroupAttachment::Standard(h)) => format!("host {}", host(i, &h)),
        None => String::new(),
    };
    let mut pa: Vec<_> = a
        .portgroups
        .values()
        .map(|p| (place(a, p), p.name.to_string(), p.vlan))
        .collect();
    let mut pb: Vec<_> = b
        .portgroups
        .values()
        .map(|p| (place(b, p), p.name.to_string(), p.vlan))
        .collect();
    pa.sort();
    pb.sort();
    assert_eq!(pa, pb);
    assert_eq!(a.vms.len(), b.vms.len(), "VMs");
    for (x, y) in by_name(a.vms.values(), |v| v.name.as_str())
        .iter()
        .zip(by_name(b.vms.values(), |v| v.name.as_str()))
    {
        let what = |i: &Inventory, v: &Vm| {
            (
                (
                    v.name.to_string(),
                    host(i, &v.host_id),
                    v.power_state,
                    v.vcpus,
                    v.memory_mib,
                    v.memory_reservation_mib,
                ),
                (
                    v.cpu_feature_level,
                    v.fault_tolerance,
                    v.cpu_affinity,
                    v.workload.working_set_mib,
                ),
                v.disks
                    .iter()
                    .map(|d| (ds(i, &d.datastore_id), d.capacity_mib, d.thin))
                    .collect::<Vec<_>>(),
                v.nics
                    .iter()
                    .map(|n| (pg(i, &n.portgroup_id), n.connected))
                    .collect::<Vec<_>>(),
                v.devices
                    .iter()
                    .filter(|d| matches!(d.kind, DeviceKind::Cdrom | DeviceKind::Usb))
                    .map(|d| {
                        (
                            d.kind,
                            d.backing,
                            d.connected,
                            d.datastore_id.map(|s| ds(i, &s)),
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(what(a, x), what(b, y));
    }
}

#[test]
fn the_demo_exported_as_a_workbook_reads_back_to_the_same_inventory() {
    let inv = demo();
    let bytes = xlsx(&export::workbook(&inv));
    let up = [Upload {
        name: "vmshift.xlsx",
        bytes: &bytes,
    }];
    // Into an empty vmshift: the same objects, field by field.
    let (fresh, t) = import(&Inventory::default(), &up);
    same_objects(&inv, &fresh);
    assert!(t.report.warnings.is_empty(), "{:?}", t.report.warnings);
    // Into the same vmshift: nothing created, nothing changed (what RVTools lacks is kept).
    let (again, t) = import(&inv, &up);
    assert_eq!(
        t.file.len() - t.file.rules.len(),
        inv.clusters.len()
            + inv.hosts.len()
            + inv.datastores.len()
            + inv.switches.len()
            + inv.portgroups.len()
            + inv.vms.len()
    );
    assert_eq!(again.vms, inv.vms);
    assert_eq!(again.hosts, inv.hosts);
    assert_eq!(again.datastores, inv.datastores);
    assert_eq!(again.portgroups, inv.portgroups);
    assert_eq!(again.switches, inv.switches);
    assert_eq!(again.clusters, inv.clusters);
}

/// A generated inventory with what the demo lacks: AMD and Intel hosts, EVC, IPv6, a host
/// without vMotion, reservations, affinity, a USB device.
fn generated() -> Inventory {
    let mut inv = domain::generate::scale_inventory(2, 3, 4);
    let mut file = InventoryFile::default();
    let first_cluster = *inv.clusters.keys().next().unwrap();
    for (i, c) in inv.clusters.values().enumerate() {
        let mut c = c.clone();
        c.evc_level = (i == 0).then_some(8);
        file.clusters.push(c);
    }
    for (i, h) in inv.hosts.values().enumerate() {
        let mut h = h.clone();
        if h.cluster_id != first_cluster {
            h.cpu_vendor = CpuVendor::Amd;
            h.cpu_feature_level = 10;
        } else {
            h.cpu_feature_level = 9;
        }
        h.ip_family = if i % 2 == 0 {
            IpFamily::V6
        } else {
            IpFamily::V4
        };
        h.vmotion_enabled = i != 1;
        file.hosts.push(h);
    }
    for (i, v) in inv.vms.values().enumerate() {
        let mut v = v.clone();
        v.memory_reservation_mib = (i as u64 % 3) * 1_024;
        v.cpu_affinity = i % 5 == 0;
        v.cpu_feature_level = 8;
        if i % 4 == 0 {
            v.devices.push(Device {
                kind: DeviceKind::Usb,
                backing: DeviceBacking::HostDevice,
                datastore_id: None,
                connected: true,
            });
        }
        file.vms.push(v);
    }
    inv = inv.validate_import(file).unwrap().0;
    inv
}

/// The 3.x generation's headers (`MB`, `KB`) for the 4.x ones.
fn as_3x(book: &Workbook) -> Workbook {
    let tables = book
        .tables
        .iter()
        .map(|t| {
            let headers = t
                .headers
                .iter()
                .map(|h| h.replace("MiB", "MB").replace("KiB", "KB"))
                .collect();
            Table::new(&t.tab, headers, t.rows.clone(), t.separators)
        })
        .collect();
    Workbook { tables }
}

/// Custom-attribute columns in the middle of every tab, one of them with multi-line text.
fn with_custom_attributes(book: &Workbook) -> Workbook {
    let tables = book
        .tables
        .iter()
        .map(|t| {
            let at = t.headers.len() / 2;
            let mut headers = t.headers.clone();
            headers.insert(at, "Owner".into());
            headers.insert(at + 1, "Notes".into());
            let rows = t
                .rows
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.cells.insert(at, Cell::Text("team; ops, \"core\"".into()));
                    r.cells
                        .insert(at + 1, Cell::Text("line one\nline two".into()));
                    r
                })
                .collect();
            Table::new(&t.tab, headers, rows, t.separators)
        })
        .collect();
    Workbook { tables }
}

/// A number as an export saved in `locale` writes it: `16,384.5` or `16.384,5`.
fn number(v: f64, european: bool) -> String {
    let whole = v.trunc() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(if european { '.' } else { ',' });
        }
        grouped.push(ch);
    }
    let frac = v - v.trunc();
    if frac > 0.0 {
        let f = format!("{frac:.2}");
        grouped.push(if european { ',' } else { '.' });
        grouped.push_str(f.trim_start_matches("0.").trim_end_matches('0'));
    }
    grouped
}

/// The tabs as RVTools' CSV files, zipped: `;` and European numbers, or `,`.
fn csv_zip(book: &Workbook, european: bool, bom: bool) -> Vec<u8> {
    let d = if european { ';' } else { ',' };
    let quote = |s: &str| {
        if s.contains(d) || s.contains('"') || s.contains('\n') || s.contains(',') {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for t in &book.tables {
        let mut text = if bom {
            "\u{feff}".to_string()
        } else {
            String::new()
        };
        let line = |cells: Vec<String>| cells.join(&d.to_string()) + "\r\n";
        text += &line(t.headers.iter().map(|h| quote(h)).collect());
        for r in &t.rows {
            text += &line(
                r.cells
                    .iter()
                    .map(|c| match c {
                        Cell::Empty => String::new(),
                        Cell::Text(s) => quote(s),
                        Cell::Number(v) => quote(&number(*v, european)),
                        Cell::Bool(b) => if *b { "True" } else { "False" }.into(),
                    })
                    .collect(),
            );
        }
        zip.start_file(
            format!("RVTools_tab{}.csv", t.tab),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn complete_4x_and_3x_exports_as_workbooks_and_csv_sets_map_every_field() {
    let inv = generated();
    let book = export::workbook(&inv);
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("4.x workbook", xlsx(&book)),
        ("3.x workbook", xlsx(&as_3x(&book))),
        (
            "4.x workbook with custom attributes",
            xlsx(&with_custom_attributes(&book)),
        ),
        (
            "comma CSV zip with BOM",
            csv_zip(&with_custom_attributes(&book), false, true),
        ),
        (
            "semicolon European CSV zip",
            csv_zip(&with_custom_attributes(&as_3x(&book)), true, false),
        ),
    ];
    for (what, bytes) in &variants {
        let (fresh, t) = import(
            &Inventory::default(),
            &[Upload {
                name: "export",
                bytes,
            }],
        );
        assert!(
            t.report.warnings.is_empty(),
            "{what}: {:?}",
            t.report.warnings
        );
        same_objects(&inv, &fresh);
        let guessed: Vec<&str> = t.report.guesses.iter().map(|g| g.what.as_str()).collect();
        assert!(
            !guessed.iter().any(|g| g.starts_with("CPU feature level")
                || g.starts_with("vMotion link")
                || g.starts_with("hosts")
                || g.starts_with("datastores")),
            "{what}: nothing the export says is guessed: {guessed:?}"
        );
    }
    // The first cluster's EVC mode came back as its level, the VMs' EVC key as theirs.
    assert!(inv.clusters.values().any(|c| c.evc_level == Some(8)));
}

#[test]
fn a_newer_export_updates_renamed_and_changed_objects_and_creates_nothing_twice() {
    let inv = generated();
    let bytes = xlsx(&export::workbook(&inv));
    let (first, _) = import(
        &Inventory::default(),
        &[Upload {
            name: "a.xlsx",
            bytes: &bytes,
        }],
    );
    // The environment changes: a VM renamed (same UUID), another resized.
    let mut file = InventoryFile::default();
    let mut vms = first.vms.values().cloned();
    let mut renamed = vms.next().unwrap();
    let old_name = renamed.name.clone();
    renamed.name = Name::parse("renamed-vm").unwrap();
    let mut resized = vms.next().unwrap();
    resized.memory_mib = SizeMib::parse(resized.memory_mib.get() * 2).unwrap();
    file.vms = vec![renamed.clone(), resized.clone()];
    let (changed, _, _) = first.validate_import(file).unwrap();
    // The newer export keeps the VM UUIDs the first export gave (its vmshift ids).
    let mut newer = export::workbook(&changed);
    let original = export::workbook(&inv);
    let uuid_col = newer.tables[0].column(&["VM UUID"]).unwrap();
    let by_name: std::collections::HashMap<String, Cell> = original.tables[0]
        .rows
        .iter()
        .map(|r| (format!("{:?}", r.cells[0]), r.cells[uuid_col].clone()))
        .collect();
    for r in &mut newer.tables[0].rows {
        let name = match &r.cells[0] {
            Cell::Text(n) if n == "renamed-vm" => format!("{:?}", Cell::Text(old_name.to_string())),
            other => format!("{other:?}"),
        };
        r.cells[uuid_col] = by_name[&name].clone();
    }
    let bytes = xlsx(&newer);
    let (second, t) = import(
        &first,
        &[Upload {
            name: "b.xlsx",
            bytes: &bytes,
        }],
    );
    assert_eq!(second.vms.len(), first.vms.len(), "nothing created twice");
    assert!(t.file.vms.iter().all(|v| first.vms.contains_key(&v.id)));
    assert_eq!(
        second.vms[&renamed.id].name.as_str(),
        "renamed-vm",
        "matched by UUID"
    );
    assert_eq!(second.vms[&resized.id].memory_mib, resized.memory_mib);
    assert_eq!(second.hosts.len(), first.hosts.len());
}

#[test]
fn an_export_of_two_vcenters_keeps_them_apart() {
    let inv = generated();
    let book = export::workbook(&inv);
    // The same estate seen by two vCenters: every name appears twice.
    let relabel = |book: &Workbook, server: &str| -> Vec<Table> {
        book.tables
            .iter()
            .map(|t| {
                let col = t.column(&["VI SDK Server"]);
                let rows = t
                    .rows
                    .iter()
                    .map(|r| {
                        let mut r = r.clone();
                        if let Some(c) = col {
                            r.cells[c] = Cell::Text(server.into());
                        }
                        r
                    })
                    .collect();
                Table::new(&t.tab, t.headers.clone(), rows, t.separators)
            })
            .collect()
    };
    let (a, b) = (relabel(&book, "vc-a"), relabel(&book, "vc-b"));
    let tables = a
        .into_iter()
        .zip(b)
        .map(|(x, y)| {
            let mut rows = x.rows.clone();
            let n = rows.len();
            rows.extend(y.rows.into_iter().enumerate().map(|(i, mut r)| {
                r.number = n + 2 + i;
                r
            }));
            Table::new(&x.tab, x.headers.clone(), rows, x.separators)
        })
        .collect();
    let bytes = xlsx(&Workbook { tables });
    let (fresh, t) = import(
        &Inventory::default(),
        &[Upload {
            name: "two.xlsx",
            bytes: &bytes,
        }],
    );
    assert_eq!(fresh.vms.len(), 2 * inv.vms.len());
    assert_eq!(fresh.hosts.len(), 2 * inv.hosts.len());
    assert_eq!(fresh.clusters.len(), 2 * inv.clusters.len());
    // Each vCenter's VMs run on its own hosts, on its own datastores and port groups.
    for vm in fresh.vms.values() {
        let b_side = vm.name.as_str().ends_with("(vc-b)");
        let host = &fresh.hosts[&vm.host_id];
        assert_eq!(
            host.name.as_str().ends_with("(vc-b)"),
            b_side,
            "{} on {}",
            vm.name,
            host.name
        );
        for d in &vm.disks {
            assert_eq!(
                fresh.datastores[&d.datastore_id]
                    .name
                    .as_str()
                    .ends_with("(vc-b)"),
                b_side
            );
        }
    }
    assert!(t
        .report
        .guesses
        .iter()
        .any(|g| g.what.starts_with("names another vCenter") && g.objects > 0));
    // Imported again: the same objects, by their vCenter-derived ids.
    let (again, t2) = import(
        &fresh,
        &[Upload {
            name: "two.xlsx",
            bytes: &bytes,
        }],
    );
    assert_eq!(again.vms.len(), fresh.vms.len());
    assert!(t2.file.vms.iter().all(|v| fresh.vms.contains_key(&v.id)));
}
