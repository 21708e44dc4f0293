//! Each rule against one hand-made valid report: silent on the report, and exactly the rule
//! at exactly its place once one defect is put in. (The generated-report mutation tests in
//! `tests/mutation.rs` do the same across layouts, through the reader.)

use super::*;
use crate::extract::{Block, Extracted, Format, SourceRef};
use crate::report::*;

/// A valid 2023 report of a 区 bureau, as text (one row per line), read by the real reader.
fn text(edit: impl Fn(&mut Vec<String>)) -> Vec<String> {
    let mut lines: Vec<String> = [
        "某某区数据局2023年政府信息公开工作年度报告",
        "一、总体情况",
        "本报告中所列数据的统计期限自2023年1月1日起至2023年12月31日止。",
        "本年度共收到政府信息公开申请12件，上年结转2件，结转下年度继续办理1件。",
        "二、主动公开政府信息情况",
        "第二十条第（一）项",
        "信息内容\t本年制发件数\t本年废止件数\t现行有效件数",
        "规章\t0\t0\t0",
        "行政规范性文件\t3\t1\t9",
        "第二十条第（五）项",
        "信息内容\t本年处理决定数量",
        "行政许可\t120",
        "第二十条第（六）项",
        "信息内容\t本年处理决定数量",
        "行政处罚\t5",
        "行政强制\t0",
        "第二十条第（八）项",
        "信息内容\t本年收费金额（单位：万元）",
        "行政事业性收费\t1.25",
        "三、收到和处理政府信息公开申请情况",
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\t申请人情况",
        "自然人\t法人或其他组织\t总计",
        "商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他",
        "一、本年新收政府信息公开申请数量\t10\t2\t0\t0\t0\t0\t12",
        "二、上年结转政府信息公开申请数量\t2\t0\t0\t0\t0\t0\t2",
        "三、本年度办理结果\t（一）予以公开\t6\t1\t0\t0\t0\t0\t7",
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）\t2\t0\t0\t0\t0\t0\t2",
        "（三）不予公开\t1.属于国家秘密\t0\t0\t0\t0\t0\t0\t0",
        "2.其他法律行政法规禁止公开\t0\t0\t0\t0\t0\t0\t0",
        "3.危及“三安全一稳定”\t0\t0\t0\t0\t0\t0\t0",
        "4.保护第三方合法权益\t0\t0\t0\t0\t0\t0\t0",
        "5.属于三类内部事务信息\t0\t0\t0\t0\t0\t0\t0",
        "6.属于四类过程性信息\t0\t0\t0\t0\t0\t0\t0",
        "7.属于行政执法案卷\t0\t0\t0\t0\t0\t0\t0",
        "8.属于行政查询事项\t0\t0\t0\t0\t0\t0\t0",
        "（四）无法提供\t1.本机关不掌握相关政府信息\t3\t1\t0\t0\t0\t0\t4",
        "2.没有现成信息需要另行制作\t0\t0\t0\t0\t0\t0\t0",
        "3.补正后申请内容仍不明确\t0\t0\t0\t0\t0\t0\t0",
        "（五）不予处理\t1.信访举报投诉类申请\t0\t0\t0\t0\t0\t0\t0",
        "2.重复申请\t0\t0\t0\t0\t0\t0\t0",
        "3.要求提供公开出版物\t0\t0\t0\t0\t0\t0\t0",
        "4.无正当理由大量反复申请\t0\t0\t0\t0\t0\t0\t0",
        "5.要求行政机关确认或重新出具已获取信息\t0\t0\t0\t0\t0\t0\t0",
        "（六）其他处理\t1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请\t0\t0\t0\t0\t0\t0\t0",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请\t0\t0\t0\t0\t0\t0\t0",
        "3.其他\t0\t0\t0\t0\t0\t0\t0",
        "（七）总计\t11\t2\t0\t0\t0\t0\t13",
        "四、结转下年度继续办理\t1\t0\t0\t0\t0\t0\t1",
        "四、政府信息公开行政复议、行政诉讼情况",
        "行政复议\t行政诉讼",
        "结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t未经复议直接起诉\t复议后起诉",
        "结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计",
        "1\t0\t0\t1\t2\t0\t0\t0\t0\t0\t0\t1\t0\t0\t1",
        "五、存在的主要问题及改进情况",
        "政策解读形式较为单一，个别栏目更新不够及时。下一步将丰富解读形式，落实栏目责任。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    edit(&mut lines);
    lines
}

fn parse_lines(lines: &[String]) -> Parsed {
    let blocks = lines
        .iter()
        .enumerate()
        .map(|(i, l)| Block::Text {
            text: l.clone(),
            at: SourceRef::Line(i as u32 + 1),
        })
        .collect();
    crate::report::parse(&Extracted {
        format: Format::Txt,
        encoding: Some("UTF-8"),
        blocks,
        ocr: None,
    })
}

fn findings(lines: &[String], previous: Option<&Report>) -> Vec<Finding> {
    let parsed = parse_lines(lines);
    let mut all = parsed.findings.clone();
    all.extend(validate(
        &parsed,
        &Context {
            previous,
            filing_year: 2024,
        },
    ));
    all
}

fn set(lines: &mut [String], prefix: &str, to: &str) {
    let line = lines
        .iter_mut()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix}"));
    *line = to.to_string();
}

