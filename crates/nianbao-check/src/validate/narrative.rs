//! The narrative against the tables: figures stated in the text, an empty section 五, the
//! 信息处理费 in section 六.
//!
//! The text is matched one sentence at a time, so a phrase never reaches a number in a later
//! clause (the prior art's `.*?` did). Mismatches are warnings: a bureau that is also the
//! district's 公开工作机构 may rightly describe district-wide figures (corpus 000), which only a
//! person can judge.

use std::sync::LazyLock;

use regex::Regex;

use crate::finding::{Finding, Location, Rule, RuleId, Severity};
use crate::report::schema;
use crate::report::{ActiveDisclosure, AppColumn, AppRow, Report, Template};

use super::Validation;

pub static FIGURE: Rule = Rule {
    id: RuleId::NarrativeFigure,
    severity: Severity::Warning,
    what: "正文中的数字与表格不一致（如“共收到政府信息公开申请15件”与表二不符）",
    why: "正文和表格说的是同一组数据；不一致时至少有一处写错，公众会质疑报告的准确性。",
};
pub static PROBLEMS_EMPTY: Rule = Rule {
    id: RuleId::NarrativeProblemsEmpty,
    severity: Severity::Warning,
    what: "第五部分“存在的主要问题及改进情况”为空、只写“无”或过于简短",
    why: "国办公开办函〔2021〕30号要求报告内容“不能遗漏，也不宜泛化”；存在问题和改进措施是必报内容。",
};
pub static FEE_MENTION: Rule = Rule {
    id: RuleId::NarrativeFeeMention,
    severity: Severity::Warning,
    what: "第六部分没有说明信息处理费收取情况（2021 年及以后）",
    why: "按《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）和 30号模板，第六部分报告信息处理费的收取情况（未收取也应写明）。",
};

pub static CONTRADICTION: Rule = Rule {
    id: RuleId::NarrativeContradiction,
    severity: Severity::Warning,
    what: "正文的说法被表格否定（如写“申请均已办结”而表二有结转下年度的申请，写“未发生行政复议”而表三有复议案件）",
    why: "正文和表格说的是同一年的工作；说法与表格相反时至少有一处写错，公众会质疑报告的真实性。",
};

pub fn rules() -> Vec<&'static Rule> {
    vec![&FIGURE, &PROBLEMS_EMPTY, &FEE_MENTION, &CONTRADICTION]
}

/// A phrase that states a table figure, the figure, and its place in the tables.
struct Phrase {
    pattern: &'static str,
    /// What the phrase states, for messages.
    what: &'static str,
    /// Where the table holds it, for messages.
    table_place: fn() -> String,
    value: fn(&Report, &str) -> Option<i64>,
    location: fn() -> Location,
}

fn app_total(report: &Report, row: AppRow) -> Option<i64> {
    report
        .applications
        .as_ref()
        .and_then(|a| a.get(row))
        .and_then(|v| v[AppColumn::Total.index()])
}

/// The 总计 of table 3's groups `ids`, as messages name them: `表三“行政复议—总计”`; a group
/// of 行政诉讼 by its own part (`“复议后起诉—总计”`), the groups joined by 与.
fn t3_totals_named(ids: &[&str]) -> String {
    let total = schema::t3_column_printed("total").unwrap_or_default();
    let named: Vec<String> = ids
        .iter()
        .map(|id| {
            let printed = schema::t3_group_printed(id).unwrap_or(id);
            let group = printed.split_once('·').map_or(printed, |(_, part)| part);
            format!("“{group}—{total}”")
        })
        .collect();
    format!("{}{}", schema::table_name(3), named.join("与"))
}

/// The 本年制发件数 of a table 1 row of the 2021 template, as messages name it:
/// `表一“规章”的本年制发件数`.
fn t1_issued_named(row: &str) -> String {
    format!(
        "{}“{}”的{}",
        schema::table_name(1),
        schema::t1_row_printed(Template::V2021, row),
        schema::t1_column_printed(Template::V2021, row, "issued")
    )
}

/// A phrase stating the 总计 of table 2's row `$row`, found there and named by the schema.
macro_rules! app_total_phrase {
    ($pattern:expr, $what:expr, $row:expr) => {
        Phrase {
            pattern: $pattern,
            what: $what,
            table_place: || schema::app_total_named($row),
            value: |r, _| app_total(r, $row),
            location: || Location::table(2).row($row).column(AppColumn::Total),
        }
    };
}

