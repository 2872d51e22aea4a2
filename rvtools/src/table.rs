//! The tabs of an export as tables: header text and rows of cells, each row with its number
//! in the file, so that every warning can name its tab, row and column.

use crate::header::normalize;
use crate::value::{parse_bool, parse_number, Separators};
use crate::ReadError;

/// One cell as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
}

/// A row of a tab: its number in the file (the header is row 1) and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<Cell>,
}

/// A tab of the export.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its name as RVTools spells it (`vInfo`), whatever the file's case.
    pub tab: String,
    /// The header row as written.
    pub headers: Vec<String>,
    normalized: Vec<String>,
    pub rows: Vec<Row>,
    /// How its text numbers are written (CSV; a workbook's numbers are numbers).
    pub separators: Separators,
}

/// The tabs RVTools writes, spelled as it spells them.
const TABS: &[&str] = &[
    "vInfo",
    "vCPU",
    "vMemory",
    "vDisk",
    "vPartition",
    "vNetwork",
    "vCD",
    "vUSB",
    "vFloppy",
    "vSnapshot",
    "vTools",
    "vSource",
    "vRP",
    "vCluster",
    "vHost",
    "vHBA",
    "vNIC",
    "vSwitch",
    "vPort",
    "dvSwitch",
    "dvPort",
    "vSC_VMK",
    "vDatastore",
    "vMultiPath",
    "vLicense",
    "vFileInfo",
    "vHealth",
    "vMetaData",
];

/// The tab's name as RVTools spells it, or as given when it is not one of RVTools' own.
pub fn canonical_tab(name: &str) -> String {
    TABS.iter()
        .find(|t| t.eq_ignore_ascii_case(name.trim()))
        .map_or_else(|| name.trim().to_string(), |t| t.to_string())
}

impl Table {
    /// A tab from its header row and data rows (rows with no value at all are left out: a
    /// spreadsheet saved with formatted empty rows has thousands).
    pub fn new(tab: &str, headers: Vec<String>, rows: Vec<Row>, separators: Separators) -> Self {
        Table {
            tab: canonical_tab(tab),
            normalized: headers.iter().map(|h| normalize(h)).collect(),
            headers,
            rows: rows
                .into_iter()
                .filter(|r| r.cells.iter().any(|c| *c != Cell::Empty))
                .collect(),
            separators,
        }
    }

    /// The same tab with only `rows`.
    pub fn with_rows(&self, rows: Vec<Row>) -> Table {
        Table {
            tab: self.tab.clone(),
            headers: self.headers.clone(),
            normalized: self.normalized.clone(),
            rows,
            separators: self.separators,
        }
    }

    /// The first column whose header is one of `names` (compared as [`normalize`] makes them).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| {
            let n = normalize(n);
            self.normalized.iter().position(|h| *h == n)
        })
    }

    /// The header of column `col` as written.
    pub fn header(&self, col: usize) -> &str {
        self.headers.get(col).map_or("", String::as_str)
    }

    fn cell<'a>(&self, row: &'a Row, col: usize) -> &'a Cell {
        row.cells.get(col).unwrap_or(&Cell::Empty)
    }

    fn malformed(&self, row: &Row, col: usize, why: String) -> ReadError {
        ReadError::Malformed {
            tab: self.tab.clone(),
            row: row.number,
            why: format!("column {}: {why}", self.header(col)),
        }
    }

    /// The cell as text (`None` when empty); numbers as they would print.
    pub fn text(&self, row: &Row, col: usize) -> Option<String> {
        match self.cell(row, col) {
            Cell::Empty => None,
            Cell::Text(t) if t.trim().is_empty() => None,
            Cell::Text(t) => Some(t.trim().to_string()),
            Cell::Number(n) => Some(n.to_string()),
            Cell::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        }
    }

    /// The cell as a number (`None` when empty); text that is not one is refused, naming the
    /// tab, row and column.
    pub fn number(&self, row: &Row, col: usize) -> Result<Option<f64>, ReadError> {
        match self.cell(row, col) {
            Cell::Empty => Ok(None),
            Cell::Number(n) => Ok(Some(*n)),
            Cell::Bool(b) => Ok(Some(f64::from(u8::from(*b)))),
            Cell::Text(t) => {
                parse_number(t, self.separators).map_err(|why| self.malformed(row, col, why))
            }
        }
    }

    /// The cell as yes/no (`None` when empty).
    pub fn boolean(&self, row: &Row, col: usize) -> Result<Option<bool>, ReadError> {
        match self.cell(row, col) {
            Cell::Empty => Ok(None),
            Cell::Bool(b) => Ok(Some(*b)),
            Cell::Number(n) => Ok(Some(*n != 0.0)),
            Cell::Text(t) => parse_bool(t).map_err(|why| self.malformed(row, col, why)),
        }
    }
}

/// The tabs of one export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workbook {
    pub tables: Vec<Table>,
}

impl Workbook {
    /// Adds a tab; one tab twice (two files for vInfo) is refused.
    pub fn add(&mut self, table: Table) -> Result<(), ReadError> {
        if self.get(&table.tab).is_some() {
            return Err(ReadError::DuplicateTab { tab: table.tab });
        }
        self.tables.push(table);
        Ok(())
    }

    /// The tab named `tab`, in any case.
    pub fn get(&self, tab: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.tab.eq_ignore_ascii_case(tab))
    }

    /// Refused unless the VMs' tab is there.
    pub fn require_vinfo(&self) -> Result<(), ReadError> {
        self.get("vInfo").map(|_| ()).ok_or(ReadError::NoVinfo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: usize, cells: Vec<Cell>) -> Row {
        Row { number, cells }
    }

    #[test]
    fn columns_are_found_by_header_and_bad_values_name_tab_row_and_column() {
        let t = Table::new(
            "VINFO",
            vec![
                "VM".into(),
                "Memory".into(),
                "Provisioned MB".into(),
                "Template".into(),
            ],
            vec![
                row(
                    2,
                    vec![
                        Cell::Text("web".into()),
                        Cell::Text("4,096".into()),
                        Cell::Number(10.0),
                        Cell::Text("False".into()),
                    ],
                ),
                row(3, vec![Cell::Empty, Cell::Empty]),
                row(4, vec![Cell::Text("db".into()), Cell::Text("lots".into())]),
            ],
            Separators::Point,
        );
        assert_eq!(t.tab, "vInfo");
        assert_eq!(t.rows.len(), 2, "the empty row is left out");
        let memory = t.column(&["Memory"]).unwrap();
        assert_eq!(t.column(&["Provisioned MiB"]), Some(2));
        assert_eq!(t.column(&["Nope"]), None);
        assert_eq!(t.number(&t.rows[0], memory), Ok(Some(4_096.0)));
        assert_eq!(t.boolean(&t.rows[0], 3), Ok(Some(false)));
        assert_eq!(
            t.boolean(&t.rows[1], 3),
            Ok(None),
            "a short row is empty beyond its end"
        );
        assert_eq!(
            t.number(&t.rows[1], memory),
            Err(ReadError::Malformed {
                tab: "vInfo".into(),
                row: 4,
                why: "column Memory: \"lots\" is not a number".into()
            })
        );
        let mut book = Workbook::default();
        book.add(t.clone()).unwrap();
        assert!(matches!(book.add(t), Err(ReadError::DuplicateTab { .. })));
        assert!(book.get("vinfo").is_some());
    }
}
