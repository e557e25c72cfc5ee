//! Parquet copies of `timeseries.csv` and `ledger.csv` for analysts (`affsim run --parquet`,
//! Cargo feature `parquet`): typed columns — dates, timestamps, exact decimals — that DuckDB,
//! pandas and Spark read directly. Written from the finished CSV files, so both always agree.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, NaiveDateTime};
use parquet::basic::Compression;
use parquet::data_type::{
    ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int32Type, Int64Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rust_decimal::Decimal;

/// Decimal columns are DECIMAL(38, 10): exact for every amount with at most 10 decimals.
pub const SCALE: u32 = 10;
/// Rows per row group.
const GROUP: usize = 1 << 20;

const TIMESERIES: &str = "message timeseries {
  required int32 replication (INTEGER(32,false));
  required int32 day (INTEGER(32,false));
  required int32 date (DATE);
  required binary metric (STRING);
  required fixed_len_byte_array(16) value (DECIMAL(38,10));
}";

const LEDGER: &str = "message ledger {
  required int32 replication (INTEGER(32,false));
  required int64 seq (INTEGER(64,false));
  required int64 time (TIMESTAMP(MILLIS,false));
  required binary kind (STRING);
  required binary from (STRING);
  required binary to (STRING);
  required fixed_len_byte_array(16) amount (DECIMAL(38,10));
  optional binary order (STRING);
  required binary plan (STRING);
  optional binary rate (STRING);
  optional int64 rate_since (TIMESTAMP(MILLIS,false));
  required binary rules (STRING);
}";

/// A column's values for one row group; `None` is null (optional columns only).
enum Col {
    I32(Vec<i32>),
    I64(Vec<Option<i64>>),
    Str(Vec<Option<ByteArray>>),
    Dec(Vec<FixedLenByteArray>),
}

impl Col {
    fn clear(&mut self) {
        match self {
            Col::I32(v) => v.clear(),
            Col::I64(v) => v.clear(),
            Col::Str(v) => v.clear(),
            Col::Dec(v) => v.clear(),
        }
    }
    fn len(&self) -> usize {
        match self {
            Col::I32(v) => v.len(),
            Col::I64(v) => v.len(),
            Col::Str(v) => v.len(),
            Col::Dec(v) => v.len(),
        }
    }
}

fn split<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let defs = v.iter().map(|x| i16::from(x.is_some())).collect();
    (v.iter().flatten().cloned().collect(), defs)
}

fn flush(w: &mut SerializedFileWriter<File>, cols: &mut [Col], optional: &[bool]) -> Result<()> {
    if cols.first().is_none_or(|c| c.len() == 0) {
        return Ok(());
    }
    let mut rg = w.next_row_group()?;
    for (c, opt) in cols.iter_mut().zip(optional) {
        let mut cw = rg.next_column()?.context("schema has fewer columns")?;
        match c {
            Col::I32(v) => {
                cw.typed::<Int32Type>().write_batch(v, None, None)?;
            }
            Col::I64(v) => {
                let (vals, defs) = split(v);
                cw.typed::<Int64Type>()
                    .write_batch(&vals, opt.then_some(&defs[..]), None)?;
            }
            Col::Str(v) => {
                let (vals, defs) = split(v);
                cw.typed::<ByteArrayType>()
                    .write_batch(&vals, opt.then_some(&defs[..]), None)?;
            }
            Col::Dec(v) => {
                cw.typed::<FixedLenByteArrayType>()
                    .write_batch(v, None, None)?;
            }
        }
        cw.close()?;
        c.clear();
    }
    rg.close()?;
    Ok(())
}

