//! Configuration from flags and environment variables.

use clap::Parser;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "vmshift",
    version,
    about = "Live VM migration console",
    // A flag given twice: the last one counts (scripts add to a base command line).
    args_override_self = true
)]
pub struct Config {
    /// Address to listen on. Defaults to the Leptos site address (127.0.0.1:3000).
    #[arg(long, env = "VMSHIFT_BIND")]
    pub bind: Option<SocketAddr>,

    /// Database URL: `sqlite://path` (created if missing) or `postgres://user:pass@host/db`
    /// (several replicas may share one PostgreSQL database). Without it, `DATABASE_URL`, then
    /// `sqlite://data/vmshift.db`.
    #[arg(long, env = "VMSHIFT_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Load the demo inventory when the database is empty.
    #[arg(long, env = "VMSHIFT_DEMO", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo: bool,

    /// Live changes a slow websocket client may fall behind before it is sent a fresh snapshot.
    #[arg(long, env = "VMSHIFT_LIVE_BUFFER", default_value_t = crate::live::DEFAULT_LIVE_BUFFER)]
    pub live_buffer: usize,

    /// Simulated seconds per wall-clock second for migrations (1 = real time, up to 1000).
    #[arg(long, env = "VMSHIFT_SPEED", default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,

    /// Milliseconds between engine ticks (each running migration reports once a tick).
    #[arg(long, env = "VMSHIFT_TICK_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=5_000))]
    pub tick_ms: u64,

    /// The address users reach vmshift at (`https://vmshift.example.com`), when it differs
    /// from what browsers send as `Host` (behind a proxy): browser writes and websockets must
    /// come from exactly this origin, and over https the session cookie is `Secure`.
    #[arg(long, env = "VMSHIFT_PUBLIC_URL", value_parser = parse_origin)]
    pub public_url: Option<String>,

    /// Reverse proxies in front of vmshift (IP addresses or CIDR ranges, comma-separated):
    /// only when a request comes from one of them is the client taken from
    /// `X-Forwarded-For` (for the per-address sign-in limit and the audit log); otherwise the
    /// client is the TCP peer and the header is ignored.
    #[arg(long, env = "VMSHIFT_TRUSTED_PROXY", value_delimiter = ',', value_parser = IpNet::parse)]
    pub trusted_proxy: Vec<IpNet>,

    /// Password of the `admin` user created on the first start (when there is no user yet).
    /// Without it, a random one is generated and printed once in the log.
    #[arg(long, env = "VMSHIFT_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// This replica's name among several sharing one database (default: a fresh random one
    /// per start).
    #[arg(long, env = "VMSHIFT_REPLICA_ID")]
    pub replica_id: Option<String>,

    /// Milliseconds a replica's claim on its running migrations lasts unless renewed; when a
    /// replica dies, another ends its migrations (failed, VMs on their sources) after this.
    #[arg(long, env = "VMSHIFT_LEASE_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(300..=600_000))]
    pub lease_ms: u64,

    /// What moves the bytes: `simulated` (the transfer model, any speed) or `qemu` (the VMs of
    /// the `Lab` cluster are real QEMU guests on this machine, migrated over QMP; the others
    /// stay simulated; speed 1).
    #[arg(long, env = "VMSHIFT_DRIVER", value_enum, default_value_t = DriverKind::Simulated)]
    pub driver: DriverKind,

    /// Where the lab guest's kernel and initramfs are (built by scripts/lab-guest.sh).
    #[arg(long, env = "VMSHIFT_LAB_DIR", default_value = "target/lab")]
    pub lab_dir: std::path::PathBuf,

    /// Where the lab keeps its datastores (directories of qcow2 images) and guest consoles.
    #[arg(long, env = "VMSHIFT_LAB_DATA", default_value = "data/lab")]
    pub lab_data: std::path::PathBuf,

    /// The key that encrypts vCenter connection passwords (docs/VCENTER.md#credentials): any
    /// passphrase; replicas sharing a database give the same one. Without it, the key in
    /// `--secret-key-file`, created on first need.
    #[arg(long, env = "VMSHIFT_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Where the generated key is kept when `--secret-key` is not given.
    #[arg(
        long,
        env = "VMSHIFT_SECRET_KEY_FILE",
        default_value = "data/secret.key"
    )]
    pub secret_key_file: std::path::PathBuf,

    /// Seconds between two full reads of each connected vCenter (changes arrive as they
    /// happen; this catches what a server does not report).
    #[arg(long, env = "VMSHIFT_VCENTER_FULL_READ_S", default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub vcenter_full_read_s: u64,

    /// Seconds one wait for vCenter's changes lasts (`WaitForUpdatesEx`'s maxWaitSeconds).
    #[arg(long, env = "VMSHIFT_VCENTER_WAIT_S", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=60), hide = true)]
    pub vcenter_wait_s: u32,

    /// Seconds a migration through vCenter may run before vmshift cancels its task.
    #[arg(long, env = "VMSHIFT_VCENTER_TASK_TIMEOUT_S", default_value_t = 14_400, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub vcenter_task_timeout_s: u64,

    /// Test hooks (docs/RELIABILITY.md): `point=action,…` makes vmshift fail on purpose.
    #[arg(long, env = "VMSHIFT_FAILPOINTS", default_value = "", hide = true)]
    pub failpoints: String,

    /// Log filter (tracing's env-filter syntax).
    #[arg(long, env = "VMSHIFT_LOG", default_value = "info,sqlx=warn")]
    pub log: String,
}

