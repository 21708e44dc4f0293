//! `history.text_shared`: a part copied from another agency's report of the same year is
//! found through the daemon's sentence index, naming that agency and its receipt; agencies
//! writing their own text, and agencies sharing the template's and their district's required
//! wording, are not flagged (false alarms under 1 %, issue 28). The same measurement at
//! 3,000 reports, with time and memory, is `cargo bench -p nianbao-check --bench shared_text`.

mod support;

use support::shared::{Outcome, index, measure, season};

fn rate(o: &Outcome) -> f64 {
    o.false_alarms as f64 / o.independent.max(1) as f64
}

#[test]
fn independent_narratives_are_not_flagged() {
    // 600 agencies in 10 districts of 60, each district prescribing its own three sentences.
    let s = season(600, 60, 0, 28);
    let o = measure(&s, &index(&s));
    println!("independent, districts of 60: {o:?}");
    assert_eq!(o.independent, 600);
    assert!(rate(&o) < 0.01, "{o:?}");
}

#[test]
fn required_wording_shared_in_small_districts_is_not_flagged() {
    // Districts of 5: the prescribed sentences are in too few reports to count as common
    // wording; the template's own sentences are left out by the rule itself.
    let s = season(600, 5, 0, 2028);
    let o = measure(&s, &index(&s));
    println!("required wording, districts of 5: {o:?}");
    assert!(rate(&o) < 0.01, "{o:?}");
}

#[test]
fn copies_from_another_agency_are_found() {
    let s = season(600, 60, 20, 7);
    let o = measure(&s, &index(&s));
    println!("with copies: {o:?}");
    assert!(o.copies >= 15, "{o:?}");
    assert_eq!(o.copies_found, o.copies, "{o:?}");
    assert!(rate(&o) < 0.01, "{o:?}");
    // The finding names the agency copied from and its receipt, in the part copied.
    let copy = s.iter().find(|f| f.copied_from.is_some()).expect("a copy");
    let source = s
        .iter()
        .find(|f| Some(&f.folder) == copy.copied_from.as_ref())
        .expect("its source");
    let mut idx = nianbao::shared_text::TextIndex::default();
    let agency = source.report.agency.clone().unwrap_or_default();
    idx.insert(&source.folder, &agency, &source.receipt, &source.report);
    let same = idx.same_year(&copy.folder, &copy.report);
    let f = support::shared::text_shared(&support::shared::parsed(&copy.report), &same);
    assert!(!f.is_empty());
    assert_eq!(f[0].location.section, Some(1));
    assert!(f[0].message.contains(&agency), "{}", f[0].message);
    assert!(f[0].message.contains(&source.receipt), "{}", f[0].message);
    // Without the candidates (no index: `nianbao check`), nothing.
    let none = nianbao::shared_text::SameYear::default();
    assert!(support::shared::text_shared(&support::shared::parsed(&copy.report), &none).is_empty());
}

/// The daemon's own path: two agencies' files taken one after the other; the second copies
/// the first's section 一. The index is built from the store at the first check of 2024 and
/// takes in each stored outcome.
#[test]
fn the_daemon_names_the_agency_copied_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = nianbao::config::Config {
        inbox: dir.path().join("inbox"),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    let pipeline = nianbao::ingest::Pipeline::open(config).expect("open");
    let s = season(2, 2, 0, 5);
    let (first, second) = (&s[0], &s[1]);
    let mut copy = second.report.clone();
    support::narrative::copied_narrative(&first.report, &mut copy, 1);
    let drop = |folder: &str, report: &nianbao::report::Report| {
        let bytes = support::render(
            report,
            support::Layout::WordText,
            support::TextEncoding::Utf8,
            &support::Options {
                defects: vec![],
                seed: 1,
            },
        );
        let path = dir.path().join("inbox").join(folder).join("年报.txt");
        std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
        let meta = std::fs::metadata(&path).expect("meta");
        let ready = nianbao::watch::Ready {
            path,
            identity: nianbao::watch::FileIdentity::of(&meta),
        };
        assert_eq!(pipeline.ingest_batch(&[ready]).expect("ingest"), 1);
    };
    drop("diyi", &first.report);
    drop("dier", &copy);
    let store = pipeline.store.lock().expect("store");
    let subs = store.submissions(Some(2024)).expect("submissions");
    assert_eq!(subs.len(), 2, "{subs:?}");
    let findings = |i: usize| -> Vec<nianbao::store::StoredFinding> {
        nianbao::store::findings_of(store.connection(), subs[i].id)
            .expect("findings")
            .into_iter()
            .filter(|f| f.rule == "history.text_shared")
            .collect()
    };
    assert!(findings(0).is_empty(), "the first has nothing to copy from");
    // Sections 一, 五 and 六 were copied: one warning each.
    let shared = findings(1);
    let sections: Vec<Option<u8>> = shared.iter().map(|f| f.section).collect();
    assert_eq!(sections, [Some(1), Some(5), Some(6)], "{shared:?}");
    // An unconfigured folder is named by its folder; the receipt is the first's.
    assert!(
        shared[0].message.contains("与“diyi”同年度的报告"),
        "{}",
        shared[0].message
    );
    assert!(
        shared[0].message.contains(&subs[0].receipt),
        "{}",
        shared[0].message
    );
}