fn writer(path: &Path, schema: &str) -> Result<SerializedFileWriter<File>> {
    let schema = Arc::new(parse_message_type(schema)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(SerializedFileWriter::new(f, schema, props)?)
}

/// An exact decimal as DECIMAL(38, 10): 16 bytes, big-endian two's complement.
fn dec(s: &str) -> Result<FixedLenByteArray> {
    let d: Decimal = s.parse().with_context(|| format!("not a decimal: {s}"))?;
    let mut r = d;
    r.rescale(SCALE);
    if r != d {
        bail!("{s} has more than {SCALE} decimals");
    }
    Ok(FixedLenByteArray::from(r.mantissa().to_be_bytes().to_vec()))
}

fn text(s: &str) -> ByteArray {
    ByteArray::from(s.as_bytes().to_vec())
}

fn opt_text(s: &str) -> Option<ByteArray> {
    (!s.is_empty()).then(|| text(s))
}

fn millis(s: &str) -> Result<i64> {
    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
        .with_context(|| format!("not a timestamp: {s}"))?;
    Ok(t.and_utc().timestamp_millis())
}

/// Writes `timeseries.parquet` from `timeseries.csv` in `dir`.
pub fn write_timeseries(dir: &Path) -> Result<()> {
    let mut r = csv::Reader::from_path(dir.join("timeseries.csv"))?;
    let mut w = writer(&dir.join("timeseries.parquet"), TIMESERIES)?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch exists");
    let mut cols = vec![
        Col::I32(Vec::new()),
        Col::I32(Vec::new()),
        Col::I32(Vec::new()),
        Col::Str(Vec::new()),
        Col::Dec(Vec::new()),
    ];
    let optional = [false; 5];
    for rec in r.records() {
        let rec = rec?;
        let date = NaiveDate::parse_from_str(&rec[2], "%Y-%m-%d")?;
        let [
            Col::I32(rep),
            Col::I32(day),
            Col::I32(dt),
            Col::Str(m),
            Col::Dec(v),
        ] = &mut cols[..]
        else {
            unreachable!("the columns are declared above");
        };
        rep.push(rec[0].parse()?);
        day.push(rec[1].parse()?);
        dt.push(i32::try_from((date - epoch).num_days())?);
        m.push(Some(text(&rec[3])));
        v.push(dec(&rec[4])?);
        if rep.len() >= GROUP {
            flush(&mut w, &mut cols, &optional)?;
        }
    }
    flush(&mut w, &mut cols, &optional)?;
    w.close()?;
    Ok(())
}

/// Writes `ledger.parquet` from `ledger.csv` in `dir`.
pub fn write_ledger(dir: &Path) -> Result<()> {
    let mut r = csv::Reader::from_path(dir.join("ledger.csv"))?;
    let mut w = writer(&dir.join("ledger.parquet"), LEDGER)?;
    let mut cols = vec![
        Col::I32(Vec::new()),
        Col::I64(Vec::new()),
        Col::I64(Vec::new()),
        Col::Str(Vec::new()),
        Col::Str(Vec::new()),
        Col::Str(Vec::new()),
        Col::Dec(Vec::new()),
        Col::Str(Vec::new()),
        Col::Str(Vec::new()),
        Col::Str(Vec::new()),
        Col::I64(Vec::new()),
        Col::Str(Vec::new()),
    ];
    let optional = [
        false, false, false, false, false, false, false, true, false, true, true, false,
    ];
    for rec in r.records() {
        let rec = rec?;
        let [
            Col::I32(rep),
            Col::I64(seq),
            Col::I64(time),
            Col::Str(kind),
            Col::Str(from),
            Col::Str(to),
            Col::Dec(amount),
            Col::Str(order),
            Col::Str(plan),
            Col::Str(rate),
            Col::I64(since),
            Col::Str(rules),
        ] = &mut cols[..]
        else {
            unreachable!("the columns are declared above");
        };
        rep.push(rec[0].parse()?);
        seq.push(Some(rec[1].parse()?));
        time.push(Some(millis(&rec[2])?));
        kind.push(Some(text(&rec[3])));
        from.push(Some(text(&rec[4])));
        to.push(Some(text(&rec[5])));
        amount.push(dec(&rec[6])?);
        order.push(opt_text(&rec[7]));
        plan.push(Some(text(&rec[8])));
        rate.push(opt_text(&rec[9]));
        since.push(if rec[10].is_empty() {
            None
        } else {
            Some(millis(&rec[10])?)
        });
        rules.push(Some(text(&rec[11])));
        if rep.len() >= GROUP {
            flush(&mut w, &mut cols, &optional)?;
        }
    }
    flush(&mut w, &mut cols, &optional)?;
    w.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    #[test]
    fn timeseries_and_ledger_read_back() {
        let dir = std::env::temp_dir().join(format!("affsim-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("timeseries.csv"),
            "replication,day,date,metric,value\n0,0,2025-10-01,gmv,12161093366.25\n0,1,2025-10-02,orders,7\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("ledger.csv"),
            "replication,seq,time,kind,from,to,amount,order,plan,rate,rate_since,rules\n\
             0,1,2025-10-03 14:05,commission,seller:glow,creator:ayu,17400,5,open,12%,2025-10-01 00:00,ATTR-1\n\
             1,2,2025-10-04 00:00,fee,seller:glow,platform,-0.5,,plus,,,PLUS-13\n",
        )
        .unwrap();
        write_timeseries(&dir).unwrap();
        write_ledger(&dir).unwrap();

        let r =
            SerializedFileReader::new(File::open(dir.join("timeseries.parquet")).unwrap()).unwrap();
        let rows: Vec<_> = r.get_row_iter(None).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        let s = rows[0].to_string();
        assert!(s.contains("metric: \"gmv\""), "{s}");
        assert!(s.contains("12161093366.2500000000"), "{s}");
        assert!(s.contains("2025-10-01"), "{s}");

        let r = SerializedFileReader::new(File::open(dir.join("ledger.parquet")).unwrap()).unwrap();
        let rows: Vec<_> = r.get_row_iter(None).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        let (a, b) = (rows[0].to_string(), rows[1].to_string());
        assert!(
            a.contains("17400.0000000000") && a.contains("rate: \"12%\""),
            "{a}"
        );
        assert!(a.contains("2025-10-03 14:05:00"), "{a}");
        assert!(
            b.contains("-0.5000000000") && b.contains("order: null"),
            "{b}"
        );
        assert!(b.contains("rate_since: null"), "{b}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn too_many_decimals_is_an_error() {
        assert!(dec("0.00000000001").is_err());
        assert!(dec("1.5").is_ok());
    }
}