/// The hypervisor side of migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriverKind {
    Simulated,
    Qemu,
}

/// An IP address range (`10.0.0.0/8`, `::1/128`; a bare address is the range of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or range (10.0.0.1, 10.0.0.0/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length is 0 to {max}"))?,
        };
        Ok(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| -> (u128, u8) {
            match a {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        // An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is that IPv4 client.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let ((net, width), (candidate, other)) = (bits(self.addr), bits(ip));
        if width != other {
            return false;
        }
        // Both kinds sit in the top bits: the prefix is the top `prefix` bits.
        let mask = u128::MAX
            .checked_shl(128 - u32::from(self.prefix))
            .unwrap_or(0);
        net & mask == candidate & mask
    }
}

/// Where the database is when neither `--database-url` nor `VMSHIFT_DATABASE_URL` says.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/vmshift.db";

impl Config {
    /// The database URL: the flag (or `VMSHIFT_DATABASE_URL`), else the conventional
    /// `DATABASE_URL`, else SQLite in `data/`.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
    }
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (1.0..=1000.0).contains(&v) {
        Ok(v)
    } else {
        Err("the speed factor must be between 1 and 1000".into())
    }
}

/// `scheme://host[:port]` of a URL, lowercased (what browsers send as `Origin`).
pub fn parse_origin(s: &str) -> Result<String, String> {
    let (scheme, rest) = s
        .split_once("://")
        .ok_or_else(|| format!("{s:?} is not a URL (https://host[:port])"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("{s:?}: only http and https"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("{s:?}: give the host (and port) only"));
    }
    Ok(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::{parse_origin, parse_speed, Config, IpNet};
    use clap::Parser;

    #[test]
    fn the_speed_factor_is_1_by_default_and_at_most_1000() {
        assert_eq!(parse_speed("1"), Ok(1.0));
        assert_eq!(parse_speed("1000"), Ok(1000.0));
        assert_eq!(parse_speed("2.5"), Ok(2.5));
        for bad in ["0.5", "0", "-3", "1000.5", "1e9", "fast", "NaN"] {
            assert!(parse_speed(bad).is_err(), "{bad}");
        }
        let parsed = Config::try_parse_from(["vmshift", "--speed", "1000"]).unwrap();
        assert_eq!(parsed.speed, 1000.0);
        // Given twice, the last one counts; a list flag given twice keeps both.
        let twice = ["vmshift", "--speed", "1000", "--speed", "5"];
        assert_eq!(Config::try_parse_from(twice).unwrap().speed, 5.0);
        let proxies = [
            "vmshift",
            "--trusted-proxy",
            "10.0.0.1",
            "--trusted-proxy",
            "10.0.0.2",
        ];
        assert_eq!(
            Config::try_parse_from(proxies).unwrap().trusted_proxy.len(),
            2
        );
        let refused = Config::try_parse_from(["vmshift", "--speed", "1001"]).unwrap_err();
        assert!(
            refused.to_string().contains("between 1 and 1000"),
            "{refused}"
        );
        // Unless the environment sets it (the end-to-end run does), the default is 1×.
        if std::env::var_os("VMSHIFT_SPEED").is_none() {
            assert_eq!(Config::try_parse_from(["vmshift"]).unwrap().speed, 1.0);
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = IpNet::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6 = IpNet::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        assert!(IpNet::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0/8", "::1/129"] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
        let parsed =
            Config::try_parse_from(["vmshift", "--trusted-proxy", "10.0.0.1,192.168.0.0/24"])
                .unwrap();
        assert_eq!(parsed.trusted_proxy.len(), 2);
    }

    #[test]
    fn public_urls_become_origins() {
        assert_eq!(
            parse_origin("HTTPS://VMShift.example.com/path").unwrap(),
            "https://vmshift.example.com"
        );
        assert_eq!(
            parse_origin("http://10.0.0.5:8080").unwrap(),
            "http://10.0.0.5:8080"
        );
        for bad in ["vmshift.example.com", "ftp://x", "https://", "https://u@x"] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
