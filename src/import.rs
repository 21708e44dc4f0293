//! `nianbao import DIR --year Y`: last year's published reports into the store as history,
//! so that the cross-year rules (上年结转, 现行有效, copied text) work from nianbao's first
//! season. History is not a submission: no receipt, no archive entry, no mail; status,
//! export and digest do not see it; only [`Store::latest_report`] falls back to it.
//!
//! Each file is attributed to an agency by its folder (the first folder below DIR that is a
//! configured agency folder; without configured agencies, the first folder's name itself, as
//! the daemon does on zero-config) or else by the agency named in the report's title, matched
//! against the configured names. What cannot be attributed, read, or is of another year is
//! listed and skipped, never guessed.

use std::path::{Component, Path};

use serde::Serialize;

use crate::check::check_bytes_with;
use crate::config::Config;
use crate::store::{NewHistory, Store};
use crate::validate::Context;

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Stored as `agency_folder`'s report of the year.
    Imported {
        agency_folder: String,
        by: Attribution,
    },
    /// The same bytes were imported before for this agency and year.
    AlreadyThere { agency_folder: String },
    /// No configured agency could be told from its folder or its title.
    Unmatched {
        /// The agency as the title names it, if it does.
        agency: Option<String>,
        /// Configured agencies the name fits equally well (ambiguous), if any.
        candidates: Vec<String>,
    },
    /// Not a report that can be read (format, damage, scan, not an annual report).
    Unreadable { reason: String },
    /// A report of another year (or of none that could be read).
    WrongYear { year: Option<i32> },
}

/// How the agency of a file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// Its folder is a configured agency's folder.
    Folder,
    /// No agencies configured: the folder name is the agency, as in the daemon.
    FolderName,
    /// The agency named in the title is a configured agency's name.
    Name,
}

/// One file and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    /// The path below DIR.
    pub file: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The result of one import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub year: i32,
    pub files: Vec<FileOutcome>,
}

/// Counts per outcome: imported, already there, unmatched, unreadable, wrong year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub imported: usize,
    pub already_there: usize,
    pub unmatched: usize,
    pub unreadable: usize,
    pub wrong_year: usize,
}

impl Summary {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.files {
            match f.outcome {
                Outcome::Imported { .. } => c.imported += 1,
                Outcome::AlreadyThere { .. } => c.already_there += 1,
                Outcome::Unmatched { .. } => c.unmatched += 1,
                Outcome::Unreadable { .. } => c.unreadable += 1,
                Outcome::WrongYear { .. } => c.wrong_year += 1,
            }
        }
        c
    }

    /// Whether every file is in the store now (imported or already there).
    pub fn complete(&self) -> bool {
        let c = self.counts();
        c.unmatched + c.unreadable + c.wrong_year == 0
    }
}

/// Every report file below `dir`, read, checked for the year and attributed, stored as
/// history of `year`. `progress(done, total)` is called before the first file and after
/// each. Errors are only those that stop the whole import (the folder or the database); a
/// bad file is an outcome.
pub fn import(
    store: &Store,
    config: &Config,
    dir: &Path,
    year: i32,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Summary> {
    if !std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
        anyhow::bail!(
            "{}: not a folder; give the folder holding last year's published reports",
            dir.display()
        );
    }
    let files = crate::files::report_files(&[dir.to_path_buf()]).map_err(anyhow::Error::msg)?;
    let mut summary = Summary {
        year,
        files: Vec::with_capacity(files.len()),
    };
    progress(0, files.len());
    for (done, path) in files.iter().enumerate() {
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let outcome = import_file(store, config, path, rel, year)?;
        summary.files.push(FileOutcome {
            file: rel.display().to_string(),
            outcome,
        });
        progress(done + 1, files.len());
    }
    Ok(summary)
}

fn import_file(
    store: &Store,
    config: &Config,
    path: &Path,
    rel: &Path,
    year: i32,
) -> anyhow::Result<Outcome> {
    // Over 80 lines on purpose: one published report: read, checked, and stored in order, each
    // refusal said in place for the summary.
    let unreadable = |reason: String| Ok(Outcome::Unreadable { reason });
    let limit = config.max_file_bytes();
    match std::fs::symlink_metadata(path) {
        Err(e) => return unreadable(format!("无法读取：{e}")),
        Ok(m) if m.len() > limit => {
            return unreadable(format!(
                "文件 {} MB，超过 max_file_mb = {} 的上限",
                m.len() / (1024 * 1024),
                config.max_file_mb
            ));
        }
        Ok(_) => {}
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return unreadable(format!("无法读取：{e}")),
    };
    let name = rel.display().to_string();
    let result = check_bytes_with(
        &bytes,
        &name,
        &Context {
            previous: None,
            // A report of year Y is filed in Y+1: no season finding for the right year.
            filing_year: year + 1,
            same_year: None,
        },
    );
    let Some(report) = result.readable_report() else {
        let reason = result
            .findings
            .iter()
            .find(|f| {
                f.rule.starts_with("file.") || f.rule == crate::report::structure::NOT_A_REPORT.id
            })
            .map_or("不是可读取的年度报告".to_string(), |f| {
                f.message.clone()
            });
        return unreadable(reason);
    };
    if report.year != Some(year) {
        return Ok(Outcome::WrongYear { year: report.year });
    }
    let (folder, name, by) = match attribute(config, rel, report.agency.as_deref()) {
        Ok(found) => found,
        Err(candidates) => {
            return Ok(Outcome::Unmatched {
                agency: report.agency.clone(),
                candidates,
            });
        }
    };
    let added = store.add_history(
        &NewHistory {
            agency_folder: &folder,
            agency_name: name.as_deref(),
            year,
            sha256: &result.sha256,
            original_name: &rel.display().to_string(),
            size: bytes.len() as u64,
            format: result.format.map(|f| f.as_str()),
            report,
        },
        &crate::time::now_utc(),
    )?;
    Ok(if added {
        Outcome::Imported {
            agency_folder: folder,
            by,
        }
    } else {
        Outcome::AlreadyThere {
            agency_folder: folder,
        }
    })
}

