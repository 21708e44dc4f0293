//! PDFs as LibreOffice makes them from an ordinary docx: A4 portrait and landscape, the usual
//! column widths and narrow first columns that wrap labels and sub-table headers, group
//! labels written vertically, each in WenQuanYi Zen Hei and in Noto Sans CJK (fonts break
//! lines in different places). Every one must be read exactly and accepted. `.ci/run`
//! installs LibreOffice, fonts-wqy-zenhei and fonts-noto-cjk.

mod support;

use nianbao::finding::Severity;
use nianbao::report::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{Options, Page, check_filed, random_report, render_docx_page, tables_of};

const FONTS: [&str; 2] = ["WenQuanYi Zen Hei", "Noto Sans CJK SC"];

/// Page set-ups: (landscape, first column width in twips, vertical group labels).
const PAGES: [(bool, Option<usize>, bool); 6] = [
    (false, None, false),
    (false, Some(1100), true),
    (false, Some(800), false),
    (true, None, true),
    (true, Some(1400), false),
    (true, Some(900), true),
];

#[test]
fn libreoffice_pdfs_in_every_page_setup_and_font_read_back_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base: u64 = std::env::var("NIANBAO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2024);
    let mut rng = StdRng::seed_from_u64(base);
    let mut cases = Vec::new();
    for (template, long_name) in [
        (Template::V2021, false),
        (Template::V2019, false),
        (Template::V2021, true),
    ] {
        let mut report = random_report(&mut rng, template);
        if long_name {
            // A title that wraps on an A4 line, after the agency or inside the words.
            let agency = "重庆市南岸区住房和城乡建设委员会（区人民防空办公室、区城市更新中心）";
            let year = report.year.unwrap_or(2024);
            report.agency = Some(agency.to_string());
            report.title = Some(format!("{agency}{year}年政府信息公开工作年度报告"));
        }
        let options = Options {
            defects: vec![],
            seed: rng.random(),
        };
        for font in FONTS {
            for (landscape, first_col, vertical_groups) in PAGES {
                let page = Page {
                    font: Some(font),
                    landscape,
                    first_col,
                    vertical_groups,
                    ..Page::default()
                };
                let name = format!("p{}", cases.len());
                let docx = render_docx_page(&report, &options, &page);
                std::fs::write(dir.path().join(format!("{name}.docx")), docx).expect("write");
                cases.push((name, report.clone(), page));
            }
        }
    }
    let out = dir.path().join("pdf");
    let inputs: Vec<_> = cases
        .iter()
        .map(|(name, _, _)| dir.path().join(format!("{name}.docx")))
        .collect();
    let status = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("profile").display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&out)
        .args(&inputs)
        .output()
        .expect("LibreOffice (soffice) must be installed: .ci/run installs it");
    assert!(status.status.success(), "{status:?}");
    let mut failures = Vec::new();
    for (name, report, page) in &cases {
        let path = out.join(format!("{name}.pdf"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let r = check_filed(&bytes, &format!("{name}.pdf"), report.year.unwrap_or(2023));
        let ctx = format!("seed {base} {name} {:?} {page:?}", report.template);
        let Some(read) = r.report.as_ref() else {
            failures.push(format!("{ctx}: not read: {:?}", r.findings));
            continue;
        };
        if tables_of(read) != tables_of(report) {
            failures.push(format!(
                "{ctx}: misread\n{:?}\n{:?}\n{:#?}",
                tables_of(read),
                tables_of(report),
                r.findings
            ));
            continue;
        }
        let errors: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.clone())
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{ctx}: {errors:#?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} PDFs:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
