//! Exports mapped to the inventory: the real anonymised 3.x workbook (four tabs: most of the
//! inventory inferred, each inference reported), a complete 4.x CSV export field by field, and
//! a second import of the same export updating every object and creating none.

use domain::*;
use rvtools::{read, translate, Limits, Upload};

const SAMPLE: &[u8] = include_bytes!("data/SizingWorkshop-RVTools.xlsx");

/// Every warning and guess carries its words for the pages (docs/DESIGN.md#languages).
fn every_word_has_its_code(r: &rvtools::Report) {
    for g in &r.guesses {
        assert!(g.words.is_some(), "a guess without a code: {g:?}");
    }
    for w in &r.warnings {
        assert!(w.words.is_some(), "a warning without a code: {w:?}");
    }
}

fn import(inv: &Inventory, t: &rvtools::Translation) -> (Inventory, ImportSummary) {
    let (next, _, summary) = inv
        .validate_import(t.file.clone())
        .expect("the gate accepts it");
    (next, summary)
}

#[test]
fn the_real_export_imports_every_vm_and_host_and_says_what_it_guessed() {
    let book = read(
        &[Upload {
            name: "s.xlsx",
            bytes: SAMPLE,
        }],
        &Limits::default(),
    )
    .unwrap();
    let t = translate(&book, &Inventory::default()).unwrap();
    let r = &t.report;
    every_word_has_its_code(r);
    assert_eq!(r.tabs["vInfo"], 805);
    assert_eq!(r.templates_skipped, 10);
    assert_eq!(t.file.vms.len(), 795);
    // Every vHost host, plus the hosts VMs name that vHost does not list.
    let names: Vec<&str> = t.file.hosts.iter().map(|h| h.name.as_str()).collect();
    assert!(names.contains(&"vmsp-01"));
    assert!(t.file.hosts.len() >= 34);
    let clusters: Vec<&str> = t.file.clusters.iter().map(|c| c.name.as_str()).collect();
    for c in ["Cluster1", "Cluster2", "Mgmt", "DMZ"] {
        assert!(clusters.contains(&c), "{clusters:?}");
    }
    // No datastore tab, no paths: one per cluster, reported as guessed.
    assert_eq!(t.file.datastores.len(), 4);
    let guessed = |what: &str| {
        r.guesses
            .iter()
            .find(|g| g.what.starts_with(what))
            .map(|g| g.objects)
    };
    assert_eq!(guessed("datastores (the export names none)"), Some(4));
    assert!(guessed("hosts named by VMs").unwrap() > 0);
    assert_eq!(guessed("disks (no vDisk row"), Some(795));
    // vNetwork names no network at all: each NIC left out with its row.
    let w = r.warnings.iter().find(|w| w.tab == "vNetwork").unwrap();
    assert_eq!(w.column, "Network");
    assert!(
        w.row >= 2 && w.message.contains("names no network"),
        "{w:?}"
    );
    // A VM field by field.
    let vm = t
        .file
        .vms
        .iter()
        .find(|v| v.name.as_str() == "wadfs1")
        .unwrap();
    assert_eq!(vm.power_state, PowerState::On);
    assert_eq!((vm.vcpus.get(), vm.memory_mib.get()), (1, 4_096));
    assert_eq!(vm.disks.len(), 1);
    assert_eq!(
        (
            vm.disks[0].capacity_mib.get(),
            vm.disks[0].used_mib,
            vm.disks[0].thin
        ),
        (86_201, 62_420, true)
    );
    let host = t.file.hosts.iter().find(|h| h.id == vm.host_id).unwrap();
    assert_eq!(host.name.as_str(), "bovmsp-04.customer.com");
    let h = t
        .file
        .hosts
        .iter()
        .find(|h| h.name.as_str() == "vmsp-01")
        .unwrap();
    assert_eq!(
        (h.cores.get(), h.cpu_mhz.get(), h.memory_mib.get()),
        (16, 2_700, 262_109)
    );
    assert_eq!(h.cpu_vendor, CpuVendor::Intel);
    // The gate accepts the whole of it; importing it again updates, creates nothing.
    let (inv, first) = import(&Inventory::default(), &t);
    assert_eq!(first.updated, 0);
    assert_eq!(inv.vms.len(), 795);
    let again = translate(&book, &inv).unwrap();
    let (_, second) = import(&inv, &again);
    assert_eq!(second.created, 0, "nothing twice");
    assert_eq!(second.updated, first.created);
}

