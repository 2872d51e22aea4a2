//! Inventory pages: one tab per kind of object, a table of them, and the form to create or
//! edit one. Deletion asks for confirmation and explains a refusal (who uses the object).

use crate::components::form::{Field, FormSpec, Group, Input, ObjectForm};
use crate::live::InventoryResource;
use domain::format;
use domain::*;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

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

/// One table row: the object's id, its name and the other cells.
type Row = (uuid::Uuid, String, Vec<String>);

/// Table headers and one row of cells per object of the kind, sorted by name.
fn table(kind: ObjectKind, inv: &Inventory) -> (Vec<&'static str>, Vec<Row>) {
    let host_name = |id: &HostId| {
        inv.hosts
            .get(id)
            .map(|h| h.name.to_string())
            .unwrap_or_default()
    };
    let hosts_list = |ids: &[HostId]| ids.iter().map(host_name).collect::<Vec<_>>().join(", ");
    let mut rows: Vec<Row> = match kind {
        ObjectKind::Cluster => inv
            .clusters
            .values()
            .map(|c| {
                let hosts = inv.hosts.values().filter(|h| h.cluster_id == c.id).count();
                let evc = c
                    .evc_level
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "off".into());
                (c.id.0, c.name.to_string(), vec![hosts.to_string(), evc])
            })
            .collect(),
        ObjectKind::Host => inv
            .hosts
            .values()
            .map(|h| {
                let cluster = inv
                    .clusters
                    .get(&h.cluster_id)
                    .map(|c| c.name.to_string())
                    .unwrap_or_default();
                let load = inv.host_load(h.id);
                let vmotion = if h.vmotion_enabled {
                    format::link(h.vmotion_link_gbps.get())
                } else {
                    "off".into()
                };
                (
                    h.id.0,
                    h.name.to_string(),
                    vec![
                        cluster,
                        format!("{:?}", h.state).to_lowercase(),
                        format!("{:?} L{}", h.cpu_vendor, h.cpu_feature_level),
                        format!("{} cores", h.cores),
                        format::mib(h.memory_mib.get()),
                        vmotion,
                        load.vms.to_string(),
                    ],
                )
            })
            .collect(),
        ObjectKind::Datastore => inv
            .datastores
            .values()
            .map(|d| {
                (
                    d.id.0,
                    d.name.to_string(),
                    vec![
                        d.kind.label().to_string(),
                        format::mib(d.capacity_mib.get()),
                        format::mib(inv.free_mib(d)),
                        hosts_list(&d.host_ids),
                    ],
                )
            })
            .collect(),
        ObjectKind::Switch => inv
            .switches
            .values()
            .map(|s| (s.id.0, s.name.to_string(), vec![hosts_list(&s.host_ids)]))
            .collect(),
        ObjectKind::Portgroup => inv
            .portgroups
            .values()
            .map(|p| {
                let on = match p.attachment() {
                    Some(PortgroupAttachment::Distributed(s)) => format!(
                        "vDS {}",
                        inv.switches
                            .get(&s)
                            .map(|s| s.name.to_string())
                            .unwrap_or_default()
                    ),
                    Some(PortgroupAttachment::Standard(h)) => {
                        format!("standard switch of {}", host_name(&h))
                    }
                    None => String::new(),
                };
                (
                    p.id.0,
                    p.name.to_string(),
                    vec![p.vlan.get().to_string(), on],
                )
            })
            .collect(),
        ObjectKind::Vm => inv
            .vms
            .values()
            .map(|v| {
                let disk: u64 = v.disks.iter().map(|d| d.capacity_mib.get()).sum();
                (
                    v.id.0,
                    v.name.to_string(),
                    vec![
                        host_name(&v.host_id),
                        format!("{:?}", v.power_state).to_lowercase(),
                        v.vcpus.to_string(),
                        format::mib(v.memory_mib.get()),
                        format::mib(disk),
                    ],
                )
            })
            .collect(),
    };
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    let headers = match kind {
        ObjectKind::Cluster => vec!["Hosts", "EVC"],
        ObjectKind::Host => vec![
            "Cluster", "State", "CPU", "Cores", "Memory", "vMotion", "VMs",
        ],
        ObjectKind::Datastore => vec!["Type", "Capacity", "Free", "Mounted by"],
        ObjectKind::Switch => vec!["Members"],
        ObjectKind::Portgroup => vec!["VLAN", "On"],
        ObjectKind::Vm => vec!["Host", "Power", "vCPUs", "Memory", "Disks"],
    };
    (headers, rows)
}