static PHRASES: &[Phrase] = &[
    Phrase {
        pattern: r"(?:收到|受理|新收)(?:各类|群众|公民、法人或者其他组织|公民、法人和其他组织)?的?(?:政府信息公开|信息公开|依申请公开)申请(?:共计|共|合计)?(\d+)(?:件|个|条)",
        what: "收到政府信息公开申请",
        table_place: || schema::app_total_named(AppRow::NewReceived),
        value: |r, sentence| {
            let new = app_total(r, AppRow::NewReceived)?;
            if sentence.contains("含上年") || sentence.contains("包括上年") {
                Some(new + app_total(r, AppRow::CarriedOver)?)
            } else {
                Some(new)
            }
        },
        location: || {
            Location::table(2)
                .row(AppRow::NewReceived)
                .column(AppColumn::Total)
        },
    },
    app_total_phrase!(
        r"上年度?结转(?:的)?(?:政府信息公开)?(?:申请)?(\d+)件",
        "上年结转申请",
        AppRow::CarriedOver
    ),
    app_total_phrase!(
        r"(\d+)件(?:申请)?(?:结转|顺延)(?:到|至)?下一?年度",
        "结转下年度的申请",
        AppRow::CarriedForward
    ),
    app_total_phrase!(
        r"(?:结转下年度|顺延(?:到|至)下一?年度)(?:继续办理|办理|答复)?(?:的)?(?:申请)?(\d+)件",
        "结转下年度的申请",
        AppRow::CarriedForward
    ),
    app_total_phrase!(
        r"(?:办结|答复|处理)(?:政府信息公开)?申请(?:数量)?(?:总计|共计|合计|共)?为?(\d+)件?",
        "办结（答复）的申请",
        AppRow::TotalHandled
    ),
    app_total_phrase!(r"答复(\d+)件", "答复的申请", AppRow::TotalHandled),
    Phrase {
        pattern: r"行政复议(?:案件)?(?:共计|共)?(\d+)(?:件|起|条)",
        what: "行政复议",
        table_place: || t3_totals_named(&["review"]),
        value: |r, _| r.reviews_and_litigation.as_ref()?.review.total,
        location: || Location::table(3).row("review").column("total"),
    },
    Phrase {
        pattern: r"行政诉讼(?:案件)?(?:共计|共)?(\d+)(?:件|起|条)",
        what: "行政诉讼",
        table_place: || {
            format!(
                "{}之和",
                t3_totals_named(&["litigation_direct", "litigation_after_review"])
            )
        },
        value: |r, _| {
            let t3 = r.reviews_and_litigation.as_ref()?;
            Some(t3.litigation_direct.total? + t3.litigation_after_review.total?)
        },
        location: || Location::table(3).row("litigation_direct").column("total"),
    },
    Phrase {
        pattern: r"(?:制发|制定|印发|出台|新增(?:公开)?)(?:[^，。；、,;]{0,8})?规章(\d+)件",
        what: "制发规章",
        table_place: || t1_issued_named("regulations"),
        value: |r, _| match &r.active_disclosure {
            Some(ActiveDisclosure::V2021(t)) => t.regulations?.issued,
            _ => None,
        },
        location: || Location::table(1).row("regulations").column("issued"),
    },
    Phrase {
        pattern: r"(?:制发|制定|印发|出台)(?:并修改)?(?:[^，。；、,;]{0,8})?(?:行政)?规范性文件(\d+)(?:件|个|份)",
        what: "制发规范性文件",
        table_place: || t1_issued_named("normative_documents"),
        value: |r, _| match &r.active_disclosure {
            Some(ActiveDisclosure::V2021(t)) => t.normative_documents?.issued,
            _ => None,
        },
        location: || {
            Location::table(1)
                .row("normative_documents")
                .column("issued")
        },
    },
];

static COMPILED: LazyLock<Vec<Option<Regex>>> =
    LazyLock::new(|| PHRASES.iter().map(|p| Regex::new(p.pattern).ok()).collect());

pub fn check(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let report = v.report();
    figures(report, findings);
    contradictions(report, findings);
    let has_section = |n: u8| report.sections.iter().find(|s| s.number == n);
    if let Some(s5) = has_section(5) {
        let text: String = s5.text.chars().filter(|c| !c.is_whitespace()).collect();
        let bare = text.trim_matches(['。', '.']);
        if bare.chars().count() < 10 || bare == "无" {
            findings.push(
                Finding::new(
                    &PROBLEMS_EMPTY,
                    Location::section(5),
                    format!(
                        "第五部分“存在的主要问题及改进情况”只写了“{}”。请如实写明本年度工作中存在的主要问题和改进措施，不宜泛化。",
                        if bare.is_empty() { "（空）" } else { bare }
                    ),
                )
                .actual(bare),
            );
        }
    }
    if report.template == Some(Template::V2021)
        && let Some(s6) = has_section(6)
        && !["信息处理费", "处理费", "收取费用", "收费", "费用"]
            .iter()
            .any(|k| s6.text.contains(k))
    {
        findings.push(Finding::new(
            &FEE_MENTION,
            Location::section(6),
            "第六部分没有说明政府信息公开信息处理费的收取情况。请写明本年度是否收取信息处理费及金额（未收取的写“未收取”）。",
        ));
    }
}

