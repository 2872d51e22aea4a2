//! Why a file was refused. Each says what is wrong in words an admin can act on; the server
//! maps them to 4xx statuses (docs/IMPORT.md#refusals).

/// A file that could not be read as an RVTools export.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("the upload holds no file")]
    Empty,
    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge { what: String, limit: u64 },
    #[error(
        "the zip would inflate {what}: refused as a possible zip bomb (limits: {limit_bytes} bytes in all, {limit_ratio}:1 per entry)"
    )]
    Bomb {
        what: String,
        limit_bytes: u64,
        limit_ratio: u64,
    },
    #[error("the workbook is password-protected (encrypted) or an old .xls: export it again without a password, as .xlsx")]
    Encrypted,
    #[error("a workbook or a zip comes alone; CSV files may come together")]
    Mixed,
    #[error("not an RVTools export: {why}")]
    NotAnExport { why: String },
    #[error(
        "the export has no vInfo tab (RVTools_tabvInfo.csv): it lists the VMs and is required"
    )]
    NoVinfo,
    #[error("tab {tab} appears twice")]
    DuplicateTab { tab: String },
    #[error("tab {tab} has more than {limit} {what}")]
    TooMany {
        tab: String,
        what: &'static str,
        limit: usize,
    },
    #[error("tab {tab} has no column {column}, which the import needs")]
    MissingColumn { tab: String, column: String },
    #[error("tab {tab}, row {row}: {why}")]
    Malformed {
        tab: String,
        row: usize,
        why: String,
    },
}
