//! RVTools exports read into tables (docs/IMPORT.md#reading) and mapped to vmshift's import
//! format (docs/IMPORT.md#mapping): the xlsx workbook ("Export all to Excel"), a zip of the
//! CSV export (`RVTools_tabvInfo.csv`, …), or CSV files given together. Everything here is bytes in, tables out — no I/O — and every file is bad input
//! until read: sizes, entries, rows and columns are bounded by [`Limits`], and a file that
//! breaks one is refused with a [`ReadError`] saying which.
//!
//! Columns are found by their header text (trimmed, spaces collapsed, case ignored, `MB`/`MiB`
//! and `KB`/`KiB` alike: the two RVTools generations), never by position.

mod csv_read;
mod error;
pub mod export;
mod header;
pub mod map;
mod table;
mod value;
pub mod write;
mod xlsx_read;
mod zip_read;

pub use error::ReadError;
pub use header::normalize;
pub use map::{translate, Guess, Report, Translation, Warning};
pub use table::{Cell, Row, Table, Workbook};
pub use value::{parse_bool, parse_number, Separators};

/// Bounds on what a file may make the reader hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one upload.
    pub upload_bytes: u64,
    /// Bytes a zip (a workbook is one) may inflate to, all entries together.
    pub inflated_bytes: u64,
    /// Inflated ÷ compressed size of any one entry (a zip bomb's is in the thousands).
    pub ratio: u64,
    /// Entries of a zip.
    pub entries: usize,
    /// Rows of one tab (the header included).
    pub rows: usize,
    /// Columns of one tab.
    pub columns: usize,
    /// Cells with a value, all tabs together (what bounds the tables' memory).
    pub cells: usize,
}

impl Default for Limits {
    /// Room for vCenter's maximum (45,000 VMs: vInfo, vDisk and vNetwork rows of several per
    /// VM) with a wide margin, and no more.
    fn default() -> Self {
        Limits {
            upload_bytes: 256 << 20,
            inflated_bytes: 1 << 30,
            ratio: 200,
            entries: 1_000,
            rows: 500_000,
            columns: 1_024,
            cells: 20_000_000,
        }
    }
}

/// One file of an upload: its name (to know a CSV file's tab) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// What a file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A zip: an xlsx workbook (it holds `xl/workbook.xml`) or a zip of CSV files.
    Zip,
    /// An OLE compound file: an encrypted (password-protected) workbook, or an old `.xls`.
    Compound,
    /// Anything else is read as CSV.
    Text,
}

pub fn kind(bytes: &[u8]) -> Kind {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Kind::Compound
    } else {
        Kind::Text
    }
}

/// Reads an upload — one workbook, one zip of CSV files, or CSV files — into its tabs.
/// A workbook or a zip comes alone; CSV files come together, each named for its tab.
pub fn read(files: &[Upload<'_>], limits: &Limits) -> Result<Workbook, ReadError> {
    let total: u64 = files.iter().map(|f| f.bytes.len() as u64).sum();
    if total > limits.upload_bytes {
        return Err(ReadError::TooLarge {
            what: "the upload".into(),
            limit: limits.upload_bytes,
        });
    }
    let Some(first) = files.first() else {
        return Err(ReadError::Empty);
    };
    match kind(first.bytes) {
        Kind::Compound => Err(ReadError::Encrypted),
        Kind::Zip if files.len() > 1 => Err(ReadError::Mixed),
        Kind::Zip => {
            let entries = zip_read::check(first.bytes, limits)?;
            if entries.iter().any(|e| e == "xl/workbook.xml") {
                xlsx_read::read(first.bytes, limits)
            } else {
                zip_read::read_csv_files(first.bytes, &entries, limits)
            }
        }
        Kind::Text => {
            let mut book = Workbook::default();
            let mut held = 0;
            for f in files {
                if kind(f.bytes) != Kind::Text {
                    return Err(ReadError::Mixed);
                }
                let tab = csv_read::tab_of(f.name).ok_or_else(|| ReadError::NotAnExport {
                    why: format!(
                        "{} is not named for an RVTools tab (RVTools_tabvInfo.csv, vHost.csv, …)",
                        f.name
                    ),
                })?;
                book.add(csv_read::read(&tab, f.bytes, limits, &mut held)?)?;
            }
            book.require_vinfo()?;
            Ok(book)
        }
    }
}