/// Sentences of sections 一 to 四, white space removed, each with its section.
fn sentences(report: &Report) -> Vec<(u8, String)> {
    report
        .sections
        .iter()
        .filter(|s| s.number <= 4)
        .flat_map(|s| {
            let compact: String = s.text.chars().filter(|c| !c.is_whitespace()).collect();
            compact
                .split(['。', '；', ';', '！'])
                .filter(|x| !x.is_empty())
                .map(|x| (s.number, x.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `收取行政事业性收费96171.6万元`: the fee of table 1 (万元, a decimal). Never the 信息处理费,
/// which is another thing (domain notes §8).
static FEE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"行政事业性收费(?:金额)?(?:共计|合计|共)?为?(\d+(?:\.\d+)?)万元").ok()
});

/// Decimal strings compared as numbers (`1.50` = `1.5`, `0` = `0.0`).
fn same_amount(a: &str, b: &str) -> bool {
    fn canon(s: &str) -> String {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        format!("{}.{frac}", if int.is_empty() { "0" } else { int })
    }
    canon(a) == canon(b)
}

fn fee_figure(report: &Report, sentences: &[(u8, String)], findings: &mut Vec<Finding>) {
    let Some(regex) = FEE.as_ref() else {
        return;
    };
    let Some(ActiveDisclosure::V2021(t1)) = &report.active_disclosure else {
        return;
    };
    let Some(table) = &t1.administrative_fees else {
        return;
    };
    let hit = sentences.iter().find_map(|(section, s)| {
        let caps = regex.captures(s)?;
        Some((
            *section,
            caps.get(0)?.as_str().to_string(),
            caps.get(1)?.as_str().to_string(),
        ))
    });
    if let Some((section, matched, stated)) = hit
        && !same_amount(&stated, table)
    {
        let mut location = Location::table(1)
            .row("administrative_fees")
            .column("amount");
        location.section = Some(section);
        findings.push(
            Finding::new(
                &FIGURE,
                location,
                format!(
                    "正文写“{matched}”，但{}“{}”的本年收费金额为 {table} 万元。请核对收费金额，使正文与表格一致。",
                    schema::table_name(1),
                    schema::t1_row_printed(Template::V2021, "administrative_fees"),
                ),
            )
            .expected(table)
            .actual(stated),
        );
    }
}

fn figures(report: &Report, findings: &mut Vec<Finding>) {
    let sentences = sentences(report);
    fee_figure(report, &sentences, findings);
    for (phrase, regex) in PHRASES.iter().zip(COMPILED.iter()) {
        let Some(regex) = regex else { continue };
        // The first statement of each figure, as the clerk would read it.
        let hit = sentences.iter().find_map(|(section, sentence)| {
            let caps = regex.captures(sentence)?;
            let whole = caps.get(0)?;
            let stated: i64 = caps.get(1)?.as_str().parse().ok()?;
            // The clause the figure stands in: up to the next comma, so that a remark such as
            // `（含上年结转…）` is read where it applies.
            let rest = &sentence[whole.end()..];
            let clause_end = rest.find(['，', ',']).unwrap_or(rest.len());
            let clause = format!("{}{}", whole.as_str(), &rest[..clause_end]);
            Some((*section, clause, whole.as_str().to_string(), stated))
        });
        let Some((section, clause, matched, stated)) = hit else {
            continue;
        };
        let Some(table) = (phrase.value)(report, &clause) else {
            continue;
        };
        if stated != table {
            let mut location = (phrase.location)();
            location.section = Some(section);
            findings.push(
                Finding::new(
                    &FIGURE,
                    location,
                    format!(
                        "正文写“{matched}”，但{}为 {table}。请核对{}的数字，使正文与表格一致。",
                        (phrase.table_place)(),
                        phrase.what
                    ),
                )
                .expected(table)
                .actual(stated),
            );
        }
    }
}

/// The claims of [`schema::CLAIMS`], compiled once: per claim, its phrases.
static CLAIM_PHRASES: LazyLock<Vec<Vec<Regex>>> = LazyLock::new(|| {
    schema::CLAIMS
        .iter()
        .map(|c| {
            c.phrases
                .iter()
                .filter_map(|p| Regex::new(p).ok())
                .collect()
        })
        .collect()
});

/// A clause of the narrative and what its sentence says up to it.
struct Clause {
    section: u8,
    text: String,
    /// The sentence from its start up to and including this clause.
    context: String,
    review: bool,
    litigation: bool,
}

/// Sections as clauses (white space removed; ending at ，。；！ and their half-width forms),
/// each with its section and whether its sentence names 复议 / 诉讼 up to and including it
/// (the subject a clause such as `均已审结` speaks of).
fn clauses(report: &Report) -> Vec<Clause> {
    let mut out = Vec::new();
    for section in &report.sections {
        let compact: String = section
            .text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for sentence in compact.split(['。', '；', ';', '！', '!']) {
            let (mut review, mut litigation) = (false, false);
            let mut context = String::new();
            for clause in sentence.split(['，', ',']).filter(|c| !c.is_empty()) {
                let (r, l) = (clause.contains("复议"), clause.contains("诉讼"));
                if r || l {
                    (review, litigation) = (r, l);
                }
                context.push_str(clause);
                context.push('，');
                out.push(Clause {
                    section: section.number,
                    text: clause.to_string(),
                    context: context.clone(),
                    review,
                    litigation,
                });
            }
        }
    }
    out
}

/// The first figure above 0 that refutes `test`: where it is, how it is named, its value.
fn refuting(
    report: &Report,
    test: schema::ClaimTest,
    review: bool,
    litigation: bool,
) -> Option<(Location, String, String)> {
    match test {
        schema::ClaimTest::T2Total(row) => {
            let value = app_total(report, row).filter(|v| *v > 0)?;
            Some((
                Location::table(2).row(row).column(AppColumn::Total),
                schema::app_total_named(row),
                value.to_string(),
            ))
        }
        schema::ClaimTest::T1Fee => {
            let Some(ActiveDisclosure::V2021(t1)) = &report.active_disclosure else {
                return None;
            };
            let amount = t1.administrative_fees.as_ref()?;
            amount.parse::<f64>().ok().filter(|a| *a > 0.0)?;
            Some((
                Location::table(1)
                    .row("administrative_fees")
                    .column("amount"),
                format!(
                    "{}“{}”的本年收费金额",
                    schema::table_name(1),
                    schema::t1_row_printed(Template::V2021, "administrative_fees")
                ),
                amount.clone(),
            ))
        }
        schema::ClaimTest::T3(scope, columns) => {
            let t3 = report.reviews_and_litigation.as_ref()?;
            for group in scope.groups(review, litigation) {
                let Some((_, values)) = t3.groups().into_iter().find(|(id, _)| *id == group) else {
                    continue;
                };
                let group_printed =
                    schema::t3_group_named(schema::t3_group_printed(group).unwrap_or(group));
                for (column, (id, printed)) in values.values().into_iter().zip(schema::T3_COLUMNS) {
                    if !columns.contains(&id) {
                        continue;
                    }
                    if let Some(value) = column.filter(|v| *v > 0) {
                        return Some((
                            Location::table(3).row(group).column(id),
                            format!("{}“{group_printed}”的“{printed}”", schema::table_name(3)),
                            value.to_string(),
                        ));
                    }
                }
            }
            None
        }
    }
}

/// Statements of the narrative that the tables refute: one finding per claim, at its first
/// refuted clause.
fn contradictions(report: &Report, findings: &mut Vec<Finding>) {
    let clauses = clauses(report);
    for (claim, phrases) in schema::CLAIMS.iter().zip(CLAIM_PHRASES.iter()) {
        let hit = clauses.iter().find_map(|c| {
            if claim.unless.iter().any(|u| c.text.contains(u))
                || !phrases.iter().any(|p| p.is_match(&c.text))
                || !(claim.topic.is_empty() || claim.topic.iter().any(|t| c.context.contains(t)))
            {
                return None;
            }
            let (location, place, value) =
                refuting(report, claim.refuted_when, c.review, c.litigation)?;
            Some((c.section, &c.text, location, place, value))
        });
        let Some((section, clause, mut location, place, value)) = hit else {
            continue;
        };
        location.section = Some(section);
        let shown: String = clause.chars().take(60).collect();
        let unit = if claim.refuted_when == schema::ClaimTest::T1Fee {
            " 万元"
        } else {
            ""
        };
        findings.push(
            Finding::new(
                &CONTRADICTION,
                location,
                format!(
                    "第{}部分写“{shown}”（即“{}”），但{place}为 {value}{unit}，{}。\
                     请核对正文和表格，改正写错的一处，使说法与数字一致。",
                    CN_NUMBERS.get(usize::from(section)).unwrap_or(&""),
                    claim.says,
                    claim.table_shows
                ),
            )
            .expected(0)
            .actual(value),
        );
    }
}

const CN_NUMBERS: [&str; 7] = ["", "一", "二", "三", "四", "五", "六"];

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_compare_as_numbers() {
        assert!(super::same_amount("1.50", "1.5"));
        assert!(super::same_amount("0", "0.0"));
        assert!(super::same_amount("096171.6", "96171.6"));
        assert!(!super::same_amount("96171.6", "9617.16"));
    }
}