const VINFO: &str = "VM,Powerstate,Template,CPUs,Memory,Active Memory,NICs,Disks,Provisioned MiB,In Use MiB,Path,FT State,Annotation,Backup status,Datacenter,Cluster,Host,VI SDK Server\n\
web-01,poweredOn,False,2,\"8,192\",\"1,024\",1,1,\"40,960\",\"20,480\",[shared-01] web-01/web-01.vmx,notConfigured,\"multi\nline\",ok,DC,Prod,esx-01.corp.example,vc-01\n\
db-01,poweredOn,False,8,\"65,536\",,1,2,\"204,800\",\"204,800\",[local-02] db-01/db-01.vmx,running,,,DC,Prod,ESX-02,vc-01\n\
old-01,poweredOff,False,1,\"2,048\",,0,1,\"10,240\",\"1,024\",[shared-01] old-01/old-01.vmx,notConfigured,,,DC,Prod,esx-01,vc-01\n\
tpl-01,poweredOff,True,1,\"2,048\",,0,1,\"10,240\",\"1,024\",[shared-01] tpl/tpl.vmx,notConfigured,,,DC,Prod,esx-01,vc-01\n";
const VHOST: &str = "Host,Datacenter,Cluster,CPU Model,Speed,# CPU,Cores per CPU,# Cores,# Memory,in Maintenance Mode,VI SDK Server\n\
esx-01.corp.example,DC,Prod,AMD EPYC 7543 32-Core Processor,\"2,794\",2,32,64,\"1,048,576\",False,vc-01\n\
esx-02.corp.example,DC,Prod,Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz,\"2,600\",2,28,56,\"786,432\",False,vc-01\n";
const VDATASTORE: &str = "Name,Type,Capacity MiB,Free MiB,# Hosts,Hosts\n\
shared-01,VMFS,\"4,194,304\",\"2,097,152\",2,\"esx-01.corp.example, esx-02.corp.example\"\n\
local-02,VMFS,\"1,048,576\",\"524,288\",1,esx-02.corp.example\n\
nfs-01,NFS,\"8,388,608\",\"8,000,000\",2,\"esx-01.corp.example, esx-02.corp.example\"\n";
const VDISK: &str = "VM,Disk,Capacity MiB,Thin,Path\n\
web-01,Hard disk 1,\"40,960\",True,[shared-01] web-01/web-01.vmdk\n\
db-01,Hard disk 1,\"102,400\",False,[local-02] db-01/db-01.vmdk\n\
db-01,Hard disk 2,\"102,400\",False,[nfs-01] db-01/db-01_1.vmdk\n\
old-01,Hard disk 1,\"10,240\",True,[shared-01] old-01/old-01.vmdk\n";
const VNETWORK: &str = "VM,NIC label,Adapter,Network,Switch,Connected,Starts Connected\n\
web-01,Network adapter 1,vmxnet3,pg-web,dvs-prod,True,True\n\
db-01,Network adapter 1,vmxnet3,pg-db,dvs-prod,False,False\n";
const DVSWITCH: &str = "Switch,Datacenter,Name,Host members\n\
dvs-prod,DC,dvs-prod,\"esx-01.corp.example, esx-02.corp.example\"\n";
const DVPORT: &str = "Port,Switch,Type,VLAN\n\
pg-web,dvs-prod,earlyBinding,120\n\
pg-db,dvs-prod,earlyBinding,130\n\
pg-trunk,dvs-prod,earlyBinding,0-4094\n";
const VCD: &str = "VM,Device Node,Connected,Starts Connected,Device Type\n\
web-01,CD/DVD drive 1,True,True,[shared-01] iso/tools.iso\n\
db-01,CD/DVD drive 1,False,False,Client Device\n";
const VUSB: &str = "VM,Device Node,Connected\ndb-01,USB 1,True\n";
const VNIC: &str = "Host,Network Device,Driver,Speed,Duplex\n\
esx-01.corp.example,vmnic0,nmlx5,\"25,000\",Full\n\
esx-02.corp.example,vmnic0,ixgben,\"10,000\",Full\n";