/// (rule, row, column) of each finding.
fn ids(f: &[Finding]) -> Vec<(&str, Option<&str>, Option<&str>)> {
    f.iter()
        .map(|f| {
            (
                f.rule,
                f.location.row.as_deref(),
                f.location.column.as_deref(),
            )
        })
        .collect()
}

#[test]
fn valid_report_has_no_findings() {
    let f = findings(&text(|_| {}), None);
    assert!(f.is_empty(), "{:#?}", f);
}

#[test]
fn t2_row_total() {
    let f = findings(
        &text(|l| set(l, "2.重复申请", "2.重复申请\t0\t0\t0\t0\t0\t0\t1")),
        None,
    );
    // The row's total is off, and so are the column sums that include it.
    assert_eq!(
        ids(&f),
        [
            (
                "sum.t2_row_total",
                Some("not_processed_duplicate"),
                Some("total")
            ),
            ("sum.t2_outcomes", Some("total_handled"), Some("total")),
        ]
    );
    assert_eq!(
        (f[0].expected.as_deref(), f[0].actual.as_deref()),
        (Some("0"), Some("1"))
    );
    assert_eq!(f[0].location.line, Some(40));
}

#[test]
fn t2_balance() {
    let f = findings(
        &text(|l| {
            set(
                l,
                "四、结转下年度",
                "四、结转下年度继续办理\t3\t0\t0\t0\t0\t0\t3",
            )
        }),
        None,
    );
    assert_eq!(
        ids(&f),
        [
            (
                "sum.t2_balance",
                Some("carried_forward"),
                Some("natural_person")
            ),
            ("sum.t2_balance", Some("carried_forward"), Some("total")),
            ("narrative.figure", Some("carried_forward"), Some("total")),
        ]
    );
    assert_eq!(
        (f[0].expected.as_deref(), f[0].actual.as_deref()),
        (Some("12"), Some("14"))
    );
    assert!(
        f[0].message
            .contains("第一项加第二项之和（12）不等于第三项加第四项之和（14）")
    );
}

#[test]
fn t3_group_total() {
    let f = findings(
        &text(|l| {
            set(
                l,
                "1\t0\t0\t1\t2",
                "1\t0\t0\t1\t3\t0\t0\t0\t0\t0\t0\t1\t0\t0\t1",
            )
        }),
        None,
    );
    assert_eq!(
        ids(&f),
        [("sum.t3_group_total", Some("review"), Some("total"))]
    );
    assert_eq!(
        (f[0].expected.as_deref(), f[0].actual.as_deref()),
        (Some("2"), Some("3"))
    );
}

#[test]
fn t1_in_force_and_negative() {
    let f = findings(
        &text(|l| set(l, "行政规范性文件", "行政规范性文件\t5\t1\t3")),
        None,
    );
    assert_eq!(
        ids(&f),
        [(
            "sum.t1_in_force",
            Some("normative_documents"),
            Some("in_force")
        )]
    );
    let f = findings(&text(|l| set(l, "行政处罚", "行政处罚\t-5")), None);
    assert_eq!(
        ids(&f),
        [(
            "value.negative",
            Some("administrative_punishment"),
            Some("decisions")
        )]
    );
}

