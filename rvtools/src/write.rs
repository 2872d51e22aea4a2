//! Tabs written as an xlsx workbook (docs/IMPORT.md#export): one worksheet per tab, the
//! header in bold on a frozen first row, numbers as numbers, booleans as `True`/`False`
//! the way RVTools writes them.

use crate::{Cell, Workbook};
use rust_xlsxwriter::{Format, Workbook as Xlsx, XlsxError};

/// The workbook's bytes.
pub fn xlsx(book: &Workbook) -> Result<Vec<u8>, XlsxError> {
    let mut out = Xlsx::new();
    let bold = Format::new().set_bold();
    for table in &book.tables {
        let sheet = out.add_worksheet();
        sheet.set_name(&table.tab)?;
        for (col, header) in table.headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, header, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (i, row) in table.rows.iter().enumerate() {
            let r = i as u32 + 1;
            for (col, cell) in row.cells.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        sheet.write_string(r, col, s)?;
                    }
                    Cell::Number(v) => {
                        sheet.write_number(r, col, *v)?;
                    }
                    Cell::Bool(b) => {
                        sheet.write_string(r, col, if *b { "True" } else { "False" })?;
                    }
                }
            }
        }
    }
    out.save_to_buffer()
}
