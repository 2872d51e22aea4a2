//! Reading exports end to end: the real anonymised RVTools 3.x workbook in `tests/data` (see
//! its NOTICE), a zip of CSV files, CSV files given together, and each bad file refused.

use rvtools::{read, Cell, Limits, ReadError, Upload};
use std::io::{Cursor, Write};

const SAMPLE: &[u8] = include_bytes!("data/SizingWorkshop-RVTools.xlsx");

fn one(name: &str, bytes: &[u8]) -> Result<rvtools::Workbook, ReadError> {
    read(&[Upload { name, bytes }], &Limits::default())
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn the_real_export_reads_every_tab_row_and_column_by_its_header() {
    let book = one("SizingWorkshop-RVTools.xlsx", SAMPLE).unwrap();
    let tabs: Vec<&str> = book.tables.iter().map(|t| t.tab.as_str()).collect();
    assert_eq!(tabs, ["vInfo", "vNetwork", "vPartition", "vHost"]);
    let count = |tab: &str| book.get(tab).unwrap().rows.len();
    // 805 VMs, the ~2,700 formatted empty rows after them left out.
    assert_eq!(count("vInfo"), 805);
    assert_eq!(count("vNetwork"), 805);
    assert_eq!(count("vPartition"), 1_618);
    assert_eq!(count("vHost"), 34);

    let info = book.get("vInfo").unwrap();
    let first = &info.rows[0];
    assert_eq!(first.number, 2);
    let col = |names: &[&str]| info.column(names).unwrap();
    assert_eq!(info.text(first, col(&["VM"])).as_deref(), Some("wadfs1"));
    assert_eq!(
        info.text(first, col(&["Powerstate"])).as_deref(),
        Some("poweredOn")
    );
    assert_eq!(info.boolean(first, col(&["Template"])), Ok(Some(false)));
    assert_eq!(info.number(first, col(&["CPUs"])), Ok(Some(1.0)));
    assert_eq!(info.number(first, col(&["Memory"])), Ok(Some(4_096.0)));
    // 3.x says MB where 4.x says MiB: one name finds both.
    assert_eq!(
        info.number(first, col(&["Provisioned MiB"])),
        Ok(Some(86_201.0))
    );
    assert_eq!(info.number(first, col(&["In Use MiB"])), Ok(Some(62_420.0)));
    assert_eq!(
        info.text(first, col(&["Host"])).as_deref(),
        Some("bovmsp-04.customer.com")
    );
    let templates = info
        .rows
        .iter()
        .filter(|r| info.boolean(r, col(&["Template"])) == Ok(Some(true)))
        .count();
    assert_eq!(templates, 10);
    let missing_tools_os = info
        .rows
        .iter()
        .filter(|r| {
            info.text(r, col(&["OS according to the VMware Tools"]))
                .is_none()
        })
        .count();
    assert_eq!(missing_tools_os, 19);

    // Real booleans (vNetwork) and text ones (vHost) read alike.
    let net = book.get("vNetwork").unwrap();
    assert_eq!(
        net.rows[0].cells[net.column(&["Connected"]).unwrap()],
        Cell::Bool(true)
    );
    assert_eq!(
        net.boolean(&net.rows[0], net.column(&["Connected"]).unwrap()),
        Ok(Some(true))
    );
    let host = book.get("vHost").unwrap();
    let h = &host.rows[0];
    assert_eq!(
        host.text(h, host.column(&["Host"]).unwrap()).as_deref(),
        Some("vmsp-01")
    );
    assert_eq!(
        host.boolean(h, host.column(&["HT Active"]).unwrap()),
        Ok(Some(true))
    );
    assert_eq!(
        host.number(h, host.column(&["# Cores"]).unwrap()),
        Ok(Some(16.0))
    );
    assert_eq!(
        host.number(h, host.column(&["# Memory"]).unwrap()),
        Ok(Some(262_109.0))
    );
    // A header written with a trailing space is found without it.
    let part = book.get("vPartition").unwrap();
    assert!(part.column(&["Free %"]).is_some());
}

#[test]
fn a_zip_of_the_csv_export_and_csv_files_given_together_read_alike() {
    let info: &[u8] =
        b"VM,Powerstate,Memory,Provisioned MB\nweb-01,poweredOn,\"16,384\",\"102,400\"\n";
    let host: &[u8] = b"Host;# Memory;Speed\nesx-01;262.109;2,7\n";
    let zipped = zip_of(&[
        ("export/RVTools_tabvInfo.csv", info),
        ("export/RVTools_tabvHost.csv", host),
        ("export/readme.txt", b"not a tab"),
    ]);
    let from_zip = one("export.zip", &zipped).unwrap();
    let from_files = read(
        &[
            Upload {
                name: "RVTools_tabvInfo.csv",
                bytes: info,
            },
            Upload {
                name: "RVTools_tabvHost.csv",
                bytes: host,
            },
        ],
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(from_zip, from_files);
    let h = from_zip.get("vHost").unwrap();
    assert_eq!(h.number(&h.rows[0], 1), Ok(Some(262_109.0)));
    assert_eq!(h.number(&h.rows[0], 2), Ok(Some(2.7)));
    let i = from_zip.get("vInfo").unwrap();
    assert_eq!(
        i.number(&i.rows[0], i.column(&["Provisioned MiB"]).unwrap()),
        Ok(Some(102_400.0))
    );
}

#[test]
fn bad_files_are_refused_saying_why() {
    // Not a spreadsheet.
    let err = one("notes.txt", b"hello").unwrap_err();
    assert!(matches!(err, ReadError::NotAnExport { .. }), "{err}");
    // An encrypted workbook (an OLE compound file) or an old .xls.
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(4_096, 0);
    assert_eq!(one("locked.xlsx", &ole), Err(ReadError::Encrypted));
    assert!(ReadError::Encrypted.to_string().contains("password"));
    // A zip bomb: 8 MiB of zeros in a few KiB.
    let bomb = zip_of(&[("RVTools_tabvInfo.csv", &vec![b'0'; 8 << 20])]);
    assert!(bomb.len() < 100_000);
    let err = one("bomb.zip", &bomb).unwrap_err();
    assert!(matches!(err, ReadError::Bomb { .. }), "{err}");
    // Beyond what may be inflated in all.
    let small = Limits {
        inflated_bytes: 1_000,
        ..Limits::default()
    };
    let big = zip_of(&[("RVTools_tabvInfo.csv", &[b'x'; 2_000])]);
    assert!(matches!(
        read(
            &[Upload {
                name: "big.zip",
                bytes: &big
            }],
            &small
        ),
        Err(ReadError::Bomb { .. })
    ));
    // CSV files without vInfo.
    let err = read(
        &[Upload {
            name: "RVTools_tabvHost.csv",
            bytes: b"Host\nesx-01\n",
        }],
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err, ReadError::NoVinfo);
    // A workbook with CSV files; one tab twice; a damaged zip; too large an upload.
    assert_eq!(
        read(
            &[
                Upload {
                    name: "a.xlsx",
                    bytes: SAMPLE
                },
                Upload {
                    name: "RVTools_tabvInfo.csv",
                    bytes: b"VM\n"
                }
            ],
            &Limits::default()
        ),
        Err(ReadError::Mixed)
    );
    assert!(matches!(
        read(
            &[
                Upload {
                    name: "RVTools_tabvInfo.csv",
                    bytes: b"VM\na\n"
                },
                Upload {
                    name: "vinfo.csv",
                    bytes: b"VM\nb\n"
                }
            ],
            &Limits::default()
        ),
        Err(ReadError::DuplicateTab { .. })
    ));
    let err = one("cut.xlsx", &SAMPLE[..SAMPLE.len() / 2]).unwrap_err();
    assert!(matches!(err, ReadError::NotAnExport { .. }), "{err}");
    let tiny = Limits {
        upload_bytes: 1_000,
        ..Limits::default()
    };
    assert!(matches!(
        read(
            &[Upload {
                name: "a.xlsx",
                bytes: SAMPLE
            }],
            &tiny
        ),
        Err(ReadError::TooLarge { .. })
    ));
    // Nothing at all.
    assert_eq!(read(&[], &Limits::default()), Err(ReadError::Empty));
}

#[test]
fn a_workbook_too_wide_or_too_long_is_refused_before_it_is_held() {
    let narrow = Limits {
        columns: 10,
        ..Limits::default()
    };
    let err = read(
        &[Upload {
            name: "a.xlsx",
            bytes: SAMPLE,
        }],
        &narrow,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ReadError::TooMany { tab, what: "columns", .. } if tab == "vInfo"),
        "{err}"
    );
    let short = Limits {
        rows: 100,
        ..Limits::default()
    };
    let err = read(
        &[Upload {
            name: "a.xlsx",
            bytes: SAMPLE,
        }],
        &short,
    )
    .unwrap_err();
    assert!(
        matches!(err, ReadError::TooMany { what: "rows", .. }),
        "{err}"
    );
}
