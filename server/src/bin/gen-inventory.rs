//! Writes a synthetic inventory in the import format to standard output, for load tests and
//! for trying vmshift at scale:
//!
//!     cargo run --release -p server --bin gen-inventory -- --clusters 50 --hosts 50 --vms 18 > big.json
//!     curl -X POST -H 'content-type: application/json' --data-binary @big.json \
//!          http://127.0.0.1:3000/api/v1/inventory

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
}

fn main() {
    let args = Args::parse();
    let inventory = domain::generate::scale_inventory(args.clusters, args.hosts, args.vms);
    let stdout = std::io::stdout().lock();
    serde_json::to_writer(std::io::BufWriter::new(stdout), &inventory).expect("stdout is writable");
}
