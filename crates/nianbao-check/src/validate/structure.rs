//! Structure and dates: title, the six sections, the statistics period, the template against
//! the year, and the year against the filing season.

use crate::finding::{Finding, Location, Rule, RuleId, Severity};
use crate::report::schema::{SECTIONS, T1_2019};
use crate::report::{AppRow, Template};

use super::Validation;

pub static TITLE_YEAR: Rule = Rule {
    id: RuleId::StructureTitle,
    severity: Severity::Error,
    what: "标题缺失，或标题中没有四位数的年度",
    why: "标题须为“<机关名称><年度>年政府信息公开工作年度报告”；没有年度就无法确定是哪一年的报告。",
};
pub static TITLE_WORDING: Rule = Rule {
    id: RuleId::StructureTitleWording,
    severity: Severity::Warning,
    what: "标题用语与模板不一致（如“年度”重复、“政务”代替“政府”、“工作报告”代替“工作年度报告”、缺少机关名称）",
    why: "模板规定标题为“<机关名称><年度>年政府信息公开工作年度报告”；早在 2010 年就有通知把“年度报告”写成“工作报告”列为错误。",
};
pub static SECTION_MISSING: Rule = Rule {
    id: RuleId::StructureSectionMissing,
    severity: Severity::Error,
    what: "缺少模板规定的六个部分之一",
    why: "国办公开办函〔2021〕30号：年度报告内容“不能遗漏”；六个部分按固定顺序排列。",
};
pub static HEADING_WORDING: Rule = Rule {
    id: RuleId::StructureHeadingWording,
    severity: Severity::Warning,
    what: "部分标题用语与模板不一致（仍可识别）",
    why: "统一的标题便于公众查找，也便于上级汇总。",
};
pub static PERIOD_MISSING: Rule = Rule {
    id: RuleId::PeriodMissing,
    severity: Severity::Warning,
    what: "第一部分没有写明数据统计期限",
    why: "模板在总体情况中写明“本报告中所列数据的统计期限自某年1月1日起至某年12月31日止”，读者据此理解数据口径。",
};
pub static PERIOD_MALFORMED: Rule = Rule {
    id: RuleId::PeriodMalformed,
    severity: Severity::Warning,
    what: "统计期限的日期写法有误（如“202512月31日”）",
    why: "日期写错的统计期限无法核对。",
};
pub static PERIOD_YEAR: Rule = Rule {
    id: RuleId::PeriodYearMismatch,
    severity: Severity::Error,
    what: "统计期限不是标题所写年度的 1月1日至12月31日",
    why: "年度报告统计的是标题年度的全年数据；期限与年度不符，说明套用了往年的报告或写错了年度。",
};
pub static PERIOD_PARTIAL: Rule = Rule {
    id: RuleId::PeriodPartialYear,
    severity: Severity::Warning,
    what: "统计期限在报告年度之内，但不是全年（如机关年中设立）",
    why: "年度报告统计全年数据；年中设立、撤并的机关可能只统计了部分月份，这本身不是错误，但须请报送单位确认并在报告中说明。",
};
pub static TEMPLATE_YEAR: Rule = Rule {
    id: RuleId::TemplateYear,
    severity: Severity::Error,
    what: "报告年度与模板版本不符（2021 年及以后的报告使用了 2019 年试行模板）",
    why: "2021 年度起须使用国办公开办函〔2021〕30号的模板；实践中仍有 2022、2023 年报告套用旧表。",
};
pub static SEASON_YEAR: Rule = Rule {
    id: RuleId::SeasonYear,
    severity: Severity::Error,
    what: "报告年度不是本次报送期应报的年度（未来年度为错误，往年报告为提示）",
    why: "每年报送上一年度的报告（部门 1月31日前、政府 3月31日前）；年度写错或误传往年报告最常见。",
};

pub fn check(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    if v.parsed.findings.iter().any(|f| {
        f.rule == crate::report::structure::NOT_A_REPORT.id
            || f.rule == crate::report::structure::PRE_2019.id
    }) {
        // Nothing below would help the clerk: the reading stage said what the file is.
        return;
    }
    title(v, findings);
    sections(v, findings);
    period(v, findings);
    template_and_season(v, findings);
}

fn title(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let Some(title) = &v.parsed.outline.title else {
        findings.push(Finding::new(
            &TITLE_YEAR,
            Location::default(),
            "没有找到报告标题。请在正文前写明“<机关名称><年度>年政府信息公开工作年度报告”。",
        ));
        return;
    };
    let loc = Location::default().at(Some(title.at));
    if title.year.is_none() {
        findings.push(
            Finding::new(
                &TITLE_YEAR,
                loc.clone(),
                format!(
                    "标题“{}”中没有年度。请改为“<机关名称><年度>年政府信息公开工作年度报告”，如“{}2025年政府信息公开工作年度报告”。",
                    title.text,
                    title.agency.as_deref().unwrap_or("某某局")
                ),
            )
            .actual(&title.text),
        );
    }
    let mut problems = Vec::new();
    if title.agency.is_none() {
        problems.push("缺少机关名称");
    }
    if title.text.contains("年度政府信息公开") {
        problems.push("“年度”重复（应为“××××年政府信息公开工作年度报告”）");
    }
    if title.text.contains("政务信息公开") {
        problems.push("“政务信息公开”应为“政府信息公开”");
    }
    if !title.text.contains("年度报告") {
        problems.push("“工作报告”应为“工作年度报告”");
    } else if !title.text.contains("政府信息公开工作年度报告") {
        problems.push("应为“政府信息公开工作年度报告”");
    }
    if !problems.is_empty() {
        findings.push(
            Finding::new(
                &TITLE_WORDING,
                loc,
                format!(
                    "标题“{}”与模板不一致：{}。",
                    title.text,
                    problems.join("；")
                ),
            )
            .actual(&title.text),
        );
    }
}

