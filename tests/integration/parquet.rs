//! `affsim run --parquet`: a build without the `parquet` feature refuses it before running; a
//! build with it writes timeseries.parquet and ledger.parquet holding the CSV files' rows.

use crate::util::{TempDir, affsim, arg};

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_needs_the_feature() {
    let tmp = TempDir::new("parquet-refused");
    let out = tmp.join("report");
    let run = affsim(&["run", "--parquet", "--quiet", "--out", arg(&out)]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--features parquet"), "{run}");
    assert!(
        !out.exists(),
        "nothing is written when --parquet is refused"
    );
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_files_hold_the_csv_rows() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let tmp = TempDir::new("parquet-written");
    let out = tmp.join("report");
    let run = affsim(&[
        "run",
        "--replications",
        "2",
        "--ledger",
        "--parquet",
        "--quiet",
        "--out",
        arg(&out),
    ]);
    assert_eq!(run.code, 0, "{run}");
    for name in ["timeseries", "ledger"] {
        let csv_rows = std::fs::read_to_string(out.join(format!("{name}.csv")))
            .unwrap()
            .lines()
            .count()
            - 1;
        let f = std::fs::File::open(out.join(format!("{name}.parquet"))).unwrap();
        let r = SerializedFileReader::new(f).unwrap();
        let rows = r.metadata().file_metadata().num_rows() as usize;
        assert_eq!(rows, csv_rows, "{name}: Parquet rows = CSV rows");
        let first = r.get_row_iter(None).unwrap().next().unwrap().unwrap();
        assert!(first.to_string().contains("replication: 0"), "{first}");
    }
}
