//! The form of each kind of inventory object: its fields, their inputs and the choices drawn
//! from the inventory (declarative: one table per kind).

use crate::components::form::{Field, FormSpec, Group, Input};
use crate::i18n::{td_string, Locale};
use domain::*;

fn options<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    value: impl Fn(&T) -> String,
    label: impl Fn(&T) -> String,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = items.map(|i| (value(i), label(i))).collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn choices(pairs: &[(&str, &'static str)]) -> Input {
    Input::Select(
        pairs
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect(),
    )
}

/// The form fields of each kind, with choices drawn from the inventory.
pub fn form_spec(locale: Locale, kind: ObjectKind, inv: &Inventory) -> FormSpec {
    let hosts = options(
        inv.hosts.values(),
        |h| h.id.to_string(),
        |h| h.name.to_string(),
    );
    let first = |opts: &[(String, String)]| opts.first().map(|o| o.0.clone()).unwrap_or_default();
    let (fields, groups) = match kind {
        ObjectKind::Rule => (rule_fields(locale, inv, hosts.clone()), vec![]),
        ObjectKind::Cluster => (
            vec![
                Field::new("name", td_string!(locale, form.name), Input::Text),
                Field::new(
                    "evc_level",
                    td_string!(locale, form.evc_level),
                    Input::Integer,
                )
                .optional(),
            ],
            vec![],
        ),
        ObjectKind::Host => {
            let clusters = options(
                inv.clusters.values(),
                |c| c.id.to_string(),
                |c| c.name.to_string(),
            );
            (
                vec![
                    Field::new("name", td_string!(locale, form.name), Input::Text),
                    Field::new(
                        "cluster_id",
                        td_string!(locale, form.cluster),
                        Input::Select(clusters.clone()),
                    )
                    .default(first(&clusters)),
                    Field::new(
                        "cpu_vendor",
                        td_string!(locale, form.cpu_vendor),
                        choices(&[("intel", "Intel"), ("amd", "AMD")]),
                    )
                    .default("intel"),
                    Field::new(
                        "cpu_feature_level",
                        td_string!(locale, form.cpu_feature_level),
                        Input::Integer,
                    )
                    .default("6"),
                    Field::new("cores", td_string!(locale, form.cores), Input::Integer)
                        .default("32"),
                    Field::new("cpu_mhz", td_string!(locale, form.cpu_mhz), Input::Integer)
                        .default("2600"),
                    Field::new(
                        "memory_mib",
                        td_string!(locale, form.memory_mib),
                        Input::Integer,
                    )
                    .default("262144"),
                    Field::new(
                        "state",
                        td_string!(locale, form.state),
                        choices(&[
                            ("connected", td_string!(locale, form.connected)),
                            ("maintenance", td_string!(locale, form.maintenance_mode)),
                            ("disconnected", td_string!(locale, form.disconnected)),
                        ]),
                    )
                    .default("connected"),
                    Field::new(
                        "vmotion_enabled",
                        td_string!(locale, form.vmotion_enabled),
                        Input::Checkbox,
                    )
                    .default("true"),
                    Field::new(
                        "vmotion_link_gbps",
                        td_string!(locale, form.vmotion_link),
                        Input::Decimal,
                    )
                    .default("10"),
                    Field::new(
                        "ip_family",
                        td_string!(locale, form.ip_family),
                        choices(&[("v4", "IPv4"), ("v6", "IPv6")]),
                    )
                    .default("v4"),
                ],
                vec![],
            )
        }
        ObjectKind::Datastore => (
            vec![
                Field::new("name", td_string!(locale, form.name), Input::Text),
                Field::new(
                    "kind",
                    td_string!(locale, form.datastore_kind),
                    choices(&[
                        ("vmfs_shared", td_string!(locale, form.vmfs_shared)),
                        ("nfs", "NFS"),
                        ("vsan", "vSAN"),
                        ("local", td_string!(locale, form.local)),
                    ]),
                )
                .default("vmfs_shared"),
                Field::new(
                    "capacity_mib",
                    td_string!(locale, form.capacity_mib),
                    Input::Integer,
                )
                .default("1048576"),
                Field::new(
                    "throughput_mib_s",
                    td_string!(locale, form.throughput),
                    Input::Integer,
                )
                .default("500"),
                Field::new(
                    "host_ids",
                    td_string!(locale, form.mounted_by),
                    Input::Multi(hosts.clone()),
                ),
            ],
            vec![],
        ),
        ObjectKind::Switch => (
            vec![
                Field::new("name", td_string!(locale, form.name), Input::Text),
                Field::new(
                    "host_ids",
                    td_string!(locale, form.member_hosts),
                    Input::Multi(hosts.clone()),
                ),
            ],
            vec![],
        ),
        ObjectKind::Portgroup => {
            let switches = options(
                inv.switches.values(),
                |s| s.id.to_string(),
                |s| s.name.to_string(),
            );
            (
                vec![
                    Field::new("name", td_string!(locale, form.name), Input::Text),
                    Field::new("vlan", td_string!(locale, form.vlan), Input::Integer).default("0"),
                    Field::new(
                        "switch_id",
                        td_string!(locale, form.distributed_switch),
                        Input::Select(switches),
                    )
                    .optional(),
                    Field::new(
                        "host_id",
                        td_string!(locale, form.standard_switch_of),
                        Input::Select(hosts.clone()),
                    )
                    .optional(),
                ],
                vec![],
            )
        }
        ObjectKind::Vm => {
            let datastores = options(
                inv.datastores.values(),
                |d| d.id.to_string(),
                |d| d.name.to_string(),
            );
            let portgroups = options(
                inv.portgroups.values(),
                |p| p.id.to_string(),
                |p| match p.attachment() {
                    Some(PortgroupAttachment::Standard(h)) => format!(
                        "{} ({}, {})",
                        p.name,
                        td_string!(locale, form.standard),
                        inv.hosts.get(&h).map(|h| h.name.as_str()).unwrap_or("?")
                    ),
                    _ => p.name.to_string(),
                },
            );
            (
                vec![
                    Field::new("name", td_string!(locale, form.name), Input::Text),
                    Field::new(
                        "host_id",
                        td_string!(locale, form.host),
                        Input::Select(hosts.clone()),
                    )
                    .default(first(&hosts)),
                    Field::new(
                        "power_state",
                        td_string!(locale, form.power),
                        choices(&[
                            ("on", td_string!(locale, form.on)),
                            ("off", td_string!(locale, form.off)),
                            ("suspended", td_string!(locale, form.suspended)),
                        ]),
                    )
                    .default("on"),
                    Field::new("vcpus", td_string!(locale, form.vcpus), Input::Integer)
                        .default("2"),
                    Field::new(
                        "memory_mib",
                        td_string!(locale, form.memory_mib),
                        Input::Integer,
                    )
                    .default("4096"),
                    Field::new(
                        "memory_reservation_mib",
                        td_string!(locale, form.memory_reservation),
                        Input::Integer,
                    )
                    .default("0"),
                    Field::new(
                        "cpu_feature_level",
                        td_string!(locale, form.cpu_feature_level),
                        Input::Integer,
                    )
                    .default("6"),
                    Field::new(
                        "workload.dirty_rate_mib_s",
                        td_string!(locale, form.dirty_rate),
                        Input::Decimal,
                    )
                    .default("10"),
                    Field::new(
                        "workload.working_set_mib",
                        td_string!(locale, form.working_set),
                        Input::Integer,
                    )
                    .optional(),
                    Field::new(
                        "workload.zero_page_fraction",
                        td_string!(locale, form.zero_pages),
                        Input::Decimal,
                    )
                    .default("0.1"),
                    Field::new(
                        "workload.disk_write_mib_s",
                        td_string!(locale, form.disk_write_rate),
                        Input::Decimal,
                    )
                    .default("1"),
                    Field::new(
                        "fault_tolerance",
                        td_string!(locale, form.fault_tolerance),
                        Input::Checkbox,
                    )
                    .default("false"),
                    Field::new(
                        "cpu_affinity",
                        td_string!(locale, form.cpu_affinity),
                        Input::Checkbox,
                    )
                    .default("false"),
                ],
                vec![
                    Group {
                        key: "disks",
                        label: td_string!(locale, form.disks),
                        item: td_string!(locale, form.disk),
                        add: td_string!(locale, form.add_disk),
                        fields: vec![
                            Field::new(
                                "datastore_id",
                                td_string!(locale, form.datastore),
                                Input::Select(datastores.clone()),
                            )
                            .default(first(&datastores)),
                            Field::new(
                                "capacity_mib",
                                td_string!(locale, form.capacity_mib),
                                Input::Integer,
                            )
                            .default("40960"),
                            Field::new(
                                "used_mib",
                                td_string!(locale, form.used_mib),
                                Input::Integer,
                            )
                            .default("8192"),
                            Field::new("thin", td_string!(locale, form.thin), Input::Checkbox)
                                .default("true"),
                        ],
                        initial_rows: 1,
                    },
                    Group {
                        key: "nics",
                        label: td_string!(locale, form.network_adapters),
                        item: td_string!(locale, form.adapter),
                        add: td_string!(locale, form.add_adapter),
                        fields: vec![
                            Field::new(
                                "portgroup_id",
                                td_string!(locale, form.portgroup),
                                Input::Select(portgroups.clone()),
                            )
                            .default(first(&portgroups)),
                            Field::new(
                                "connected",
                                td_string!(locale, form.connected),
                                Input::Checkbox,
                            )
                            .default("true"),
                        ],
                        initial_rows: 1,
                    },
                    Group {
                        key: "devices",
                        label: td_string!(locale, form.devices),
                        item: td_string!(locale, form.device),
                        add: td_string!(locale, form.add_device),
                        fields: vec![
                            Field::new(
                                "kind",
                                td_string!(locale, form.kind),
                                choices(&[
                                    ("cdrom", td_string!(locale, form.cdrom)),
                                    ("floppy", td_string!(locale, form.floppy)),
                                    ("serial", td_string!(locale, form.serial)),
                                    ("usb", "USB"),
                                ]),
                            )
                            .default("cdrom"),
                            Field::new(
                                "backing",
                                td_string!(locale, form.backing),
                                choices(&[
                                    ("file", td_string!(locale, form.file)),
                                    ("host_device", td_string!(locale, form.host_device)),
                                ]),
                            )
                            .default("file"),
                            Field::new(
                                "datastore_id",
                                td_string!(locale, form.file_on_datastore),
                                Input::Select(datastores),
                            )
                            .optional(),
                            Field::new(
                                "connected",
                                td_string!(locale, form.connected),
                                Input::Checkbox,
                            )
                            .default("false"),
                        ],
                        initial_rows: 0,
                    },
                ],
            )
        }
    };
    FormSpec {
        kind,
        fields,
        groups,
    }
}

/// An affinity rule's form (docs/DESIGN.md#affinity-rules).
fn rule_fields(locale: Locale, inv: &Inventory, hosts: Vec<(String, String)>) -> Vec<Field> {
    let clusters = options(
        inv.clusters.values(),
        |c| c.id.to_string(),
        |c| c.name.to_string(),
    );
    let vms = options(
        inv.vms.values(),
        |v| v.id.to_string(),
        |v| v.name.to_string(),
    );
    let first = clusters.first().map(|o| o.0.clone()).unwrap_or_default();
    vec![
        Field::new("name", td_string!(locale, form.name), Input::Text),
        Field::new(
            "cluster_id",
            td_string!(locale, form.cluster),
            Input::Select(clusters),
        )
        .default(first),
        Field::new(
            "kind",
            td_string!(locale, form.rule),
            choices(&[
                ("keep_together", td_string!(locale, form.keep_together)),
                ("keep_apart", td_string!(locale, form.keep_apart)),
                ("run_on_hosts", td_string!(locale, form.run_on_hosts)),
            ]),
        )
        .default("keep_apart"),
        Field::new(
            "mandatory",
            td_string!(locale, form.mandatory),
            Input::Checkbox,
        )
        .default("true"),
        Field::new("vm_ids", td_string!(locale, form.vms), Input::Multi(vms)),
        Field::new(
            "host_ids",
            td_string!(locale, form.rule_hosts),
            Input::Multi(hosts),
        ),
        Field::new("enabled", td_string!(locale, form.enabled), Input::Checkbox).default("true"),
    ]
}