#[test]
fn fee_decimals_and_regulations_level() {
    let f = findings(
        &text(|l| set(l, "行政事业性收费", "行政事业性收费\t1.123456")),
        None,
    );
    assert_eq!(
        ids(&f),
        [(
            "value.fee_decimals",
            Some("administrative_fees"),
            Some("amount")
        )]
    );
    let f = findings(&text(|l| set(l, "规章", "规章\t1\t0\t1")), None);
    assert_eq!(
        ids(&f),
        [("value.regulations_level", Some("regulations"), None)]
    );
}

#[test]
fn structure_and_dates() {
    let f = findings(
        &text(|l| l.retain(|x| !x.starts_with("五、") && !x.starts_with("政策解读"))),
        None,
    );
    assert_eq!(ids(&f), [("structure.section_missing", None, None)]);
    assert_eq!(f[0].location.section, Some(5));
    let f = findings(
        &text(|l| {
            set(
                l,
                "本报告中所列",
                "本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止。",
            )
        }),
        None,
    );
    assert_eq!(ids(&f), [("period.year_mismatch", None, None)]);
    let f = findings(
        &text(|l| set(l, "某某区数据局", "某某区数据局政府信息公开工作年度报告")),
        None,
    );
    // No year in the title: an error; the year still comes from the period for the rest.
    assert_eq!(ids(&f), [("structure.title", None, None)]);
    let f = findings(
        &text(|l| {
            set(
                l,
                "某某区数据局",
                "某某区数据局2023年度政府信息公开工作年度报告",
            )
        }),
        None,
    );
    assert_eq!(ids(&f), [("structure.title_wording", None, None)]);
    let f = findings(
        &text(|l| set(l, "五、存在", "五、存在问题及改进措施")),
        None,
    );
    assert_eq!(ids(&f), [("structure.heading_wording", None, None)]);
}

#[test]
fn season() {
    let parsed = parse_lines(&text(|_| {}));
    let at = |filing_year| {
        let f = validate(
            &parsed,
            &Context {
                previous: None,
                filing_year,
            },
        );
        f.iter().map(|f| (f.rule, f.severity)).collect::<Vec<_>>()
    };
    assert_eq!(at(2024), []);
    assert_eq!(
        at(2026),
        [("season.year", crate::finding::Severity::Warning)]
    );
    assert_eq!(at(2023), [("season.year", crate::finding::Severity::Error)]);
}

#[test]
fn narrative_figures() {
    let f = findings(
        &text(|l| {
            set(
                l,
                "本年度共收到",
                "本年度共收到政府信息公开申请15件，上年结转2件，结转下年度继续办理1件。",
            )
        }),
        None,
    );
    assert_eq!(
        ids(&f),
        [("narrative.figure", Some("new_received"), Some("total"))]
    );
    assert_eq!(
        (f[0].expected.as_deref(), f[0].actual.as_deref()),
        (Some("12"), Some("15"))
    );
    let f = findings(
        &text(|l| {
            set(
                l,
                "本年度共收到",
                "本年度共收到政府信息公开申请12件，上年结转2件。全年行政事业性收费1.3万元。",
            )
        }),
        None,
    );
    assert_eq!(
        ids(&f),
        [(
            "narrative.figure",
            Some("administrative_fees"),
            Some("amount")
        )]
    );
    assert_eq!(
        (f[0].expected.as_deref(), f[0].actual.as_deref()),
        (Some("1.25"), Some("1.3"))
    );
    let f = findings(
        &text(|l| {
            set(
                l,
                "本年度共收到",
                "本年度共收到政府信息公开申请12件，上年结转2件。全年行政事业性收费1.2500万元。",
            )
        }),
        None,
    );
    assert!(f.is_empty(), "{f:?}");
    let f = findings(&text(|l| set(l, "政策解读形式", "无")), None);
    assert_eq!(ids(&f), [("narrative.problems_empty", None, None)]);
    let f = findings(&text(|l| set(l, "本年度未收取", "无")), None);
    assert_eq!(ids(&f), [("narrative.fee_mention", None, None)]);
}