fn sections(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let outline = &v.parsed.outline;
    for s in &SECTIONS {
        match outline.headings.iter().find(|h| h.number == s.number) {
            None => findings.push(
                Finding::new(
                    &SECTION_MISSING,
                    Location::section(s.number),
                    format!(
                        "缺少第{}部分“{}、{}”。年度报告须包含模板的全部六个部分，按顺序排列；没有内容的写“无”。",
                        s.numeral, s.numeral, s.standard
                    ),
                )
                .expected(format!("{}、{}", s.numeral, s.standard)),
            ),
            Some(h) if !h.standard => findings.push(
                Finding::new(
                    &HEADING_WORDING,
                    Location::section(s.number).at(Some(h.at)),
                    format!(
                        "第{}部分标题“{}”与模板不一致，模板为“{}、{}”。",
                        s.numeral, h.text, s.numeral, s.standard
                    ),
                )
                .expected(format!("{}、{}", s.numeral, s.standard))
                .actual(&h.text),
            ),
            Some(_) => {}
        }
    }
}

fn period(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let report = v.report();
    let Some(period) = &report.period else {
        findings.push(Finding::new(
            &PERIOD_MISSING,
            Location::section(1),
            "第一部分“总体情况”没有写明数据统计期限。建议写明“本报告中所列数据的统计期限自××××年1月1日起至××××年12月31日止”。",
        ));
        return;
    };
    let (Some(start), Some(end)) = (&period.start, &period.end) else {
        findings.push(
            Finding::new(
                &PERIOD_MALFORMED,
                Location::section(1),
                format!(
                    "统计期限“{}”中的日期无法识别（应写成“××××年1月1日”“××××年12月31日”）。",
                    period.text
                ),
            )
            .actual(&period.text),
        );
        return;
    };
    // The title's year, or (a title without one) the year the period itself tells.
    let Some(year) = report.year else {
        return;
    };
    let expected = (format!("{year}-01-01"), format!("{year}-12-31"));
    if (start.clone(), end.clone()) == expected {
        return;
    }
    // Inside the report's year but not all of it (an office set up in September): the
    // year is right; the agency is asked to confirm, not refused.
    let prefix = format!("{year}-");
    if start.starts_with(&prefix) && end.starts_with(&prefix) && start <= end {
        findings.push(
            Finding::new(
                &PERIOD_PARTIAL,
                Location::section(1),
                format!(
                    "统计期限“{}”在 {year} 年之内，但不是全年（年度报告一般统计自{year}年1月1日起至{year}年12月31日止）。\
                     如本机关年中设立或职能调整，只统计了这一段时间，请在“总体情况”中说明原因；否则请核对统计期限。",
                    period.text
                ),
            )
            .expected(format!("{} ~ {}", expected.0, expected.1))
            .actual(format!("{start} ~ {end}")),
        );
        return;
    }
    findings.push(
        Finding::new(
            &PERIOD_YEAR,
            Location::section(1),
            format!(
                "统计期限“{}”与报告年度 {year} 年不符，应为自{year}年1月1日起至{year}年12月31日止。\
                 请核对是否套用了往年的报告。",
                period.text
            ),
        )
        .expected(format!("{} ~ {}", expected.0, expected.1))
        .actual(format!("{start} ~ {end}")),
    );
}

fn template_and_season(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let report = v.report();
    let Some(year) = report.year else { return };
    if report.template == Some(Template::V2019) && year >= 2021 {
        findings.push(
            Finding::new(
                &TEMPLATE_YEAR,
                Location::table(1),
                format!(
                    "这是 {year} 年度的报告，表格却是 2019 年试行模板（表一为“{}”等列，表二“{}”不分项）。\
                     2021 年度起须使用国办公开办函〔2021〕30号的模板，请按新模板重新填写表一和表二。",
                    T1_2019[0].columns[0].printed,
                    AppRow::OtherHandling.printed()
                ),
            )
            .expected("2021")
            .actual("2019"),
        );
    }
    let filing = v.ctx.filing_year;
    if year >= filing {
        findings.push(
            Finding::new(
                &SEASON_YEAR,
                Location::default(),
                format!(
                    "报告年度为 {year} 年，但 {year} 年尚未结束或还未到来，本次应报送的是 {} 年度的报告。请核对标题中的年度。",
                    filing - 1
                ),
            )
            .expected(filing - 1)
            .actual(year),
        );
    } else if year < filing - 1 {
        findings.push(
            Finding::new(
                &SEASON_YEAR,
                Location::default(),
                format!(
                    "这是 {year} 年度的报告，本次应报送的是 {} 年度的报告。如是误传往年报告，请改传 {} 年度的报告。",
                    filing - 1,
                    filing - 1
                ),
            )
            .severity(Severity::Warning)
            .expected(filing - 1)
            .actual(year),
        );
    }
}
