//! One tab of the CSV export (docs/IMPORT.md#csv): RFC 4180 quoting (multi-line cells, doubled
//! quotes), UTF-8 with or without a BOM, fields separated by `,` — or by `;` in files saved in
//! European locales, whose numbers then read `16.384` and `1,5`.

use crate::table::{canonical_tab, Cell, Row, Table};
use crate::value::Separators;
use crate::{Limits, ReadError};

/// The tab a CSV file holds, from its name: `RVTools_tabvInfo.csv` and `vInfo.csv` hold vInfo.
pub fn tab_of(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next()?;
    let stem = base
        .strip_suffix(".csv")
        .or_else(|| base.strip_suffix(".CSV"))?;
    let tab = stem
        .find("tab")
        .filter(|_| stem.to_ascii_lowercase().starts_with("rvtools_tab"))
        .map_or(stem, |i| &stem[i + 3..]);
    (!tab.is_empty()).then(|| canonical_tab(tab))
}

/// The field separator of the header line: whichever of `;`, `,` and tab it has most of,
/// outside quotes (`,` when none).
fn delimiter(text: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in text {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if quoted => {}
            _ => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

/// Reads `bytes` as tab `tab`; `held` counts the cells of every file of the upload.
pub fn read(
    tab: &str,
    bytes: &[u8],
    limits: &Limits,
    held: &mut usize,
) -> Result<Table, ReadError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::NotAnExport {
            why: format!("{tab} is UTF-16 text: save it again as CSV (UTF-8)"),
        });
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let delimiter = delimiter(text);
    let separators = if delimiter == b';' {
        Separators::Comma
    } else {
        Separators::Point
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text);
    let mut headers = None;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let number = i + 1;
        if number > limits.rows {
            return Err(ReadError::TooMany {
                tab: tab.into(),
                what: "rows",
                limit: limits.rows,
            });
        }
        let record = record.map_err(|e| ReadError::Malformed {
            tab: tab.into(),
            row: number,
            why: match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "not UTF-8 text: save the CSV as UTF-8".into(),
                _ => e.to_string(),
            },
        })?;
        if record.len() > limits.columns {
            return Err(ReadError::TooMany {
                tab: tab.into(),
                what: "columns",
                limit: limits.columns,
            });
        }
        *held += record.len();
        if *held > limits.cells {
            return Err(ReadError::TooMany {
                tab: tab.into(),
                what: "cells (all files together)",
                limit: limits.cells,
            });
        }
        if headers.is_none() {
            headers = Some(record.iter().map(str::to_string).collect::<Vec<_>>());
            continue;
        }
        let cells = record
            .iter()
            .map(|f| {
                if f.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(f.to_string())
                }
            })
            .collect();
        rows.push(Row { number, cells });
    }
    let headers = headers.ok_or_else(|| ReadError::NotAnExport {
        why: format!("{tab} has no header row"),
    })?;
    Ok(Table::new(tab, headers, rows, separators))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_are_named_by_their_files() {
        assert_eq!(tab_of("RVTools_tabvInfo.csv").as_deref(), Some("vInfo"));
        assert_eq!(
            tab_of("export/RVTools_tabdvPort.csv").as_deref(),
            Some("dvPort")
        );
        assert_eq!(
            tab_of("C:\\x\\rvtools_tabvsc_vmk.CSV").as_deref(),
            Some("vSC_VMK")
        );
        assert_eq!(tab_of("vHost.csv").as_deref(), Some("vHost"));
        assert_eq!(tab_of("notes.txt"), None);
    }

    #[test]
    fn comma_files_with_quotes_multi_line_cells_and_a_bom() {
        let text = "\u{feff}VM,Memory,Annotation\r\nweb-01,\"16,384\",\"two\r\nlines, and \"\"quotes\"\"\"\r\n,,\r\ndb-01,2048,\r\n";
        let t = read("vInfo", text.as_bytes(), &Limits::default(), &mut 0).unwrap();
        assert_eq!(t.headers, ["VM", "Memory", "Annotation"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.number(&t.rows[0], 1), Ok(Some(16_384.0)));
        assert_eq!(
            t.text(&t.rows[0], 2).as_deref(),
            Some("two\r\nlines, and \"quotes\"")
        );
        assert_eq!(
            t.rows[1].number, 4,
            "the empty record still counts as a row"
        );
    }

    #[test]
    fn semicolon_files_write_numbers_the_european_way() {
        let text = "VM;Memory;CPU usage %\nweb-01;16.384;12,5\n";
        let t = read("vInfo", text.as_bytes(), &Limits::default(), &mut 0).unwrap();
        assert_eq!(t.separators, Separators::Comma);
        assert_eq!(t.number(&t.rows[0], 1), Ok(Some(16_384.0)));
        assert_eq!(t.number(&t.rows[0], 2), Ok(Some(12.5)));
    }

    #[test]
    fn bounds_and_encodings_are_refused_clearly() {
        let limits = Limits {
            rows: 3,
            columns: 2,
            ..Limits::default()
        };
        let many = "VM\na\nb\nc\n";
        assert!(matches!(
            read("vInfo", many.as_bytes(), &limits, &mut 0),
            Err(ReadError::TooMany { what: "rows", .. })
        ));
        assert!(matches!(
            read("vInfo", b"a,b,c\n", &limits, &mut 0),
            Err(ReadError::TooMany {
                what: "columns",
                ..
            })
        ));
        assert!(matches!(
            read("vInfo", &[0xFF, 0xFE, b'V', 0], &limits, &mut 0),
            Err(ReadError::NotAnExport { .. })
        ));
        let latin1 = b"VM\ncaf\xe9\n";
        let err = read("vInfo", latin1, &Limits::default(), &mut 0).unwrap_err();
        assert!(err.to_string().contains("row 2"), "{err}");
        assert!(matches!(
            read("vInfo", b"", &limits, &mut 0),
            Err(ReadError::NotAnExport { .. })
        ));
    }
}