#[test]
fn across_years() {
    let last_year = text(|l| {
        set(
            l,
            "某某区数据局",
            "某某区数据局2022年政府信息公开工作年度报告",
        );
        set(
            l,
            "本报告中所列",
            "本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止。",
        );
        set(l, "行政规范性文件", "行政规范性文件\t2\t0\t7");
        // Carried forward 2 (this year's 上年结转 is 2): shift one of them to a company.
        set(
            l,
            "四、结转下年度",
            "四、结转下年度继续办理\t1\t1\t0\t0\t0\t0\t2",
        );
        set(l, "（七）总计", "（七）总计\t11\t1\t0\t0\t0\t0\t12");
        set(l, "本年度共收到", "本年度收到的申请已全部办理。");
    });
    let previous = parse_lines(&last_year).report;
    assert_eq!(previous.year, Some(2022));
    let f = findings(&text(|_| {}), Some(&previous));
    assert_eq!(
        ids(&f),
        [
            (
                "history.carry_over",
                Some("carried_over"),
                Some("natural_person")
            ),
            (
                "history.carry_over",
                Some("carried_over"),
                Some("commercial_enterprise")
            ),
        ]
    );
    // 7 + 3 − 1 = 9: continuous. Break it:
    let f = findings(
        &text(|l| set(l, "行政规范性文件", "行政规范性文件\t3\t1\t10")),
        Some(&previous),
    );
    assert!(ids(&f).contains(&(
        "history.in_force",
        Some("normative_documents"),
        Some("in_force")
    )));
}

/// A scan's mutant: one cell changed (（七）总计·自然人 11 → 16), read by OCR. Read surely,
/// the broken sums are the agency's errors; read with low confidence, they are doubts about
/// the reading, and the cell is named with what the sums ask for ("可能为 11").
#[test]
fn a_changed_cell_of_a_scan_is_the_agencys_error_when_sure_and_a_doubt_when_not() {
    use crate::extract::{OcrCell, OcrReading};
    use crate::finding::About;
    let lines = text(|l| {
        let i = l
            .iter()
            .position(|s| s.starts_with("（七）总计"))
            .expect("row");
        l[i] = "（七）总计\t16\t2\t0\t0\t0\t0\t13".into();
    });
    let mut parsed = parse_lines(&lines);
    // A scan's cells each have a place of their own (a text line holds a whole row).
    for (i, src) in parsed.sources.values_mut().enumerate() {
        *src = SourceRef::PdfCell {
            page: 1,
            table: 1,
            row: i as u32 + 1,
            col: 1,
        };
    }
    let at = *parsed
        .sources
        .get(&(2, "total_handled", "natural_person"))
        .expect("source of the changed cell");
    for (confidence, doubtful) in [(96.0, false), (41.0, true)] {
        let mut reading = OcrReading {
            pages: 3,
            cells: Default::default(),
        };
        for src in parsed.sources.values() {
            reading.cells.insert(
                *src,
                OcrCell {
                    text: String::new(),
                    confidence: 95.0,
                    doubtful: false,
                    alternative: None,
                },
            );
        }
        reading.cells.insert(
            at,
            OcrCell {
                text: "16".into(),
                confidence,
                doubtful,
                alternative: None,
            },
        );
        let mut all = findings(&lines, None);
        let summary = crate::check::judge_reading(&parsed, &reading, &mut all);
        let sums: Vec<&Finding> = all.iter().filter(|f| f.rule.starts_with("sum.")).collect();
        assert!(
            all.iter()
                .any(|f| f.rule == "file.ocr" && f.about == About::Reading)
        );
        if doubtful {
            assert!(sums.is_empty(), "{sums:#?}");
            assert!(
                all.iter()
                    .all(|f| f.severity == crate::finding::Severity::Warning),
                "{all:#?}"
            );
            let doubt = all
                .iter()
                .find(|f| f.rule == "read.doubtful")
                .expect("read.doubtful");
            assert_eq!(doubt.about, About::Reading);
            assert!(
                doubt.message.contains("读取存疑")
                    && doubt.message.contains("识别为 16，可能为 11"),
                "{}",
                doubt.message
            );
            assert!(all.iter().any(|f| f.rule == "read.sum_doubtful"));
            assert_eq!(summary.doubtful.len(), 1);
        } else {
            assert!(!sums.is_empty(), "{all:#?}");
            assert!(
                sums.iter()
                    .all(|f| f.severity == crate::finding::Severity::Error
                        && f.about == About::Report)
            );
            assert!(all.iter().all(|f| f.rule != "read.doubtful"));
            assert!(summary.doubtful.is_empty());
        }
    }
}