#[test]
fn a_complete_csv_export_maps_every_field() {
    let files = [
        ("RVTools_tabvInfo.csv", VINFO),
        ("RVTools_tabvHost.csv", VHOST),
        ("RVTools_tabvDatastore.csv", VDATASTORE),
        ("RVTools_tabvDisk.csv", VDISK),
        ("RVTools_tabvNetwork.csv", VNETWORK),
        ("RVTools_tabdvSwitch.csv", DVSWITCH),
        ("RVTools_tabdvPort.csv", DVPORT),
        ("RVTools_tabvCD.csv", VCD),
        ("RVTools_tabvUSB.csv", VUSB),
        ("RVTools_tabvNIC.csv", VNIC),
    ];
    let uploads: Vec<Upload> = files
        .iter()
        .map(|(n, b)| Upload {
            name: n,
            bytes: b.as_bytes(),
        })
        .collect();
    let book = read(&uploads, &Limits::default()).unwrap();
    let t = translate(&book, &Inventory::default()).unwrap();
    let (inv, _) = import(&Inventory::default(), &t);
    let host = |n: &str| inv.hosts.values().find(|h| h.name.as_str() == n).unwrap();
    let vm = |n: &str| inv.vms.values().find(|v| v.name.as_str() == n).unwrap();
    let ds = |n: &str| {
        inv.datastores
            .values()
            .find(|d| d.name.as_str() == n)
            .unwrap()
    };
    assert_eq!(t.report.templates_skipped, 1);
    every_word_has_its_code(&t.report);
    assert_eq!(inv.vms.len(), 3);
    assert_eq!(inv.hosts.len(), 2, "ESX-02 and esx-01 are the vHost hosts");
    let e1 = host("esx-01.corp.example");
    assert_eq!(
        (
            e1.cpu_vendor,
            e1.cores.get(),
            e1.cpu_mhz.get(),
            e1.memory_mib.get()
        ),
        (CpuVendor::Amd, 64, 2_794, 1_048_576)
    );
    assert_eq!(e1.vmotion_link_gbps.get(), 25.0);
    assert_eq!(host("esx-02.corp.example").vmotion_link_gbps.get(), 10.0);
    assert_eq!(ds("shared-01").kind, DatastoreKind::VmfsShared);
    assert_eq!(ds("local-02").kind, DatastoreKind::Local);
    assert_eq!(ds("nfs-01").kind, DatastoreKind::Nfs);
    assert_eq!(ds("nfs-01").host_ids.len(), 2);
    let web = vm("web-01");
    assert_eq!(
        (web.vcpus.get(), web.memory_mib.get(), web.power_state),
        (2, 8_192, PowerState::On)
    );
    assert_eq!(web.host_id, e1.id);
    assert_eq!(web.workload.working_set_mib.map(|w| w.get()), Some(1_024));
    assert_eq!(web.disks.len(), 1);
    assert!(web.disks[0].thin && web.disks[0].datastore_id == ds("shared-01").id);
    // vDisk gives no used size: a thin disk holds the VM's share in use (vInfo: half).
    assert_eq!(
        (web.disks[0].capacity_mib.get(), web.disks[0].used_mib),
        (40_960, 20_480)
    );
    assert_eq!(web.nics.len(), 1);
    let pg = &inv.portgroups[&web.nics[0].portgroup_id];
    assert_eq!((pg.name.as_str(), pg.vlan.get()), ("pg-web", 120));
    assert!(web.nics[0].connected);
    assert_eq!(web.devices.len(), 1);
    assert_eq!(
        (
            web.devices[0].kind,
            web.devices[0].backing,
            web.devices[0].connected
        ),
        (DeviceKind::Cdrom, DeviceBacking::File, true)
    );
    assert_eq!(web.devices[0].datastore_id, Some(ds("shared-01").id));
    let db = vm("db-01");
    assert!(db.fault_tolerance);
    assert_eq!(
        db.disks
            .iter()
            .map(|d| inv.datastores[&d.datastore_id].name.as_str())
            .collect::<Vec<_>>(),
        ["local-02", "nfs-01"]
    );
    assert!(!db.nics[0].connected);
    assert!(db
        .devices
        .iter()
        .any(|d| d.kind == DeviceKind::Usb && d.connected));
    assert!(db.devices.iter().any(|d| d.kind == DeviceKind::Cdrom
        && d.backing == DeviceBacking::HostDevice
        && !d.connected));
    assert_eq!(vm("old-01").power_state, PowerState::Off);
    // A trunk's VLAN range is read as untagged, with a warning on its row.
    let w = t
        .report
        .warnings
        .iter()
        .find(|w| w.tab == "dvPort")
        .unwrap();
    assert_eq!((w.row, w.column.as_str()), (4, "VLAN"));
    // Nothing guessed about what the export says.
    assert!(
        !t.report
            .guesses
            .iter()
            .any(|g| g.what.starts_with("datastores") || g.what.starts_with("hosts named")),
        "{:?}",
        t.report.guesses
    );
}

