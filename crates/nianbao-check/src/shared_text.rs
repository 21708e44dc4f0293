//! Text shared between agencies of the same year (`history.text_shared`): an index of the
//! sentences of every stored report of a year, so that checking one report looks up its own
//! sentences instead of comparing it with every other report.
//!
//! A sentence is keyed by its normal form, the one of `overlap::sentence_overlap` (numbers
//! and years masked, white space and punctuation dropped, headings and the template's own
//! sentences left out), with the agency's own name masked too: a report copied from another
//! agency changes the name, the year and the figures, not the words. The key is a 64-bit
//! FNV-1a hash of that form.
//!
//! The index is an inverted list, sentence key -> reports holding it (a shingle index whose
//! shingles are whole sentences). A query costs one hash lookup per sentence of the report;
//! a sentence found in many agencies' reports ([`SameYear::common`]) is wording they all use
//! (a district's prescribed phrases) and is not evidence of copying. The validator stays pure:
//! the caller gives it the candidates ([`SameYear`]) through [`crate::validate::Context`].
//!
//! The daemon keeps one index per report year in memory, built from the store the first time
//! that year is checked and updated as each outcome is stored (no table of its own, no
//! migration): 3,000 reports take a few megabytes (`benches/shared_text.rs`).

use std::collections::{HashMap, HashSet};

use crate::report::Report;

/// Sentences found in at least this many other agencies' reports (or 2 % of the year's
/// reports, when more) are shared wording, not a copy.
const COMMON_MIN: usize = 8;
/// A report becomes a candidate from this many shared sentences on (the rule's own minimum).
pub const MIN_SHARED: usize = 3;
/// At most this many candidates are handed to the validator, the most similar first.
const MAX_CANDIDATES: usize = 3;

/// Another agency's report of the same year that shares sentences with the one checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Other {
    /// The agency's name as the office knows it (configured name, the title's, or folder).
    pub agency: String,
    /// The receipt number of its report.
    pub receipt: String,
    /// The keys of the checked report's sentences that it holds too (common ones left out).
    pub keys: HashSet<u64>,
}

/// What the index knows of a report's year: the candidates to compare it with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SameYear {
    pub others: Vec<Other>,
    /// Keys of the checked report's sentences found in many agencies' reports.
    pub common: HashSet<u64>,
}

/// FNV-1a, 64 bits: stable across runs and builds, unlike std's hasher.
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Place-name endings that cut an agency's name into parts (`黄石市` `西塞山区` `人民政府`).
const PLACE_ENDINGS: [&str; 8] = ["省", "市", "区", "县", "州", "镇", "乡", "街道"];

/// The normal forms of the agency's name and of its parts, longest first: what is masked in
/// its own text.
pub fn name_masks(agency: Option<&str>) -> Vec<String> {
    let Some(agency) = agency else {
        return Vec::new();
    };
    let name = crate::overlap::normalize(agency);
    let mut masks = vec![name.clone()];
    let mut rest = name.as_str();
    while let Some((end, ending)) = PLACE_ENDINGS
        .iter()
        .filter_map(|e| rest.find(e).map(|i| (i, *e)))
        .min_by_key(|(i, _)| *i)
    {
        let part = &rest[..end + ending.len()];
        if part.chars().count() >= 2 {
            masks.push(part.to_string());
        }
        rest = &rest[end + ending.len()..];
    }
    if rest.chars().count() >= 3 && rest != name {
        masks.push(rest.to_string());
    }
    masks.retain(|m| m.chars().count() >= 2);
    masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
    masks.dedup();
    masks
}

/// The comparable sentences of `text`: (as written, key), names in `masks` masked.
pub fn keyed_sentences<'a>(text: &'a str, masks: &[String]) -> Vec<(&'a str, u64)> {
    crate::overlap::sentences(text)
        .map(|(written, mut normal)| {
            for m in masks {
                if normal.contains(m.as_str()) {
                    normal = normal.replace(m.as_str(), "@");
                }
            }
            (written, fnv1a(&normal))
        })
        .collect()
}