#[derive(Clone, PartialEq)]
enum Editing {
    New,
    Existing(uuid::Uuid),
}

#[component]
pub fn InventoryPage() -> impl IntoView {
    crate::mark_ready();
    let inventory = expect_context::<InventoryResource>();
    let params = use_params_map();
    let kind = Memo::new(move |_| {
        params.with(|p| p.get("kind").and_then(|k| ObjectKind::from_plural(&k)))
    });
    let editing = RwSignal::new(None::<Editing>);
    let confirming = RwSignal::new(None::<uuid::Uuid>);
    let page_error = RwSignal::new(None::<String>);
    let import_outcome = RwSignal::new(None::<Result<String, String>>);
    let import: ImportAction =
        Action::new(move |file: &serde_json::Value| crate::rpc::import_inventory(file.clone()));
    Effect::new(move |_| {
        if let Some(result) = import.value().get() {
            import_outcome.set(Some(match result {
                Ok(Ok(s)) => Ok(format!(
                    "Imported: {} created, {} replaced.",
                    s.created, s.updated
                )),
                Ok(Err(refusal)) => Err(format!("Nothing was imported. {}", refusal.message)),
                Err(e) => Err(format!("Nothing was imported: {e}")),
            }));
        }
    });
    provide_context(ImportOutcome {
        outcome: import_outcome,
        import,
    });
    // Leaving a tab closes its form.
    Effect::new(move |_| {
        kind.track();
        editing.set(None);
        confirming.set(None);
        page_error.set(None);
    });

    let delete = Action::new(move |(kind, id): &(ObjectKind, uuid::Uuid)| {
        crate::rpc::delete_object(serde_json::json!(kind), serde_json::json!(id))
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(Ok(()))) => {
            confirming.set(None);
            page_error.set(None);
        }
        Some(Ok(Err(refusal))) => {
            confirming.set(None);
            page_error.set(Some(refusal.message));
        }
        Some(Err(e)) => page_error.set(Some(format!("The server could not delete: {e}"))),
        None => {}
    });

    let tabs = move || {
        ObjectKind::ALL
            .into_iter()
            .map(|k| {
                let label = match k {
                    ObjectKind::Cluster => "Clusters",
                    ObjectKind::Host => "Hosts",
                    ObjectKind::Datastore => "Datastores",
                    ObjectKind::Switch => "Switches",
                    ObjectKind::Portgroup => "Port groups",
                    ObjectKind::Vm => "VMs",
                };
                view! {
                    <A href=format!("/inventory/{}", k.plural()) attr:data-testid=format!("tab-{}", k.plural())>
                        {label}
                    </A>
                }
            })
            .collect_view()
    };

    view! {
        <section class="page inventory-page">
            <nav class="tabs">{tabs}</nav>
            {move || {
                import_outcome
                    .get()
                    .map(|r| match r {
                        Ok(m) => view! { <p class="notice" data-testid="import-result">{m}</p> }.into_any(),
                        Err(m) => view! { <p class="form-error" data-testid="import-error">{m}</p> }.into_any(),
                    })
            }}
            // The form reads the inventory once when it opens: a live change elsewhere does
            // not reset what the user is typing (the server re-validates on save anyway).
            {move || {
                let kind = kind.get()?;
                let current = editing.get()?;
                let inv = inventory.get_untracked()?.ok()?;
                let initial = match current {
                    Editing::New => None,
                    Editing::Existing(id) => {
                        let mut v = serde_json::to_value(inv.get(kind, id)?).ok()?;
                        Some((id, v["object"].take()))
                    }
                };
                let spec = form_spec(kind, &inv);
                Some(view! { <ObjectForm spec=spec initial=initial on_done=move |_| editing.set(None)/> })
            }}
            <Suspense fallback=|| view! { <p class="empty">"Loading the inventory…"</p> }>
                {move || {
                    let Some(kind) = kind.get() else {
                        return view! { <p class="empty">"No such kind of object."</p> }.into_any();
                    };
                    inventory
                        .get()
                        .map(|r| match r {
                            Ok(inv) => inventory_table(kind, &inv, editing, confirming, page_error, delete).into_any(),
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        })
                        .unwrap_or_else(|| ().into_any())
                }}
            </Suspense>
        </section>
    }
}