#[test]
fn a_tab_without_a_column_the_mapping_needs_is_refused_naming_it() {
    let files = [(
        "RVTools_tabvInfo.csv",
        "VM,Powerstate,CPUs,Host\nweb,poweredOn,1,esx\n",
    )];
    let uploads: Vec<Upload> = files
        .iter()
        .map(|(n, b)| Upload {
            name: n,
            bytes: b.as_bytes(),
        })
        .collect();
    let book = read(&uploads, &Limits::default()).unwrap();
    let err = translate(&book, &Inventory::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tab vInfo has no column Memory, which the import needs"
    );
    // A value that does not parse names its tab, row and column.
    let files = [(
        "RVTools_tabvInfo.csv",
        "VM,Powerstate,CPUs,Memory,Host\nweb,poweredOn,1,4096,esx\ndb,poweredOn,two,4096,esx\n",
    )];
    let uploads: Vec<Upload> = files
        .iter()
        .map(|(n, b)| Upload {
            name: n,
            bytes: b.as_bytes(),
        })
        .collect();
    let book = read(&uploads, &Limits::default()).unwrap();
    let err = translate(&book, &Inventory::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tab vInfo, row 3: column CPUs: \"two\" is not a number"
    );
}

#[test]
fn without_in_use_the_partitions_say_what_a_vm_uses() {
    let info = "VM,Powerstate,CPUs,Memory,Disks,Provisioned MiB,Path,Host,Cluster\n\
                app-01,poweredOn,2,4096,1,\"10,240\",[ds-01] app-01/app-01.vmx,esx-01,Prod\n";
    let partitions = "VM,Disk,Capacity MiB,Consumed MiB,Free MiB\n\
                      app-01,C:\\,\"6,144\",\"1,024\",\"5,120\"\n\
                      app-01,D:\\,\"4,096\",\"2,048\",\"2,048\"\n";
    let uploads = [
        Upload {
            name: "RVTools_tabvInfo.csv",
            bytes: info.as_bytes(),
        },
        Upload {
            name: "RVTools_tabvPartition.csv",
            bytes: partitions.as_bytes(),
        },
    ];
    let book = read(&uploads, &Limits::default()).unwrap();
    let t = translate(&book, &Inventory::default()).unwrap();
    let vm = &t.file.vms[0];
    assert_eq!(vm.disks.len(), 1);
    assert!(vm.disks[0].thin);
    assert_eq!(
        (vm.disks[0].capacity_mib.get(), vm.disks[0].used_mib),
        (10_240, 3_072)
    );
}
