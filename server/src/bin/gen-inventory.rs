//! Writes a synthetic inventory in the import format to standard output, for load tests and
//! for trying vmshift at scale:
//!
//!     cargo run --release -p server --bin gen-inventory -- --clusters 50 --hosts 50 --vms 18 > big.json
//!     curl -X POST -H 'content-type: application/json' --data-binary @big.json \
//!          http://127.0.0.1:3000/api/v1/inventory
//!
//! or, with `--rvtools`, as an RVTools-layout workbook (docs/IMPORT.md#export) for the RVTools
//! import (`POST /api/v1/imports/rvtools`).

use clap::Parser;

#[derive(Parser)]
#[command(about = "Generate a synthetic vmshift inventory (JSON import format)")]
struct Args {
    /// Number of clusters (each with one shared datastore and one vDS).
    #[arg(long, default_value_t = 50)]
    clusters: usize,
    /// Hosts per cluster.
    #[arg(long, default_value_t = 50)]
    hosts: usize,
    /// VMs per host.
    #[arg(long, default_value_t = 18)]
    vms: usize,
    /// Write an RVTools-layout xlsx workbook instead of JSON.
    #[arg(long)]
    rvtools: bool,
}

fn main() {
    let args = Args::parse();
    let inventory = domain::generate::scale_inventory(args.clusters, args.hosts, args.vms);
    let mut stdout = std::io::stdout().lock();
    if args.rvtools {
        let bytes = rvtools::write::xlsx(&rvtools::export::workbook(&inventory))
            .expect("a generated inventory writes");
        std::io::Write::write_all(&mut stdout, &bytes).expect("stdout is writable");
    } else {
        serde_json::to_writer(std::io::BufWriter::new(stdout), &inventory)
            .expect("stdout is writable");
    }
}