fn inventory_table(
    kind: ObjectKind,
    inv: &Inventory,
    editing: RwSignal<Option<Editing>>,
    confirming: RwSignal<Option<uuid::Uuid>>,
    page_error: RwSignal<Option<String>>,
    delete: Action<(ObjectKind, uuid::Uuid), Result<Result<(), DomainError>, ServerFnError>>,
) -> impl IntoView {
    let (headers, rows) = table(kind, inv);
    let count = rows.len();
    // Only admins change the inventory (the server refuses the others anyway).
    let admin = crate::allowed(domain::accounts::Role::Admin);
    view! {
        <div class="toolbar">
            <h2>{format!("{} ({count})", capitalize(kind.plural()))}</h2>
            {admin.then(|| view! {
                <button class="primary" data-testid="new-object" on:click=move |_| editing.set(Some(Editing::New))>
                    {format!("New {}", kind.label())}
                </button>
                <ImportButton/>
            })}
            <a class="secondary button" href="/api/v1/inventory" download="vmshift-inventory.json" data-testid="export">
                "Export"
            </a>
        </div>
        {move || page_error.get().map(|m| view! { <p class="form-error" data-testid="inventory-error">{m}</p> })}
        <table class="objects" data-testid="object-table">
            <thead>
                <tr>
                    <th>"Name"</th>
                    {headers.into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|(id, name, cells)| {
                        let row_name = name.clone();
                        let row_testid = format!("row-{name}");
                        view! {
                            <tr data-testid=row_testid>
                                <td class="name">{name.clone()}</td>
                                {cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}
                                <td class="row-actions">
                                    {(kind == ObjectKind::Vm)
                                        .then(|| {
                                            view! {
                                                <a
                                                    class="link"
                                                    href=format!("/migrate?vm={id}")
                                                    data-testid=format!("migrate-{name}")
                                                >
                                                    "Migrate"
                                                </a>
                                            }
                                        })}
                                    {admin.then(|| view! {
                                    <button
                                        class="link"
                                        data-testid=format!("edit-{name}")
                                        on:click=move |_| editing.set(Some(Editing::Existing(id)))
                                    >
                                        "Edit"
                                    </button>
                                    })}
                                    {admin.then_some(move || {
                                        if confirming.get() == Some(id) {
                                            view! {
                                                <button
                                                    class="danger"
                                                    data-testid=format!("confirm-delete-{row_name}")
                                                    on:click=move |_| {
                                                        delete.dispatch((kind, id));
                                                    }
                                                >
                                                    "Confirm delete"
                                                </button>
                                                <button class="link" on:click=move |_| confirming.set(None)>
                                                    "Keep"
                                                </button>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <button
                                                    class="link danger-text"
                                                    data-testid=format!("delete-{row_name}")
                                                    on:click=move |_| {
                                                        page_error.set(None);
                                                        confirming.set(Some(id));
                                                    }
                                                >
                                                    "Delete"
                                                </button>
                                            }
                                                .into_any()
                                        }
                                    })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Reads a JSON file in the export format and imports it (all or nothing); says what
/// happened, or which object and field were refused.
#[component]
fn ImportButton() -> impl IntoView {
    let context = expect_context::<ImportOutcome>();
    let on_change = move |ev: leptos::ev::Event| {
        let _ = (&ev, context);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let ImportOutcome { outcome, import } = context;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            leptos::task::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default();
                // The server parses and names any field that does not fit.
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(parsed) => {
                        import.dispatch(parsed);
                    }
                    Err(e) => outcome.set(Some(Err(format!(
                        "Nothing was imported: the file is not JSON ({e})"
                    )))),
                }
            });
        }
    };
    view! {
        <label class="secondary button" data-testid="import">
            "Import"
            <input
                type="file"
                accept=".json,application/json"
                class="visually-hidden"
                data-testid="import-file"
                on:change=on_change
            />
        </label>
    }
}

/// The import action and its last outcome, owned by the page (the table re-renders when the
/// import changes the inventory), shown above the table until the next import.
#[derive(Clone, Copy)]
// Only the browser reads files, so only the hydrate build uses the fields.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct ImportOutcome {
    outcome: RwSignal<Option<Result<String, String>>>,
    import: ImportAction,
}

type ImportAction =
    Action<serde_json::Value, Result<Result<ImportSummary, DomainError>, ServerFnError>>;
