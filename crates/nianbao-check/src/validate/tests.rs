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

/// `lines` as text blocks, the first being line `first` (from 0) of the file.
fn line_blocks(lines: &[String], first: usize) -> Vec<Block> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| Block::Text {
            text: l.clone(),
            at: SourceRef::Line((first + i) as u32 + 1),
        })
        .collect()
}

fn parse_lines(lines: &[String]) -> Parsed {
    let blocks = line_blocks(lines, 0);
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
            same_year: None,
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
                same_year: None,
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

#[test]
fn split_digits_are_named_as_the_likely_cause() {
    // 行政诉讼（未经复议直接起诉）: 12 upheld, typed as 1 | 2 across 结果维持 and 结果纠正.
    let f = findings(
        &text(|l| {
            set(
                l,
                "1\t0\t0\t1\t2",
                "1\t0\t0\t1\t2\t1\t2\t0\t0\t12\t0\t1\t0\t0\t1",
            )
        }),
        None,
    );
    assert_eq!(
        ids(&f),
        [(
            "sum.t3_group_total",
            Some("litigation_direct"),
            Some("total")
        )]
    );
    assert!(
        f[0].message
            .contains("“结果维持”的 1 与“结果纠正”的 2 合起来是 12"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("拆格"), "{}", f[0].message);
    // A wrong total that no joined pair explains says nothing of 拆格.
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
    assert!(!f[0].message.contains("拆格"), "{}", f[0].message);
}

#[test]
fn split_digits_in_a_table_2_row_and_in_the_total() {
    // 2.重复申请 with 自然人 12 typed as 1 | 2: the row and the outcome sums fail; the row's
    // finding names the two cells.
    let f = findings(
        &text(|l| set(l, "2.重复申请", "2.重复申请\t1\t2\t0\t0\t0\t0\t12")),
        None,
    );
    let row = f
        .iter()
        .find(|f| f.rule == "sum.t2_row_total")
        .expect("row total");
    assert!(
        row.message
            .contains("“自然人”的 1 与“商业企业”的 2 合起来是 12"),
        "{}",
        row.message
    );
    // The total itself across 其他 and 总计: 0 0 0 0 0 1 | 2 for a row of 12 in 自然人 is not
    // that; but 12 0 0 0 0 1 | 2 is (the total 12 typed across the last two cells).
    let f = findings(
        &text(|l| set(l, "2.重复申请", "2.重复申请\t12\t0\t0\t0\t0\t1\t2")),
        None,
    );
    let row = f
        .iter()
        .find(|f| f.rule == "sum.t2_row_total")
        .expect("row total");
    assert!(
        row.message.contains("“总计”应为 12、“其他”为 0"),
        "{}",
        row.message
    );
}

/// The rules of `f` whose id is `rule`, with their locations.
fn only<'a>(f: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    f.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn contradictions_fire_on_claims_the_tables_refute() {
    // The fixture carries 1 application forward, collects 1.25 万元, has 2 reviews (1 pending)
    // and 1 lawsuit (复议后起诉, pending).
    for (claim, row, column) in [
        (
            "本年度收到的政府信息公开申请均已办结。",
            "carried_forward",
            "total",
        ),
        (
            "全年所有申请已全部办结，无结转下年度的申请。",
            "carried_forward",
            "total",
        ),
        (
            "本机关未收取行政事业性收费。",
            "administrative_fees",
            "amount",
        ),
        ("本年度未发生政府信息公开行政复议案件。", "review", "total"),
        (
            "本年度没有发生因政府信息公开引起的行政诉讼。",
            "litigation_after_review",
            "total",
        ),
        ("本年度发生行政复议2件，均已审结。", "review", "pending"),
        ("行政复议案件均获维持。", "review", "pending"),
        ("本年度未收到政府信息公开申请。", "new_received", "total"),
        // The lawsuit after review was corrected (table 3: 0 1 0 0 1).
        (
            "行政诉讼案件均未被纠正。",
            "litigation_after_review",
            "corrected",
        ),
    ] {
        let f = findings(
            &text(|l| {
                set(l, "政策解读形式", &format!("政策解读形式较为单一。{claim}"));
            }),
            None,
        );
        let c = only(&f, "narrative.contradiction");
        assert_eq!(c.len(), 1, "{claim}: {f:#?}");
        assert_eq!(
            (
                c[0].location.row.as_deref(),
                c[0].location.column.as_deref()
            ),
            (Some(row), Some(column)),
            "{claim}"
        );
        // Said in the section where the text stands, with the table's figure.
        assert_eq!(c[0].location.section, Some(5), "{claim}");
        assert!(c[0].message.starts_with("第五部分写“"), "{}", c[0].message);
        assert_eq!(c[0].expected.as_deref(), Some("0"));
    }
}

#[test]
fn contradictions_are_silent_where_the_tables_agree_or_the_clause_says_otherwise() {
    for claim in [
        // Complaints to the mailbox, not applications.
        "共收到区长信箱投诉件16个，已全部办结。",
        // Last year's carried-over applications, not this year's.
        "上年结转的2件申请均已办结。",
        // Answered on time is not all done.
        "所有申请均在法定期限内答复。",
        // The 信息处理费 is not the 行政事业性收费 of table 1.
        "本年度未收取信息处理费。",
        // Not about the number of reviews.
        "本机关作出的决定未被行政复议纠正。",
        "行政复议决定维持1件，尚未审结1件。",
        // A figure, not a claim (narrative.figure compares it).
        "本年度发生行政复议2件、行政诉讼1件。",
        // True here: table 2's （六）2 is 0, and no review was corrected.
        "本年度未发出收费通知。",
        "行政复议案件均未被纠正。",
    ] {
        let f = findings(
            &text(|l| {
                set(l, "政策解读形式", &format!("政策解读形式较为单一。{claim}"));
            }),
            None,
        );
        assert!(
            only(&f, "narrative.contradiction").is_empty(),
            "{claim}: {f:#?}"
        );
    }
    // The claims hold when the tables say so: nothing carried forward, no fee, no case.
    let f = findings(
        &text(|l| {
            set(
                l,
                "本年度共收到",
                "本年度共收到政府信息公开申请12件，上年结转2件。",
            );
            set(
                l,
                "政策解读形式",
                "政策解读形式较为单一。申请均已办结。未收取行政事业性收费。未发生行政复议和行政诉讼。",
            );
            set(l, "行政事业性收费", "行政事业性收费\t0");
            set(l, "（七）总计", "（七）总计\t12\t2\t0\t0\t0\t0\t14");
            set(
                l,
                "三、本年度办理结果",
                "三、本年度办理结果\t（一）予以公开\t7\t1\t0\t0\t0\t0\t8",
            );
            set(
                l,
                "四、结转下年度",
                "四、结转下年度继续办理\t0\t0\t0\t0\t0\t0\t0",
            );
            set(
                l,
                "1\t0\t0\t1\t2",
                "0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0",
            );
        }),
        None,
    );
    assert!(f.is_empty(), "{f:#?}");
}

/// (rule, line) of the numbering and wording findings.
fn wording_of(f: &[Finding]) -> Vec<(&str, Option<u32>)> {
    f.iter()
        .filter(|f| f.rule.starts_with("numbering.") || f.rule.starts_with("wording."))
        .map(|f| (f.rule, f.location.line))
        .collect()
}

/// The fixture with section 一's sub-items from line 5 on.
fn with_items(items: &[&str]) -> Vec<String> {
    text(|l| {
        let at = l
            .iter()
            .position(|x| x.starts_with("本年度共收到"))
            .expect("line");
        for (i, item) in items.iter().enumerate() {
            l.insert(at + 1 + i, item.to_string());
        }
    })
}

#[test]
fn part_numbering() {
    // 三 and 四 swapped: one finding, at the first of the two.
    let f = findings(
        &text(|l| {
            set(l, "三、收到和处理", "四、收到和处理政府信息公开申请情况");
            set(
                l,
                "四、政府信息公开行政复议",
                "三、政府信息公开行政复议、行政诉讼情况",
            );
        }),
        None,
    );
    assert_eq!(wording_of(&f), [("numbering.part", Some(20))], "{f:#?}");
    assert!(f[0].message.contains("顺序颠倒"), "{}", f[0].message);
    // 二 twice.
    let f = findings(
        &text(|l| set(l, "三、收到和处理", "二、收到和处理政府信息公开申请情况")),
        None,
    );
    assert_eq!(wording_of(&f), [("numbering.part", Some(20))], "{f:#?}");
    assert!(f[0].message.contains("重复"), "{}", f[0].message);
    assert_eq!(
        (f[0].expected.as_deref(), f[0].actual.as_deref()),
        (Some("三、"), Some("二、"))
    );
    // 三 skipped: 一 二 四 五 六 七 for six parts (七 is not read as a heading at all, so
    // part 六 is also missing).
    let f = findings(
        &text(|l| {
            set(l, "三、收到和处理", "四、收到和处理政府信息公开申请情况");
            set(
                l,
                "四、政府信息公开行政复议",
                "五、政府信息公开行政复议、行政诉讼情况",
            );
        }),
        None,
    );
    assert_eq!(wording_of(&f), [("numbering.part", Some(20))], "{f:#?}");
    assert!(f[0].message.contains("缺少“三、”"), "{}", f[0].message);
}

#[test]
fn item_numbering_and_items_numbered_as_parts() {
    let good = [
        "（一）主动公开。全年主动公开政府信息120条。",
        "（二）依申请公开。依法办理每一件申请。",
        "（三）政府信息管理。落实保密审查制度。",
    ];
    let f = findings(&with_items(&good), None);
    assert_eq!(wording_of(&f), [], "{f:#?}");
    let f = findings(&with_items(&[good[0], good[2], good[1]]), None);
    assert_eq!(wording_of(&f), [("numbering.item", Some(6))], "{f:#?}");
    assert!(f[0].message.contains("顺序颠倒"), "{}", f[0].message);
    let f = findings(&with_items(&[good[0], good[2]]), None);
    assert_eq!(wording_of(&f), [("numbering.item", Some(6))], "{f:#?}");
    assert!(f[0].message.contains("缺少“（二）”"), "{}", f[0].message);
    let f = findings(&with_items(&[good[0], good[0], good[1]]), None);
    assert_eq!(wording_of(&f), [("numbering.item", Some(6))], "{f:#?}");
    assert!(f[0].message.contains("重复"), "{}", f[0].message);
    // A sub-item numbered as a part; the sub-items after it count afresh.
    let f = findings(
        &with_items(&[
            "一、加强组织领导。成立工作专班，明确分工。",
            good[0],
            good[1],
        ]),
        None,
    );
    assert_eq!(
        wording_of(&f),
        [("numbering.item_as_part", Some(5))],
        "{f:#?}"
    );
    assert_eq!(f[0].expected.as_deref(), Some("（一）"));
}

#[test]
fn doubled_words_half_width_marks_and_cut_sentences() {
    let f = findings(
        &text(|l| {
            set(
                l,
                "政策解读形式",
                "政策解读形式较为单一，专项资金资金使用不够规范。下一步将丰富解读形式。",
            )
        }),
        None,
    );
    assert_eq!(wording_of(&f), [("wording.doubled", Some(55))], "{f:#?}");
    assert_eq!(f[0].actual.as_deref(), Some("资金资金"));
    // One half-width comma in an otherwise full-width text.
    let f = findings(
        &text(|l| {
            set(
                l,
                "政策解读形式",
                "政策解读形式较为单一,个别栏目更新不够及时。下一步将丰富解读形式，落实栏目责任。",
            )
        }),
        None,
    );
    assert_eq!(
        wording_of(&f),
        [("wording.ascii_punctuation", Some(55))],
        "{f:#?}"
    );
    assert!(f[0].message.contains("单一,个别"), "{}", f[0].message);
    // A paragraph that stops on 的 before the next part.
    let f = findings(
        &text(|l| {
            set(
                l,
                "政策解读形式",
                "政策解读形式较为单一，个别栏目更新不够及时。下一步将丰富解读形式，落实栏目的",
            )
        }),
        None,
    );
    assert_eq!(wording_of(&f), [("wording.cut_off", Some(55))], "{f:#?}");
    // The same words broken over two lines go on: no cut.
    let f = findings(
        &text(|l| {
            set(
                l,
                "政策解读形式",
                "政策解读形式较为单一，个别栏目更新不够及时。下一步将落实栏目的",
            );
            let at = l
                .iter()
                .position(|x| x.starts_with("政策解读形式"))
                .expect("line");
            l.insert(at + 1, "更新责任，丰富解读形式。".to_string());
        }),
        None,
    );
    assert_eq!(wording_of(&f), [], "{f:#?}");
    // A short numbered heading ending on 在 before the next sub-item is a heading.
    let f = findings(
        &with_items(&[
            "（一）主要问题及原因所在",
            "（二）改进措施。下一步将丰富解读形式。",
        ]),
        None,
    );
    assert_eq!(wording_of(&f), [], "{f:#?}");
    // A PDF line whose words stand apart holds a tab; it still goes on with the sentence.
    let f = findings(
        &text(|l| {
            set(
                l,
                "政策解读形式",
                "政策解读形式较为单一。下一步将丰富解读形式，压实栏目更新责任，",
            );
            let at = l
                .iter()
                .position(|x| x.starts_with("政策解读形式"))
                .expect("line");
            l.insert(at + 1, "提\t升公开质量。".to_string());
        }),
        None,
    );
    assert_eq!(wording_of(&f), [], "{f:#?}");
}

/// A scan's mutant (（七）总计·自然人 11 → 16), its cells each at a place of their own (a
/// text line holds a whole row), and where the changed cell is.
fn scan_mutant() -> (Vec<String>, Parsed, SourceRef) {
    let lines = text(|l| {
        let i = l
            .iter()
            .position(|s| s.starts_with("（七）总计"))
            .expect("row");
        l[i] = "（七）总计\t16\t2\t0\t0\t0\t0\t13".into();
    });
    let mut parsed = parse_lines(&lines);
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
    (lines, parsed, at)
}

/// The OCR reading of `parsed`'s cells: every one read surely (confidence 95), but the cell
/// at `at`, read as `cell`.
fn reading_of(
    parsed: &Parsed,
    at: SourceRef,
    cell: crate::extract::OcrCell,
) -> crate::extract::OcrReading {
    let mut reading = crate::extract::OcrReading {
        pages: 3,
        cells: Default::default(),
    };
    for src in parsed.sources.values() {
        reading.cells.insert(
            *src,
            crate::extract::OcrCell {
                text: String::new(),
                confidence: 95.0,
                doubtful: false,
                alternative: None,
            },
        );
    }
    reading.cells.insert(at, cell);
    reading
}

/// A scan's mutant: one cell changed (（七）总计·自然人 11 → 16), read by OCR. Read surely,
/// the broken sums are the agency's errors; read with low confidence, they are doubts about
/// the reading, and the cell is named with what the sums ask for ("可能为 11").
#[test]
fn a_changed_cell_of_a_scan_is_the_agencys_error_when_sure_and_a_doubt_when_not() {
    use crate::extract::OcrCell;
    use crate::finding::About;
    let (lines, parsed, at) = scan_mutant();
    for (confidence, doubtful) in [(96.0, false), (41.0, true)] {
        let reading = reading_of(
            &parsed,
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

/// The officer's correction of a scan's doubtful cell (issue 25): the same mutant as above,
/// read with low confidence, corrected to what the page shows (11) leaves no sum finding
/// and no doubt, keeps `file.ocr`; corrected to a wrong value (17), the broken sums are
/// the agency's errors again, as no doubtful cell is left in them.
#[test]
fn a_corrected_cell_of_a_scan_is_checked_again_from_the_stored_findings() {
    use crate::extract::OcrCell;
    use crate::finding::{About, Severity};
    let (lines, parsed, at) = scan_mutant();
    let reading = reading_of(
        &parsed,
        at,
        OcrCell {
            text: "16".into(),
            confidence: 41.0,
            doubtful: true,
            alternative: None,
        },
    );
    let mut stored = findings(&lines, None);
    crate::check::judge_reading(&parsed, &reading, &mut stored);
    assert!(stored.iter().any(|f| f.rule == "read.sum_doubtful"));
    let ctx = Context {
        previous: None,
        filing_year: 2024,
        same_year: None,
    };
    let cell = [(2, "total_handled".to_string(), "natural_person".to_string())];
    let mut report = parsed.report.clone();
    assert_eq!(
        report.set_cell(2, "total_handled", "natural_person", Some(11)),
        Ok(Some(16))
    );
    let right = crate::check::findings_after_correction(&report, stored.clone(), &cell, &ctx);
    assert!(
        right.iter().all(|f| !f.rule.starts_with("sum.")
            && f.rule != "read.sum_doubtful"
            && f.rule != "read.doubtful"),
        "{right:#?}"
    );
    assert!(
        right.iter().all(|f| f.severity == Severity::Warning),
        "{right:#?}"
    );
    assert!(right.iter().any(|f| f.rule == "file.ocr"));
    // Findings about the file, not its values, are kept as they were.
    let kept = |all: &[Finding]| {
        all.iter()
            .filter(|f| !f.rule.starts_with("sum.") && !f.rule.starts_with("read."))
            .count()
    };
    assert_eq!(kept(&right), kept(&stored), "{right:#?}");

    let mut wrong = parsed.report.clone();
    assert_eq!(
        wrong.set_cell(2, "total_handled", "natural_person", Some(17)),
        Ok(Some(16))
    );
    let wrong = crate::check::findings_after_correction(&wrong, stored, &cell, &ctx);
    let sums: Vec<&Finding> = wrong
        .iter()
        .filter(|f| f.rule.starts_with("sum."))
        .collect();
    assert!(!sums.is_empty(), "{wrong:#?}");
    assert!(
        sums.iter()
            .all(|f| f.severity == Severity::Error && f.about == About::Report)
    );
}

/// `Report::set_cell` on each table, and what it refuses.
#[test]
fn set_cell_sets_each_tables_integer_cells_and_refuses_amounts_and_unknown_cells() {
    use crate::report::schema::SetCellError;
    let mut report = parse_lines(&text(|_| {})).report;
    let before2 = report
        .applications
        .as_ref()
        .and_then(|a| a.get(crate::report::AppRow::CarriedOver))
        .and_then(|v| v[0]);
    assert_eq!(
        report.set_cell(2, "carried_over", "natural_person", Some(99)),
        Ok(before2)
    );
    assert_eq!(
        report
            .applications
            .as_ref()
            .and_then(|a| a.get(crate::report::AppRow::CarriedOver))
            .and_then(|v| v[0]),
        Some(99)
    );
    let t3 = report.reviews_and_litigation.map(|t| t.review.upheld);
    assert_eq!(
        report.set_cell(3, "review", "upheld", None),
        Ok(t3.flatten())
    );
    assert_eq!(
        report.reviews_and_litigation.map(|t| t.review.upheld),
        Some(None)
    );
    let cells = crate::report::cells::report_cells(&report);
    let int1 = cells
        .iter()
        .find(|c| c.table == 1 && c.amount.is_none())
        .expect("an integer cell of table 1");
    let (row, column) = (int1.row, int1.column);
    let old = int1.value;
    assert_eq!(report.set_cell(1, row, column, Some(4242)), Ok(old));
    let after = crate::report::cells::report_cells(&report);
    let set = after
        .iter()
        .find(|c| c.table == 1 && c.row == row && c.column == column)
        .expect("the cell");
    assert_eq!(set.value, Some(4242));
    // The other cells of table 1 are untouched.
    assert_eq!(
        after.iter().filter(|c| c.table == 1).count(),
        cells.iter().filter(|c| c.table == 1).count()
    );
    for (a, b) in after
        .iter()
        .zip(&cells)
        .filter(|(a, _)| a.table == 1 && !(a.row == row && a.column == column))
    {
        assert_eq!(a, b);
    }
    assert!(matches!(
        report.set_cell(2, "no_such_row", "natural_person", Some(1)),
        Err(SetCellError::NoCell { .. })
    ));
    assert!(matches!(
        report.set_cell(3, "review", "no_such_column", Some(1)),
        Err(SetCellError::NoCell { .. })
    ));
    // A fee (万元) is an amount: corrected in the original, not here.
    let template = report
        .active_disclosure
        .as_ref()
        .map(|t| t.template())
        .expect("table 1");
    let (fee_row, fee_column) = crate::report::schema::t1_rows(template)
        .iter()
        .find_map(|r| {
            r.columns
                .iter()
                .find(|c| c.want == crate::report::schema::Want::Amount)
                .map(|c| (r.label.id, c.id))
        })
        .expect("an amount column");
    assert!(matches!(
        report.set_cell(1, fee_row, fee_column, Some(1)),
        Err(SetCellError::Amount(_))
    ));
    report.applications = None;
    assert_eq!(
        report.set_cell(2, "carried_over", "natural_person", Some(1)),
        Err(SetCellError::NoTable(2))
    );
}

/// A doubtful cell makes a failed sum the reader's doubt only when it is one of the sum's
/// cells: with （七）总计·自然人 changed (11 → 16) and only 一、本年新收·自然人 doubtful, the
/// column's outcomes (（一）…（六） against （七）, not 本年新收) and the total row stay the
/// agency's errors; the column's balance (一 + 二 = 三 + 四, with 本年新收) is the reader's
/// doubt.
#[test]
fn a_doubt_blames_the_reading_only_for_the_relations_it_is_part_of() {
    use crate::extract::OcrCell;
    use crate::finding::{About, Severity};
    let (lines, parsed, _) = scan_mutant();
    let doubtful = *parsed
        .sources
        .get(&(2, "new_received", "natural_person"))
        .expect("source");
    let reading = reading_of(
        &parsed,
        doubtful,
        OcrCell {
            text: String::new(),
            confidence: 30.0,
            doubtful: true,
            alternative: None,
        },
    );
    let mut all = findings(&lines, None);
    crate::check::judge_reading(&parsed, &reading, &mut all);
    let agencys = |rule: &str| {
        all.iter()
            .any(|f| f.rule == rule && f.severity == Severity::Error && f.about == About::Report)
    };
    assert!(agencys("sum.t2_outcomes"), "{all:#?}");
    assert!(agencys("sum.t2_row_total"), "{all:#?}");
    assert!(
        all.iter()
            .any(|f| f.rule == "read.sum_doubtful" && f.message.contains("第一项加第二项之和")),
        "the balance through the doubtful cell is the reader's doubt: {all:#?}"
    );
    assert!(!all.iter().any(|f| f.rule == "sum.t2_balance"), "{all:#?}");
}

/// Table 2 as one drawn table of a scan, 1.属于国家秘密 misread as `1.属于公国家秘`, and
/// optionally a row of empty cells after it: what a row cut by a page break leaves on the
/// next page when the rest of its label is lost with the cut.
fn scanned_grid(cut_row: bool) -> Parsed {
    let lines = text(|l| {
        for line in l.iter_mut() {
            *line = line.replace("1.属于国家秘密", "1.属于公国家秘");
        }
    });
    let start = lines
        .iter()
        .position(|l| l.starts_with("三、收到和处理"))
        .expect("heading")
        + 1;
    let end = lines
        .iter()
        .position(|l| l.starts_with("四、政府信息公开行政复议"))
        .expect("heading");
    let mut blocks = line_blocks(&lines[..start], 0);
    let cell = |text: &str, row: usize, col: usize| crate::extract::Cell {
        text: text.to_string(),
        at: SourceRef::PdfCell {
            page: 1,
            table: 1,
            row: row as u32 + 1,
            col: col as u32 + 1,
        },
    };
    let mut rows: Vec<Vec<crate::extract::Cell>> = Vec::new();
    for line in &lines[start..end] {
        let r = rows.len();
        rows.push(
            line.split('\t')
                .enumerate()
                .map(|(c, t)| cell(t, r, c))
                .collect(),
        );
        if cut_row && line.contains("1.属于公国家秘") {
            let r = rows.len();
            rows.push((0..9).map(|c| cell("", r, c)).collect());
        }
    }
    blocks.push(Block::Table { rows });
    blocks.extend(line_blocks(&lines[end..], end));
    crate::report::parse(&Extracted {
        format: Format::Pdf,
        encoding: None,
        blocks,
        ocr: Some(crate::extract::OcrReading {
            pages: 1,
            cells: Default::default(),
        }),
    })
}

/// A row of empty cells without a label after a row of a drawn table is the rest of that
/// row cut by a page break, not more of its values: the misread row is still placed
/// between its neighbours (before, its seven values and seven blanks made fourteen, and the
/// row was not read).
#[test]
fn an_empty_unlabelled_row_after_a_row_is_not_more_of_its_values() {
    let whole = scanned_grid(false);
    let cut = scanned_grid(true);
    let secret = |p: &Parsed| {
        p.report
            .applications
            .as_ref()
            .and_then(|a| a.get(AppRow::WithheldStateSecret).map(|v| v.to_vec()))
    };
    assert!(secret(&whole).is_some(), "{:#?}", whole.findings);
    assert_eq!(secret(&cut), secret(&whole), "{:#?}", cut.findings);
}
