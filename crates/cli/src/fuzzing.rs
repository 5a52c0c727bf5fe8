//! Entry points for the fuzz targets in `fuzz/` (not part of the API): the machine readers on
//! bytes instead of files. They never panic; every failure is an error message.

use cohort_fleet::Format;

/// Reads `bytes` as a whole machines file in `format` (`json`, `ndjson`, `csv` or `yaml`), as
/// `cohort explain` does; returns how many machines it holds, or the error.
pub fn read_machines(bytes: &[u8], format: &str) -> Result<usize, String> {
    let format = match format {
        "json" => Format::Json,
        "ndjson" => Format::Ndjson,
        "csv" => Format::Csv,
        "yaml" => Format::Yaml,
        other => return Err(format!("unknown machines format `{other}`")),
    };
    cohort_fleet::records(bytes, format).map(|records| records.len())
}

/// Reads `bytes` as a JSON or NDJSON machines file the way `cohort eval` does, as a stream;
/// returns how many machines it handed over, or the error. It accepts exactly what
/// [`read_machines`] accepts as `json`, with the same count.
pub fn stream_machines(bytes: &[u8]) -> Result<usize, String> {
    let mut count = 0;
    let source = cohort_fleet::Source::Reader {
        name: "input".to_owned(),
        reader: Box::new(bytes),
    };
    cohort_fleet::for_each_record(source, Format::Json, &mut |_| count += 1)
        .map_err(|error| error.to_string())?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streaming_and_whole_file_readers_agree() {
        let inputs: [&[u8]; 12] = [
            b"",
            b" \n\t",
            b"\xEF\xBB\xBF",
            b"[]",
            b"[{}] {}",
            b"\xEF\xBB\xBF\n{\"machines\": [{}, {}]}\n{}",
            b"{\"machines\": 5}",
            b"{} [] {}",
            b"{\"a\": \"\xFF\"}",
            b"{}\xFF",
            b"\x0C[]",
            b"[{\"a\": 1}, 2]",
        ];
        for input in inputs {
            let whole = read_machines(input, "json");
            let streamed = stream_machines(input);
            assert_eq!(
                whole.is_ok(),
                streamed.is_ok(),
                "{input:?}: {whole:?} {streamed:?}"
            );
            assert_eq!(whole.ok(), streamed.ok(), "{input:?}");
        }
        assert_eq!(read_machines(b"[{}, {}]", "json"), Ok(2));
        assert!(read_machines(b"", "xml").is_err());
    }
}
