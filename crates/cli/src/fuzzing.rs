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

/// Reads `bytes` in `format` with the fast reader (`cohort eval`: only the tested fields, in
/// parallel chunks; on one thread and on three) and with the whole-record reader (`cohort
/// explain`), for a few groups; when both accept it, they must give the same machine ids and
/// the same members. Returns a description of any disagreement.
pub fn fast_and_whole_agree(bytes: &[u8], format: &str) -> Result<(), String> {
    let format = match format {
        "json" => Format::Json,
        "csv" => Format::Csv,
        other => return Err(format!("unknown machines format `{other}`")),
    };
    let groups = cohort::GroupSet::from_yaml_str(
        "groups:\n- {name: A, where: \"OS contains win or Tags is blank\"}\n- {name: B, where: \"id starts with m and not (a > 1)\"}\n",
    )
    .map_err(|error| error.to_string())?;
    let Ok(whole) = cohort_fleet::records(bytes, format) else {
        return Ok(());
    };
    let now = cohort::Timestamp::UNIX_EPOCH;
    let expected = groups.plan().columnar(&whole).evaluate(now);
    for threads in [1, 3] {
        let mut options = cohort_fleet::Options::new(format);
        options.threads = threads;
        let source = cohort_fleet::Source::Reader {
            name: "input".to_owned(),
            reader: Box::new(bytes),
        };
        let Ok(fast) = cohort_fleet::read(groups.plan(), source, &options) else {
            continue;
        };
        if fast.machine_count() != whole.len() {
            return Err(format!(
                "{} machines read fast, {} whole",
                fast.machine_count(),
                whole.len()
            ));
        }
        for (position, record) in whole.iter().enumerate() {
            let id = match record.get("id") {
                Some(serde_json::Value::String(text)) => text.clone(),
                None | Some(serde_json::Value::Null) => format!("#{}", position + 1),
                Some(other) => other.to_string(),
            };
            if fast.ids().get(position).as_deref() != Some(id.as_str()) {
                return Err(format!(
                    "machine {position}: id {:?} fast, {id:?} whole",
                    fast.ids().get(position)
                ));
            }
        }
        if fast.columns().evaluate(now) != expected {
            return Err(format!("the members differ ({threads} threads)"));
        }
    }
    Ok(())
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
        for input in inputs {
            assert_eq!(fast_and_whole_agree(input, "json"), Ok(()), "{input:?}");
        }
        for input in [
            &b"id,OS,Tags\nm1,Windows,\nm2,Linux,[\"x\"]\n"[..],
            b"id,OS\n\"m\n1\",win\n",
            b"\xEF\xBB\xBFid\nm1\r\nm2",
        ] {
            assert_eq!(fast_and_whole_agree(input, "csv"), Ok(()), "{input:?}");
        }
        assert!(read_machines(b"", "xml").is_err());
    }
}
