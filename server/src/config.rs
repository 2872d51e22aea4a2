//! Configuration from flags and environment variables.

use clap::Parser;
use std::net::SocketAddr;

/// Largest accepted request body (an inventory import can be large).
pub const BODY_LIMIT_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Parser)]
#[command(name = "vmshift", version, about = "Live VM migration console")]
pub struct Config {
    /// Address to listen on. Defaults to the Leptos site address (127.0.0.1:3000).
    #[arg(long, env = "VMSHIFT_BIND")]
    pub bind: Option<SocketAddr>,

    /// Database URL (SQLite), created if missing.
    #[arg(
        long,
        env = "VMSHIFT_DATABASE_URL",
        default_value = "sqlite://data/vmshift.db"
    )]
    pub database_url: String,

    /// Load the demo inventory when the database is empty.
    #[arg(long, env = "VMSHIFT_DEMO", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo: bool,

    /// Live changes a slow websocket client may fall behind before it is sent a fresh snapshot.
    #[arg(long, env = "VMSHIFT_LIVE_BUFFER", default_value_t = crate::inventory_service::DEFAULT_LIVE_BUFFER)]
    pub live_buffer: usize,

    /// Log filter (tracing's env-filter syntax).
    #[arg(long, env = "VMSHIFT_LOG", default_value = "info,sqlx=warn")]
    pub log: String,
}
