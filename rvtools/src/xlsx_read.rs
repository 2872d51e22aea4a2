//! The workbook ("Export all to Excel"), read cell by cell (docs/IMPORT.md#xlsx): a sheet's
//! cells are never laid out as a grid, so a crafted file with one cell at A1 and one at
//! XFD1048576 costs two cells, not seventeen billion; rows and columns beyond [`Limits`] are
//! refused as soon as one is met.

use crate::table::{Cell, Row, Table, Workbook};
use crate::value::Separators;
use crate::{Limits, ReadError};
use calamine::{DataRef, Reader, Xlsx, XlsxError};
use std::collections::BTreeMap;
use std::io::Cursor;

fn refusal(e: XlsxError) -> ReadError {
    match e {
        XlsxError::Password => ReadError::Encrypted,
        other => ReadError::NotAnExport {
            why: format!("the workbook could not be read ({other})"),
        },
    }
}

fn cell(value: &DataRef<'_>) -> Cell {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            Cell::Text(s.clone())
        }
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        // Dates are read as Excel's day numbers (no field of the mapping needs a date).
        DataRef::DateTime(d) => Cell::Number(d.as_f64()),
        DataRef::Error(_) => Cell::Empty,
    }
}

/// Every sheet of the workbook as a table: its first row the header.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Workbook, ReadError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(refusal)?;
    let mut book = Workbook::default();
    let mut held = 0usize;
    for name in workbook.sheet_names() {
        let mut cells = workbook.worksheet_cells_reader(&name).map_err(refusal)?;
        // Rows by number; cells by column. Only cells with a value are held.
        let mut rows: BTreeMap<u32, Vec<(u32, Cell)>> = BTreeMap::new();
        while let Some(c) = cells.next_cell().map_err(refusal)? {
            let (row, col) = c.get_position();
            if row as usize >= limits.rows {
                return Err(ReadError::TooMany {
                    tab: name.clone(),
                    what: "rows",
                    limit: limits.rows,
                });
            }
            if col as usize >= limits.columns {
                return Err(ReadError::TooMany {
                    tab: name.clone(),
                    what: "columns",
                    limit: limits.columns,
                });
            }
            let value = cell(c.get_value());
            if value != Cell::Empty {
                held += 1;
                if held > limits.cells {
                    return Err(ReadError::TooMany {
                        tab: name.clone(),
                        what: "cells (all tabs together)",
                        limit: limits.cells,
                    });
                }
                rows.entry(row).or_default().push((col, value));
            }
        }
        drop(cells);
        let mut rows = rows.into_iter();
        // The first row with a value is the header (RVTools writes it in row 1).
        let Some((_, header)) = rows.next() else {
            continue;
        };
        let width = header
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut headers = vec![String::new(); width];
        for (col, value) in header {
            headers[col as usize] = match value {
                Cell::Text(t) => t,
                Cell::Number(n) => n.to_string(),
                Cell::Bool(b) => b.to_string(),
                Cell::Empty => String::new(),
            };
        }
        let data = rows
            .map(|(row, values)| {
                let width = values
                    .iter()
                    .map(|(c, _)| *c as usize + 1)
                    .max()
                    .unwrap_or(0);
                let mut cells = vec![Cell::Empty; width];
                for (col, value) in values {
                    cells[col as usize] = value;
                }
                Row {
                    number: row as usize + 1,
                    cells,
                }
            })
            .collect();
        book.add(Table::new(&name, headers, data, Separators::Point))?;
    }
    book.require_vinfo()?;
    Ok(book)
}
