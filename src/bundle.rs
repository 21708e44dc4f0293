//! Bundles between offices (issue 28): a district that runs its own nianbao hands its
//! season to the city's nianbao as one signed file, without a shared database.
//!
//! - `nianbao export --bundle --year Y -o FILE` writes every submission of report year Y
//!   (the reports read, the cells, the findings, the review decisions with who made them
//!   and when), and the office's agencies with their regions.
//! - `nianbao import --bundle FILE --region R` merges it into region R of this office:
//!   each agency is put in its own region when this office has one of that name under R,
//!   else in R. Submissions keep their office (`origin`) and receipt (`origin_receipt`):
//!   here their receipt reads `NB-2026-000123@<office>` and their folder `<folder>@<office>`,
//!   so they can never be mistaken for this office's own. Importing again changes nothing;
//!   a later bundle of the same office adds what is new (versions, review decisions) and
//!   updates verdicts that a review changed.
//! - Nothing imported is mailed from here: the agencies are the district's, and so is
//!   their mail. Review actions on an imported submission are refused with that reason.
//!
//! The file: a first line `NIANBAO-BUNDLE <version>`, a second `hmac-sha256 <hex>`, then
//! the JSON payload. The MAC (HMAC-SHA256 under the key both offices hold, `[bundle]
//! key_file`) covers the version line and the payload byte for byte: a bundle changed on
//! the way, or signed with another key, is refused before anything is read from it.

use std::path::Path;

use anyhow::Context as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use rusqlite::{OptionalExtension as _, params};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub use crate::config::BundleConfig;
use crate::config::Config;
use crate::config::bundle::good_office;
use crate::store::Store;

/// The bundle format written; a bundle of another version is refused, naming both.
pub const VERSION: u32 = 1;

const MAGIC: &str = "NIANBAO-BUNDLE";

/// Shortest key accepted (bytes).
const MIN_KEY: usize = 32;

/// The key in `path` (surrounding white space removed), refused when short.
pub fn read_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the bundle key {} (set [bundle] key_file, or pass --key-file)",
            path.display()
        )
    })?;
    let key = raw.trim_ascii().to_vec();
    if key.len() < MIN_KEY {
        anyhow::bail!(
            "the bundle key {} has {} bytes: use at least {MIN_KEY}, e.g. \
             `head -c 32 /dev/urandom | base64 > {}` (the same file at both offices)",
            path.display(),
            key.len(),
            path.display()
        );
    }
    Ok(key)
}

