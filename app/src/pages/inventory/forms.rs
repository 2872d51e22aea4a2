//! The form of each kind of inventory object: its fields, their inputs and the choices drawn
//! from the inventory (declarative: one table per kind).

use crate::components::form::{Field, FormSpec, Group, Input};
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

fn choices(pairs: &[(&str, &str)]) -> Input {
    Input::Select(
        pairs
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect(),
    )
}

/// The form fields of each kind, with choices drawn from the inventory.
pub fn form_spec(kind: ObjectKind, inv: &Inventory) -> FormSpec {
    let hosts = options(
        inv.hosts.values(),
        |h| h.id.to_string(),
        |h| h.name.to_string(),
    );
    let first = |opts: &[(String, String)]| opts.first().map(|o| o.0.clone()).unwrap_or_default();
    let (fields, groups) = match kind {
        ObjectKind::Rule => (rule_fields(inv, hosts.clone()), vec![]),
        ObjectKind::Cluster => (
            vec![
                Field::new("name", "Name", Input::Text),
                Field::new("evc_level", "EVC level", Input::Integer).optional(),
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
                    Field::new("name", "Name", Input::Text),
                    Field::new("cluster_id", "Cluster", Input::Select(clusters.clone()))
                        .default(first(&clusters)),
                    Field::new(
                        "cpu_vendor",
                        "CPU vendor",
                        choices(&[("intel", "Intel"), ("amd", "AMD")]),
                    )
                    .default("intel"),
                    Field::new("cpu_feature_level", "CPU feature level", Input::Integer)
                        .default("6"),
                    Field::new("cores", "Cores", Input::Integer).default("32"),
                    Field::new("cpu_mhz", "CPU MHz", Input::Integer).default("2600"),
                    Field::new("memory_mib", "Memory (MiB)", Input::Integer).default("262144"),
                    Field::new(
                        "state",
                        "State",
                        choices(&[
                            ("connected", "Connected"),
                            ("maintenance", "Maintenance mode"),
                            ("disconnected", "Disconnected"),
                        ]),
                    )
                    .default("connected"),
                    Field::new("vmotion_enabled", "vMotion enabled", Input::Checkbox)
                        .default("true"),
                    Field::new(
                        "vmotion_link_gbps",
                        "vMotion link (Gbit/s, 0 = down)",
                        Input::Decimal,
                    )
                    .default("10"),
                    Field::new(
                        "ip_family",
                        "Management IP family",
                        choices(&[("v4", "IPv4"), ("v6", "IPv6")]),
                    )
                    .default("v4"),
                ],
                vec![],
            )
        }
        ObjectKind::Datastore => (
            vec![
                Field::new("name", "Name", Input::Text),
                Field::new(
                    "kind",
                    "Type",
                    choices(&[
                        ("vmfs_shared", "VMFS (shared)"),
                        ("nfs", "NFS"),
                        ("vsan", "vSAN"),
                        ("local", "Local"),
                    ]),
                )
                .default("vmfs_shared"),
                Field::new("capacity_mib", "Capacity (MiB)", Input::Integer).default("1048576"),
                Field::new("throughput_mib_s", "Throughput (MiB/s)", Input::Integer).default("500"),
                Field::new("host_ids", "Mounted by", Input::Multi(hosts.clone())),
            ],
            vec![],
        ),
        ObjectKind::Switch => (
            vec![
                Field::new("name", "Name", Input::Text),
                Field::new("host_ids", "Member hosts", Input::Multi(hosts.clone())),
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
                    Field::new("name", "Name", Input::Text),
                    Field::new("vlan", "VLAN", Input::Integer).default("0"),
                    Field::new("switch_id", "Distributed switch", Input::Select(switches))
                        .optional(),
                    Field::new(
                        "host_id",
                        "Or standard switch of host",
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
                        "{} (standard, {})",
                        p.name,
                        inv.hosts.get(&h).map(|h| h.name.as_str()).unwrap_or("?")
                    ),
                    _ => p.name.to_string(),
                },
            );
            (
                vec![
                    Field::new("name", "Name", Input::Text),
                    Field::new("host_id", "Host", Input::Select(hosts.clone()))
                        .default(first(&hosts)),
                    Field::new(
                        "power_state",
                        "Power",
                        choices(&[("on", "On"), ("off", "Off"), ("suspended", "Suspended")]),
                    )
                    .default("on"),
                    Field::new("vcpus", "vCPUs", Input::Integer).default("2"),
                    Field::new("memory_mib", "Memory (MiB)", Input::Integer).default("4096"),
                    Field::new(
                        "memory_reservation_mib",
                        "Memory reservation (MiB)",
                        Input::Integer,
                    )
                    .default("0"),
                    Field::new("cpu_feature_level", "CPU feature level", Input::Integer)
                        .default("6"),
                    Field::new(
                        "workload.dirty_rate_mib_s",
                        "Memory dirty rate (MiB/s)",
                        Input::Decimal,
                    )
                    .default("10"),
                    Field::new(
                        "workload.working_set_mib",
                        "Writable working set (MiB)",
                        Input::Integer,
                    )
                    .optional(),
                    Field::new(
                        "workload.zero_page_fraction",
                        "Zero-page fraction (0–1)",
                        Input::Decimal,
                    )
                    .default("0.1"),
                    Field::new(
                        "workload.disk_write_mib_s",
                        "Disk write rate (MiB/s)",
                        Input::Decimal,
                    )
                    .default("1"),
                    Field::new("fault_tolerance", "Fault Tolerance", Input::Checkbox)
                        .default("false"),
                    Field::new("cpu_affinity", "CPU affinity", Input::Checkbox).default("false"),
                ],
                vec![
                    Group {
                        key: "disks",
                        label: "Disks",
                        item: "Disk",
                        fields: vec![
                            Field::new(
                                "datastore_id",
                                "Datastore",
                                Input::Select(datastores.clone()),
                            )
                            .default(first(&datastores)),
                            Field::new("capacity_mib", "Capacity (MiB)", Input::Integer)
                                .default("40960"),
                            Field::new("used_mib", "Used (MiB)", Input::Integer).default("8192"),
                            Field::new("thin", "Thin", Input::Checkbox).default("true"),
                        ],
                        initial_rows: 1,
                    },
                    Group {
                        key: "nics",
                        label: "Network adapters",
                        item: "Adapter",
                        fields: vec![
                            Field::new(
                                "portgroup_id",
                                "Port group",
                                Input::Select(portgroups.clone()),
                            )
                            .default(first(&portgroups)),
                            Field::new("connected", "Connected", Input::Checkbox).default("true"),
                        ],
                        initial_rows: 1,
                    },
                    Group {
                        key: "devices",
                        label: "Devices",
                        item: "Device",
                        fields: vec![
                            Field::new(
                                "kind",
                                "Kind",
                                choices(&[
                                    ("cdrom", "CD/DVD"),
                                    ("floppy", "Floppy"),
                                    ("serial", "Serial"),
                                    ("usb", "USB"),
                                ]),
                            )
                            .default("cdrom"),
                            Field::new(
                                "backing",
                                "Backing",
                                choices(&[("file", "File"), ("host_device", "Host device")]),
                            )
                            .default("file"),
                            Field::new(
                                "datastore_id",
                                "File on datastore",
                                Input::Select(datastores),
                            )
                            .optional(),
                            Field::new("connected", "Connected", Input::Checkbox).default("false"),
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
fn rule_fields(inv: &Inventory, hosts: Vec<(String, String)>) -> Vec<Field> {
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
        Field::new("name", "Name", Input::Text),
        Field::new("cluster_id", "Cluster", Input::Select(clusters)).default(first),
        Field::new(
            "kind",
            "Rule",
            choices(&[
                ("keep_together", "Keep VMs together"),
                ("keep_apart", "Keep VMs apart"),
                ("run_on_hosts", "Run VMs on hosts"),
            ]),
        )
        .default("keep_apart"),
        Field::new(
            "mandatory",
            "Must (else should) — run-on-hosts rules",
            Input::Checkbox,
        )
        .default("true"),
        Field::new("vm_ids", "VMs", Input::Multi(vms)),
        Field::new(
            "host_ids",
            "Hosts (run-on-hosts rules)",
            Input::Multi(hosts),
        ),
        Field::new("enabled", "Enabled", Input::Checkbox).default("true"),
    ]
}