/// Every sentence key of a report (all sections), sorted and without repeats.
pub fn report_keys(report: &Report) -> Vec<u64> {
    let masks = name_masks(report.agency.as_deref());
    let mut keys: Vec<u64> = report
        .sections
        .iter()
        .flat_map(|s| keyed_sentences(&s.text, &masks))
        .map(|(_, k)| k)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// One report in the index.
#[derive(Debug, Clone)]
struct Doc {
    agency: String,
    receipt: String,
    keys: Vec<u64>,
}

/// The sentence index of one report year: each agency's latest report.
#[derive(Debug, Default)]
pub struct TextIndex {
    docs: Vec<Doc>,
    /// Agency folder -> its slot in `docs`.
    slot_of: HashMap<String, u32>,
    /// Sentence key -> the slots holding it.
    postings: HashMap<u64, Vec<u32>>,
}

impl TextIndex {
    /// Puts in (or replaces) the report of the agency of `folder`.
    pub fn insert(&mut self, folder: &str, agency: &str, receipt: &str, report: &Report) {
        let keys = report_keys(report);
        let slot = match self.slot_of.get(folder) {
            Some(&slot) => {
                if let Some(old) = self.docs.get(slot as usize) {
                    for k in &old.keys {
                        if let Some(p) = self.postings.get_mut(k) {
                            p.retain(|s| *s != slot);
                            if p.is_empty() {
                                self.postings.remove(k);
                            }
                        }
                    }
                }
                slot
            }
            None => {
                let Ok(slot) = u32::try_from(self.docs.len()) else {
                    return;
                };
                self.slot_of.insert(folder.to_string(), slot);
                self.docs.push(Doc {
                    agency: String::new(),
                    receipt: String::new(),
                    keys: Vec::new(),
                });
                slot
            }
        };
        for k in &keys {
            self.postings.entry(*k).or_default().push(slot);
        }
        if let Some(doc) = self.docs.get_mut(slot as usize) {
            *doc = Doc {
                agency: agency.to_string(),
                receipt: receipt.to_string(),
                keys,
            };
        }
    }

    /// How many agencies' reports it holds.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The candidates for `report` of the agency of `folder` (its own report left out).
    pub fn same_year(&self, folder: &str, report: &Report) -> SameYear {
        let own = self.slot_of.get(folder).copied();
        let common_at = COMMON_MIN.max(self.docs.len() / 50);
        let keys = report_keys(report);
        let mut counts: HashMap<u32, usize> = HashMap::new();
        let mut common = HashSet::new();
        let mut rare = Vec::with_capacity(keys.len());
        for k in keys {
            let Some(slots) = self.postings.get(&k) else {
                continue;
            };
            let others = slots.iter().filter(|s| Some(**s) != own).count();
            if others >= common_at {
                common.insert(k);
                continue;
            }
            rare.push(k);
            for s in slots.iter().filter(|s| Some(**s) != own) {
                *counts.entry(*s).or_default() += 1;
            }
        }
        let mut best: Vec<(u32, usize)> = counts
            .into_iter()
            .filter(|(_, n)| *n >= MIN_SHARED)
            .collect();
        best.sort_by_key(|(slot, n)| (std::cmp::Reverse(*n), *slot));
        best.truncate(MAX_CANDIDATES);
        let others = best
            .into_iter()
            .filter_map(|(slot, _)| {
                let doc = self.docs.get(slot as usize)?;
                let keys = rare
                    .iter()
                    .copied()
                    .filter(|k| doc.keys.binary_search(k).is_ok())
                    .collect();
                Some(Other {
                    agency: doc.agency.clone(),
                    receipt: doc.receipt.clone(),
                    keys,
                })
            })
            .collect();
        SameYear { others, common }
    }

    /// The memory it holds on the heap, in bytes (capacities, not lengths; hash tables at
    /// their bucket count): what the bench reports.
    pub fn heap_bytes(&self) -> usize {
        let docs: usize = self
            .docs
            .iter()
            .map(|d| {
                std::mem::size_of::<Doc>()
                    + d.agency.capacity()
                    + d.receipt.capacity()
                    + d.keys.capacity() * 8
            })
            .sum::<usize>()
            + (self.docs.capacity() - self.docs.len()) * std::mem::size_of::<Doc>();
        let slots: usize = self.slot_of.keys().map(|k| k.capacity()).sum::<usize>()
            + self.slot_of.capacity() * (std::mem::size_of::<(String, u32)>() + 1);
        let postings: usize = self
            .postings
            .values()
            .map(|p| p.capacity() * 4)
            .sum::<usize>()
            + self.postings.capacity() * (std::mem::size_of::<(u64, Vec<u32>)>() + 1);
        docs + slots + postings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Section;

    fn report(agency: &str, text: &str) -> Report {
        Report {
            agency: Some(agency.to_string()),
            sections: vec![Section {
                number: 1,
                heading: "一、总体情况".into(),
                standard: true,
                text: text.to_string(),
            }],
            ..Report::default()
        }
    }

    #[test]
    fn names_are_cut_at_place_endings() {
        assert_eq!(
            name_masks(Some("黄石市西塞山区人民政府办公室")),
            [
                "黄石市西塞山区人民政府办公室",
                "人民政府办公室",
                "西塞山区",
                "黄石市"
            ]
        );
        assert!(name_masks(None).is_empty());
    }

    #[test]
    fn a_copy_with_another_name_and_year_is_found_and_own_reports_are_not() {
        let a = "2023年，西塞山区数据局认真落实政务公开工作要点。西塞山区数据局建立了信息发布协调机制，\
                 重要信息发布前与相关部门会商。全年组织业务培训三次，覆盖全体工作人员。";
        let b = a
            .replace("西塞山区数据局", "黄石港区数据局")
            .replace("2023", "2024");
        let mut index = TextIndex::default();
        index.insert(
            "xisaishan",
            "西塞山区数据局",
            "NB-2025-000001",
            &report("西塞山区数据局", a),
        );
        let same = index.same_year("huangshigang", &report("黄石港区数据局", &b));
        assert_eq!(same.others.len(), 1);
        assert_eq!(same.others[0].receipt, "NB-2025-000001");
        assert_eq!(same.others[0].keys.len(), 3);
        // Its own earlier version is not another agency.
        let own = index.same_year("xisaishan", &report("西塞山区数据局", a));
        assert!(own.others.is_empty());
        // Replaced by a new version with other words: no longer a candidate.
        index.insert(
            "xisaishan",
            "西塞山区数据局",
            "NB-2025-000002",
            &report(
                "西塞山区数据局",
                "本局全年没有开展任何新的公开工作，各项制度保持不变。",
            ),
        );
        assert!(
            index
                .same_year("huangshigang", &report("黄石港区数据局", &b))
                .others
                .is_empty()
        );
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn wording_many_agencies_use_is_common() {
        let shared = "按照区政府统一部署，全面落实政务公开工作要点各项任务。";
        let mut index = TextIndex::default();
        for i in 0..COMMON_MIN {
            index.insert(
                &format!("a{i}"),
                &format!("单位{i}"),
                &format!("NB-2025-{i:06}"),
                &report(
                    "某局",
                    &format!("{shared}本单位第{i}项工作按期完成并通过验收。"),
                ),
            );
        }
        let same = index.same_year("new", &report("某局", shared));
        assert!(same.others.is_empty());
        assert_eq!(same.common.len(), 1);
    }
}