/// The key configured (`[bundle] key_file`) or given (`override_path`).
pub fn key(config: &Config, override_path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    let path = override_path
        .or(config.bundle.key_file.as_deref())
        .context(
            "no bundle key: set [bundle] key_file in the configuration, or pass --key-file FILE",
        )?;
    read_key(path)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Payload {
    pub format: String,
    pub version: u32,
    /// The office that wrote it.
    pub office: String,
    pub year: i32,
    pub created_at: String,
    pub agencies: Vec<BundleAgency>,
    pub submissions: Vec<BundleSubmission>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BundleAgency {
    pub folder: String,
    pub name: String,
    /// Its region at the office that wrote the bundle.
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BundleSubmission {
    /// The office that received it (the writer's, or the one it was imported from).
    pub origin: String,
    /// Its receipt there.
    pub origin_receipt: String,
    pub agency_folder: Option<String>,
    pub agency_name: Option<String>,
    pub original_name: String,
    pub size: i64,
    pub sha256: String,
    pub received_at: String,
    pub state: String,
    /// The origin receipt of the submission it duplicates.
    pub duplicate_of: Option<String>,
    pub format: Option<String>,
    pub encoding: Option<String>,
    pub template: Option<String>,
    pub year: Option<i64>,
    pub verdict: Option<String>,
    pub errors: Option<i64>,
    pub warnings: Option<i64>,
    /// The origin receipt of the version that replaced it.
    pub superseded_by: Option<String>,
    pub report_json: Option<String>,
    pub checked_at: Option<String>,
    pub failure: Option<String>,
    pub owner_uid: Option<i64>,
    pub owner_name: Option<String>,
    /// (table, cells as stored: JSON).
    pub cells: Vec<(i64, String)>,
    /// The findings as stored (JSON), if checked.
    pub findings: Option<String>,
    pub reviews: Vec<BundleReview>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BundleReview {
    pub action: String,
    pub verdict: Option<String>,
    pub finding_seq: Option<i64>,
    pub reason: String,
    /// Who decided, at the office that decided.
    pub reviewer: String,
    pub decided_at: String,
}

fn mac(key: &[u8], version_line: &str, payload: &[u8]) -> anyhow::Result<Hmac<Sha256>> {
    let mut mac =
        <Hmac<Sha256>>::new_from_slice(key).map_err(|e| anyhow::anyhow!("bundle key: {e}"))?;
    mac.update(version_line.as_bytes());
    mac.update(b"\n");
    mac.update(payload);
    Ok(mac)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// The signed file of `payload`.
pub fn seal(payload: &Payload, key: &[u8]) -> anyhow::Result<Vec<u8>> {
    let json = serde_json::to_vec(payload)?;
    let version_line = format!("{MAGIC} {VERSION}");
    let tag = mac(key, &version_line, &json)?.finalize().into_bytes();
    let mut out = format!("{version_line}\nhmac-sha256 {}\n", hex(&tag)).into_bytes();
    out.extend_from_slice(&json);
    Ok(out)
}

/// The payload of a signed file: refused (with what to do) when it is not a bundle, of
/// another version, or its signature does not match under `key`.
pub fn open(bytes: &[u8], key: &[u8]) -> anyhow::Result<Payload> {
    let mut parts = bytes.splitn(3, |b| *b == b'\n');
    let (Some(first), Some(second), Some(json)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!(
            "not a nianbao bundle (no {MAGIC} header): was it written by `nianbao export --bundle`?"
        );
    };
    let first = std::str::from_utf8(first).unwrap_or("");
    let Some(version) = first.strip_prefix(&format!("{MAGIC} ")) else {
        anyhow::bail!(
            "not a nianbao bundle (no {MAGIC} header): was it written by `nianbao export --bundle`?"
        );
    };
    if version.trim() != VERSION.to_string() {
        anyhow::bail!(
            "bundle version {version:?}: this nianbao reads version {VERSION}; \
             export it again with the same nianbao version at both offices"
        );
    }
    let tag = std::str::from_utf8(second)
        .ok()
        .and_then(|l| l.strip_prefix("hmac-sha256 "))
        .and_then(|h| unhex(h.trim()));
    let Some(tag) = tag else {
        anyhow::bail!("the bundle has no signature line: it was changed or cut; ask for it again");
    };
    if mac(key, first, json)?.verify_slice(&tag).is_err() {
        anyhow::bail!(
            "包签名不符，已拒绝导入 / the bundle's signature does not match: it was changed \
             after it was written, or it was signed with another key. Nothing was imported. \
             Ask the office that wrote it to export it again, and check that both use the \
             same [bundle] key_file."
        );
    }
    let payload: Payload =
        serde_json::from_slice(json).context("the bundle's content does not read")?;
    if payload.format != "nianbao-bundle" || payload.version != VERSION {
        anyhow::bail!("the bundle's content is not a version {VERSION} nianbao bundle");
    }
    if !good_office(&payload.office) {
        anyhow::bail!("the bundle names no usable office ({:?})", payload.office);
    }
    Ok(payload)
}

/// The bundle of report year `year` of this office (`[bundle] office`): every submission
/// of the year but those not checked yet (the receiving office could never check them:
/// the originals stay here).
pub fn export(store: &Store, config: &Config, year: i32) -> anyhow::Result<Payload> {
    // Over 80 lines on purpose: the payload is built field by field, in the format's own
    // order, from the year's submissions read once.
    let office = config
        .bundle
        .office
        .clone()
        .context("no [bundle] office: name this office in the configuration (e.g. office = \"西塞山区政务公开办\") before writing a bundle")?;
    let conn = store.connection();
    let mut stmt = conn.prepare(
        "SELECT id, receipt, agency_folder, agency_name, original_name, size, sha256,
                received_at, state,
                (SELECT coalesce(d.origin_receipt, d.receipt) FROM submissions d
                 WHERE d.id = s.duplicate_of),
                format, encoding, template, year, verdict, errors, warnings,
                (SELECT coalesce(n.origin_receipt, n.receipt) FROM submissions n
                 WHERE n.id = s.superseded_by),
                report_json, checked_at, failure, owner_uid, owner_name, origin, origin_receipt
         FROM submissions s WHERE year = ?1 AND state != 'archived' ORDER BY id",
    )?;
    let rows = stmt
        .query_map([year], |r| {
            let receipt: String = r.get(1)?;
            let origin: Option<String> = r.get(23)?;
            let origin_receipt: Option<String> = r.get(24)?;
            Ok((
                r.get::<_, i64>(0)?,
                BundleSubmission {
                    origin: origin.unwrap_or_else(|| office.clone()),
                    origin_receipt: origin_receipt.unwrap_or(receipt),
                    agency_folder: r.get(2)?,
                    agency_name: r.get(3)?,
                    original_name: r.get(4)?,
                    size: r.get(5)?,
                    sha256: r.get(6)?,
                    received_at: r.get(7)?,
                    state: r.get(8)?,
                    duplicate_of: r.get(9)?,
                    format: r.get(10)?,
                    encoding: r.get(11)?,
                    template: r.get(12)?,
                    year: r.get(13)?,
                    verdict: r.get(14)?,
                    errors: r.get(15)?,
                    warnings: r.get(16)?,
                    superseded_by: r.get(17)?,
                    report_json: r.get(18)?,
                    checked_at: r.get(19)?,
                    failure: r.get(20)?,
                    owner_uid: r.get(21)?,
                    owner_name: r.get(22)?,
                    cells: Vec::new(),
                    findings: None,
                    reviews: Vec::new(),
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut submissions = Vec::new();
    for (id, mut s) in rows {
        let mut cells = conn.prepare_cached(
            "SELECT tbl, cells FROM cell_tables WHERE submission_id = ?1 ORDER BY tbl",
        )?;
        s.cells = cells
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        s.findings = conn
            .query_row(
                "SELECT findings FROM finding_lists WHERE submission_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let mut reviews = conn.prepare_cached(
            "SELECT action, verdict, finding_seq, reason, reviewer, decided_at
             FROM reviews WHERE submission_id = ?1 ORDER BY id",
        )?;
        s.reviews = reviews
            .query_map([id], |r| {
                Ok(BundleReview {
                    action: r.get(0)?,
                    verdict: r.get(1)?,
                    finding_seq: r.get(2)?,
                    reason: r.get(3)?,
                    reviewer: r.get(4)?,
                    decided_at: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        submissions.push(s);
    }
    let tree = crate::region::Tree::load(config, conn)?;
    let mut agencies: Vec<BundleAgency> = config
        .agencies
        .iter()
        .map(|a| BundleAgency {
            folder: a.folder.clone(),
            name: a.name.clone(),
            region: a.region.clone(),
        })
        .collect();
    for s in &submissions {
        if let Some(f) = &s.agency_folder
            && !agencies.iter().any(|a| a.folder == *f)
        {
            agencies.push(BundleAgency {
                folder: f.clone(),
                name: s.agency_name.clone().unwrap_or_else(|| f.clone()),
                region: tree.region_of(f).map(str::to_string),
            });
        }
    }
    Ok(Payload {
        format: "nianbao-bundle".into(),
        version: VERSION,
        office,
        year,
        created_at: crate::time::now_utc(),
        agencies,
        submissions,
    })
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub office: String,
    pub year: i32,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub reviews_added: usize,
    pub agencies_placed: usize,
}

impl Imported {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.reviews_added + self.agencies_placed > 0
    }
}

/// An imported agency's folder here: `<folder>@<office>` (kept when it already is one).
pub fn folder_here(folder: &str, office: &str) -> String {
    if folder.contains('@') {
        folder.to_string()
    } else {
        format!("{folder}@{office}")
    }
}

/// Merges `payload` into region `region` of this office (see the module's notes), in one
/// transaction: all of it or nothing.
pub fn import(
    store: &Store,
    config: &Config,
    payload: &Payload,
    region: &str,
) -> anyhow::Result<Imported> {
    // Over 80 lines on purpose: one transaction from start to end (all of the bundle or nothing):
    // agencies, then submissions, then the links between them, on the same `tx` and id map; split,
    // each step would take the transaction and the maps as arguments and read out of order.
    let tree = crate::region::Tree::new(config);
    if !tree.contains(region) {
        anyhow::bail!(
            "--region {region:?} is not a [[region]] of this configuration: add \
             [[region]] name = {region:?} (with its parent) or name a configured one"
        );
    }
    if config.bundle.office.as_deref() == Some(payload.office.as_str()) {
        anyhow::bail!(
            "this bundle was written by this office ({}): import bundles of other offices only",
            payload.office
        );
    }
    let conn = store.connection();
    let tx = conn.unchecked_transaction()?;
    let mut done = Imported {
        office: payload.office.clone(),
        year: payload.year,
        ..Imported::default()
    };
    // Agencies: in their own region when this office has it under `region`, else `region`.
    for a in &payload.agencies {
        let here = a
            .region
            .as_deref()
            .filter(|r| tree.within(r, region))
            .unwrap_or(region);
        let n = tx.execute(
            "INSERT INTO agency_regions (folder, region, origin) VALUES (?1, ?2, ?3)
             ON CONFLICT (folder) DO UPDATE SET region = excluded.region,
                 origin = excluded.origin
             WHERE region IS NOT excluded.region OR origin IS NOT excluded.origin",
            params![
                folder_here(&a.folder, &payload.office),
                here,
                payload.office
            ],
        )?;
        done.agencies_placed += n;
    }
    let id_of = |origin: &str, receipt: &str| -> rusqlite::Result<Option<i64>> {
        tx.query_row(
            "SELECT id FROM submissions WHERE origin = ?1 AND origin_receipt = ?2",
            [origin, receipt],
            |r| r.get(0),
        )
        .optional()
    };
    // Links set on submissions added now are part of adding them, not updates.
    let mut added = std::collections::HashSet::new();
    // First every submission (links between them are set once all are in).
    for s in &payload.submissions {
        if !good_office(&s.origin) {
            anyhow::bail!(
                "a submission of the bundle names no usable office ({:?})",
                s.origin
            );
        }
        let folder = s
            .agency_folder
            .as_deref()
            .map(|f| folder_here(f, &s.origin));
        let id = match id_of(&s.origin, &s.origin_receipt)? {
            Some(id) => {
                let n = tx.execute(
                    "UPDATE submissions SET state = ?2, verdict = ?3, errors = ?4,
                         warnings = ?5
                     WHERE id = ?1 AND (state IS NOT ?2 OR verdict IS NOT ?3
                         OR errors IS NOT ?4 OR warnings IS NOT ?5)",
                    params![id, s.state, s.verdict, s.errors, s.warnings],
                )?;
                if n > 0 {
                    done.updated += 1;
                } else {
                    done.unchanged += 1;
                }
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO submissions (receipt, agency_folder, agency_name,
                         original_name, size, sha256, received_at, state, format, encoding,
                         template, year, verdict, errors, warnings, report_json, checked_at,
                         failure, owner_uid, owner_name, origin, origin_receipt)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                         ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
                    params![
                        format!("{}@{}", s.origin_receipt, s.origin),
                        folder,
                        s.agency_name,
                        s.original_name,
                        s.size,
                        s.sha256,
                        s.received_at,
                        s.state,
                        s.format,
                        s.encoding,
                        s.template,
                        s.year,
                        s.verdict,
                        s.errors,
                        s.warnings,
                        s.report_json,
                        s.checked_at,
                        s.failure,
                        s.owner_uid,
                        s.owner_name,
                        s.origin,
                        s.origin_receipt,
                    ],
                )?;
                let id = tx.last_insert_rowid();
                for (tbl, cells) in &s.cells {
                    tx.execute(
                        "INSERT INTO cell_tables (submission_id, tbl, cells) VALUES (?1, ?2, ?3)",
                        params![id, tbl, cells],
                    )?;
                }
                if let Some(f) = &s.findings {
                    tx.execute(
                        "INSERT INTO finding_lists (submission_id, findings) VALUES (?1, ?2)",
                        params![id, f],
                    )?;
                }
                done.added += 1;
                added.insert(id);
                id
            }
        };
        for r in &s.reviews {
            let n = tx.execute(
                "INSERT INTO reviews (submission_id, action, verdict, finding_seq, reason,
                     reviewer, decided_at)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
                 WHERE NOT EXISTS (SELECT 1 FROM reviews WHERE submission_id = ?1
                     AND action = ?2 AND verdict IS ?3 AND finding_seq IS ?4 AND reason = ?5
                     AND reviewer = ?6 AND decided_at = ?7)",
                params![
                    id,
                    r.action,
                    r.verdict,
                    r.finding_seq,
                    r.reason,
                    r.reviewer,
                    r.decided_at
                ],
            )?;
            done.reviews_added += n;
        }
    }
    // The links: which version replaced which, which bytes another submission duplicates.
    for s in &payload.submissions {
        let Some(id) = id_of(&s.origin, &s.origin_receipt)? else {
            continue;
        };
        let link = |r: &Option<String>| -> rusqlite::Result<Option<i64>> {
            match r {
                Some(r) => id_of(&s.origin, r),
                None => Ok(None),
            }
        };
        let (superseded, duplicate) = (link(&s.superseded_by)?, link(&s.duplicate_of)?);
        let n = tx.execute(
            "UPDATE submissions SET superseded_by = ?2, duplicate_of = ?3
             WHERE id = ?1 AND (superseded_by IS NOT ?2 OR duplicate_of IS NOT ?3)",
            params![id, superseded, duplicate],
        )?;
        if n > 0 && !added.contains(&id) {
            done.updated += 1;
        }
    }
    tx.commit()?;
    Ok(done)
}

/// The office an imported submission came from (`None`: this office's own).
pub fn origin_of(conn: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<String>> {
    Ok(conn
        .query_row("SELECT origin FROM submissions WHERE id = ?1", [id], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> Payload {
        Payload {
            format: "nianbao-bundle".into(),
            version: VERSION,
            office: "西塞山区政务公开办".into(),
            year: 2025,
            created_at: "2026-02-01T00:00:00Z".into(),
            agencies: vec![],
            submissions: vec![],
        }
    }

    #[test]
    fn a_sealed_bundle_opens_and_a_changed_one_is_refused() {
        let key = [7u8; 32];
        let sealed = seal(&payload(), &key).expect("seal");
        assert_eq!(open(&sealed, &key).expect("open"), payload());
        let mut changed = sealed.clone();
        let last = changed.len() - 2;
        changed[last] ^= 1;
        let err = open(&changed, &key).expect_err("tampered").to_string();
        assert!(err.contains("签名不符"), "{err}");
        let err = open(&sealed, &[8u8; 32])
            .expect_err("other key")
            .to_string();
        assert!(err.contains("签名不符"), "{err}");
        let other = String::from_utf8_lossy(&sealed).replacen("BUNDLE 1", "BUNDLE 2", 1);
        let err = open(other.as_bytes(), &key)
            .expect_err("version")
            .to_string();
        assert!(err.contains("version"), "{err}");
        assert!(open(b"hello", &key).is_err());
    }

    #[test]
    fn short_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("k");
        std::fs::write(&p, "short\n").expect("write");
        assert!(
            read_key(&p)
                .expect_err("short")
                .to_string()
                .contains("at least 32")
        );
        std::fs::write(&p, format!("{}\n", "k".repeat(40))).expect("write");
        assert_eq!(read_key(&p).expect("key").len(), 40);
    }
}
