//! Zips — a workbook is one — checked before anything is inflated (docs/IMPORT.md#refusals):
//! entries counted, their declared sizes summed and each one's ratio bounded. The zip crate
//! refuses to inflate an entry beyond its declared size, so the sum bounds what is read.

use crate::table::Workbook;
use crate::{csv_read, Limits, ReadError};
use std::io::{Cursor, Read};
use zip::ZipArchive;

/// Entries larger than this are held to [`Limits::ratio`] (small XML parts compress far better).
const RATIO_FROM: u64 = 1 << 20;

fn archive(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, ReadError> {
    ZipArchive::new(Cursor::new(bytes)).map_err(|e| ReadError::NotAnExport {
        why: format!("a damaged zip ({e})"),
    })
}

/// The entries' names, once the zip is known not to inflate beyond `limits`.
pub fn check(bytes: &[u8], limits: &Limits) -> Result<Vec<String>, ReadError> {
    let zip = archive(bytes)?;
    if zip.len() > limits.entries {
        return Err(ReadError::Bomb {
            what: format!("{} entries", zip.len()),
            limit_bytes: limits.inflated_bytes,
            limit_ratio: limits.ratio,
        });
    }
    let mut names = Vec::with_capacity(zip.len());
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_data(i).map_err(|e| ReadError::NotAnExport {
            why: format!("a damaged zip ({e})"),
        })?;
        let name = entry
            .name()
            .map_err(|e| ReadError::NotAnExport {
                why: format!("a damaged zip ({e})"),
            })?
            .to_string();
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        total = total.saturating_add(size);
        if total > limits.inflated_bytes || (size > RATIO_FROM && size / packed > limits.ratio) {
            return Err(ReadError::Bomb {
                what: format!("{name} to {size} bytes from {packed}"),
                limit_bytes: limits.inflated_bytes,
                limit_ratio: limits.ratio,
            });
        }
        names.push(name);
    }
    Ok(names)
}

/// A zip of the CSV export: each `….csv` entry named for its tab (others are left out).
pub fn read_csv_files(
    bytes: &[u8],
    names: &[String],
    limits: &Limits,
) -> Result<Workbook, ReadError> {
    let mut zip = archive(bytes)?;
    let mut book = Workbook::default();
    let mut held = 0;
    for (i, name) in names.iter().enumerate() {
        let Some(tab) = csv_read::tab_of(name) else {
            continue;
        };
        let mut entry = zip.by_index(i).map_err(|e| ReadError::NotAnExport {
            why: format!("{name}: {e}"),
        })?;
        let mut text = Vec::with_capacity(entry.size().min(limits.inflated_bytes) as usize);
        entry
            .read_to_end(&mut text)
            .map_err(|e| ReadError::NotAnExport {
                why: format!("{name}: {e}"),
            })?;
        book.add(csv_read::read(&tab, &text, limits, &mut held)?)?;
    }
    if book.tables.is_empty() {
        return Err(ReadError::NotAnExport {
            why: "the zip holds neither a workbook nor RVTools CSV files".into(),
        });
    }
    book.require_vinfo()?;
    Ok(book)
}