/// The agency of a file at `rel` (below DIR) whose title names `agency`: its folder and name.
/// `Err` holds the configured agencies the name fits equally well (empty: none fits).
fn attribute(
    config: &Config,
    rel: &Path,
    agency: Option<&str>,
) -> Result<(String, Option<String>, Attribution), Vec<String>> {
    let folders: Vec<String> = rel
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if config.agencies.is_empty() {
        // Zero-config: agencies are the inbox's folders, named by themselves.
        return folders
            .first()
            .map(|f| (f.clone(), agency.map(String::from), Attribution::FolderName))
            .ok_or_else(Vec::new);
    }
    if let Some(a) = folders.iter().find_map(|f| config.agency(f)) {
        return Ok((a.folder.clone(), Some(a.name.clone()), Attribution::Folder));
    }
    let agency = agency
        .map(squeeze)
        .filter(|a| !a.is_empty())
        .ok_or_else(Vec::new)?;
    if let Some(a) = config.agencies.iter().find(|a| squeeze(&a.name) == agency) {
        return Ok((a.folder.clone(), Some(a.name.clone()), Attribution::Name));
    }
    // A title that shortens the name (区政数局 for 西塞山区政数局), or lengthens it: only
    // when exactly one configured agency fits, and never on a name too short to tell.
    let fits: Vec<&crate::config::Agency> = config
        .agencies
        .iter()
        .filter(|a| {
            let name = squeeze(&a.name);
            let (short, long) = if name.chars().count() < agency.chars().count() {
                (&name, &agency)
            } else {
                (&agency, &name)
            };
            short.chars().count() >= 4 && long.contains(short.as_str())
        })
        .collect();
    match fits.as_slice() {
        [a] => Ok((a.folder.clone(), Some(a.name.clone()), Attribution::Name)),
        many => Err(many.iter().map(|a| a.name.clone()).collect()),
    }
}

/// A name without whitespace (titles are often spaced out: `淮安市 人民政府`).
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Agency;

    fn config(agencies: &[(&str, &str)]) -> Config {
        Config {
            agencies: agencies
                .iter()
                .map(|(folder, name)| Agency {
                    folder: folder.to_string(),
                    name: name.to_string(),
                    email: Vec::new(),
                    kind: None,
                    deadline: None,
                    region: None,
                })
                .collect(),
            ..Config::default()
        }
    }

    #[test]
    fn folder_first_then_name() {
        let c = config(&[("xss", "西塞山区政数局"), ("lc", "老城区人民政府办公室")]);
        // The first configured folder on the way down wins, whatever the title says.
        let got = attribute(
            &c,
            Path::new("2022/xss/a.pdf"),
            Some("老城区人民政府办公室"),
        );
        assert_eq!(
            got,
            Ok((
                "xss".into(),
                Some("西塞山区政数局".into()),
                Attribution::Folder
            ))
        );
        let got = attribute(&c, Path::new("a.pdf"), Some("老城区 人民政府办公室"));
        assert_eq!(
            got,
            Ok((
                "lc".into(),
                Some("老城区人民政府办公室".into()),
                Attribution::Name
            ))
        );
        // A shortened name that fits one agency only.
        let got = attribute(&c, Path::new("misc/a.pdf"), Some("区政数局"));
        assert_eq!(got.map(|g| g.0), Ok("xss".into()));
    }

    #[test]
    fn unknown_short_and_ambiguous_names_are_unmatched() {
        let c = config(&[("a", "鼓楼区人民政府办公室"), ("b", "江宁区人民政府办公室")]);
        assert_eq!(
            attribute(
                &c,
                Path::new("x/r.pdf"),
                Some("咸宁市政务服务和大数据管理局")
            ),
            Err(vec![])
        );
        assert_eq!(attribute(&c, Path::new("r.pdf"), None), Err(vec![]));
        // 办公室 is in both names but too short to tell anything.
        assert_eq!(
            attribute(&c, Path::new("r.pdf"), Some("办公室")),
            Err(vec![])
        );
        assert_eq!(
            attribute(&c, Path::new("r.pdf"), Some("区人民政府办公室")),
            Err(vec![
                "鼓楼区人民政府办公室".into(),
                "江宁区人民政府办公室".into()
            ])
        );
    }

    #[test]
    fn zero_config_takes_the_folder_name() {
        let c = config(&[]);
        assert_eq!(
            attribute(&c, Path::new("xss/sub/r.docx"), Some("区政数局")),
            Ok((
                "xss".into(),
                Some("区政数局".into()),
                Attribution::FolderName
            ))
        );
        assert_eq!(
            attribute(&c, Path::new("r.docx"), Some("区政数局")),
            Err(vec![])
        );
    }
}
