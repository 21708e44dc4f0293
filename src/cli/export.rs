//! `nianbao summary`, `nianbao export` (tables or a signed bundle) and
//! `nianbao import --bundle`.

use std::io::Write;
use std::process::ExitCode;

use super::args::{ExportFormat, SummaryFormat};
use super::{load_config, open_store, read_store};

pub(super) fn summary(
    config: Option<&std::path::Path>,
    year: i32,
    format: SummaryFormat,
    output: Option<&std::path::Path>,
) -> ExitCode {
    let result = match read_store(config, |store, config| {
        nianbao::summary::summary(store, config, year)
    }) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = result.and_then(|s| match format {
        SummaryFormat::Html => Ok(nianbao::summary::page(&s).into_bytes()),
        SummaryFormat::Xlsx => nianbao::summary::to_xlsx(&s),
    });
    write_out(result, output, matches!(format, SummaryFormat::Xlsx))
}

/// Writes what a command made to `output` or standard output (a binary format only to a
/// file): exit 0, or 2 with why.
fn write_out(
    result: anyhow::Result<Vec<u8>>,
    output: Option<&std::path::Path>,
    binary: bool,
) -> ExitCode {
    let bytes = match result {
        Ok(b) => b,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    let written = match output {
        Some(path) => std::fs::write(path, &bytes),
        None if binary => {
            eprintln!("nianbao: xlsx 是二进制格式，请用 --output FILE 写入文件");
            return ExitCode::from(2);
        }
        None => std::io::stdout().lock().write_all(&bytes),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nianbao: 无法写入：{e}");
            ExitCode::from(2)
        }
    }
}

pub(super) fn export(
    config: Option<&std::path::Path>,
    year: i32,
    format: ExportFormat,
    output: Option<&std::path::Path>,
    region: Option<&str>,
) -> ExitCode {
    let result = match read_store(config, |store, config| {
        if let Some(r) = region
            && !nianbao::region::Tree::new(config).contains(r)
        {
            anyhow::bail!(
                "--region {r:?} is not a [[region]] of the configuration: name a configured \
                 region (see `nianbao config check`)"
            );
        }
        nianbao::export::export_in(store, config, year, region)
    }) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = result.and_then(|e| match format {
        ExportFormat::Csv => nianbao::export::to_csv(&e),
        ExportFormat::Xlsx => nianbao::export::to_xlsx(&e),
        ExportFormat::Json => nianbao::export::to_json(&e),
    });
    write_out(result, output, matches!(format, ExportFormat::Xlsx))
}

/// `nianbao export --bundle`: the year as a signed bundle (see `nianbao::bundle`).
pub(super) fn export_bundle(
    config: Option<&std::path::Path>,
    year: i32,
    key_file: Option<&std::path::Path>,
    output: Option<&std::path::Path>,
) -> ExitCode {
    let result = match read_store(config, |store, config| {
        let key = nianbao::bundle::key(config, key_file)?;
        let payload = nianbao::bundle::export(store, config, year)?;
        eprintln!(
            "nianbao: bundle of {} for report year {year}: {} submissions, {} agencies",
            payload.office,
            payload.submissions.len(),
            payload.agencies.len()
        );
        nianbao::bundle::seal(&payload, &key)
    }) {
        Ok(r) => r,
        Err(code) => return code,
    };
    write_out(result, output, false)
}

/// `nianbao import --bundle FILE --region R`: another office's bundle merged here. Exit 0
/// when it is in (or was already), 1 when refused (signature, version, region), 2 when it
/// could not run.
pub(super) fn import_bundle(
    file: &std::path::Path,
    region: &str,
    key_file: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
) -> ExitCode {
    let config = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("nianbao: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let payload = match nianbao::bundle::key(&config, key_file)
        .and_then(|key| nianbao::bundle::open(&bytes, &key))
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("nianbao: {}: {e:#}", file.display());
            return ExitCode::from(1);
        }
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match nianbao::bundle::import(&store, &config, &payload, region) {
        Ok(done) => {
            println!(
                "{} 的 {} 年度数据包已并入地区 {region}：新增 {} 份提交，更新 {} 份，未变 {} 份；\
                 新增复核记录 {} 条，单位归属变更 {} 个。{}",
                done.office,
                done.year,
                done.added,
                done.updated,
                done.unchanged,
                done.reviews_added,
                done.agencies_placed,
                if done.changed() {
                    ""
                } else {
                    "（此前已导入，没有变化。）"
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            ExitCode::from(1)
        }
    }
}
