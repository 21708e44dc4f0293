//! Single values: counts are non-negative, the fee is a decimal with at most four places, and
//! 规章 are only reported by bodies that may make them.

use crate::finding::{Finding, Location, Rule, RuleId, Severity};
use crate::report::schema::{T1Value, Want, app_row_described, t1_row_printed, table_name};
use crate::report::{ActiveDisclosure, AppColumn, Template};

use super::{Validation, where_};

pub static NEGATIVE: Rule = Rule {
    id: RuleId::ValueNegative,
    severity: Severity::Error,
    what: "件数、数量为负数",
    why: "件数和数量不可能小于 0（只有 2019 年模板的“本年增/减”可以为负）。",
};
pub static FEE_FORMAT: Rule = Rule {
    id: RuleId::ValueFeeDecimals,
    severity: Severity::Warning,
    what: "行政事业性收费金额超过 4 位小数",
    why: "金额单位为万元，精确到元只需 4 位小数；更多位数通常是把“元”当成了“万元”或复制了计算结果。",
};
pub static REGULATIONS_LEVEL: Rule = Rule {
    id: RuleId::ValueRegulationsLevel,
    severity: Severity::Warning,
    what: "县级及以下机关（区、县、乡镇、街道）报告了规章",
    why: "规章只能由国务院部门和省、自治区、直辖市、设区的市、自治州人民政府制定；基层报告的“规章”多半是内部规章制度。",
};

pub fn rules() -> Vec<&'static Rule> {
    vec![&NEGATIVE, &FEE_FORMAT, &REGULATIONS_LEVEL]
}

pub fn check(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let report = v.report();
    let mut fee_findings = Vec::new();
    // `what` is drawn only for a negative value: formatted for each of the ~200 cells, it
    // cost 2 % of the daemon's CPU in a burst.
    let mut negative =
        |table: u8, row: &str, column: &str, value: Option<i64>, what: &dyn Fn() -> String| {
            if let Some(n) = value
                && n < 0
            {
                let at = v.at(table, row, column);
                findings.push(
                    Finding::new(
                        &NEGATIVE,
                        Location::table(table).row(row).column(column).at(at),
                        format!("{}{}填的是 {n}，件数不能为负数。", what(), where_(at)),
                    )
                    .actual(n),
                );
            }
        };
    // Table 1: every count cell of the template, named as printed (2019's 本年增/减 may be
    // negative; amounts have their own rule).
    if let Some(t1) = &report.active_disclosure {
        let template = t1.template();
        for (row, column, value) in t1.cells() {
            // The 2019 template's 行政事业性收费 and 政府集中采购 rows have never been checked
            // here; kept so, as this module's output must not change with the schema lookup.
            let unchecked_2019 = template == Template::V2019
                && matches!(
                    row.label.id,
                    "administrative_fees" | "government_procurement"
                );
            if column.want != Want::Count || unchecked_2019 {
                continue;
            }
            negative(1, row.label.id, column.id, T1Value::int(&value), &|| {
                format!(
                    "{}“{}”的{}",
                    table_name(1),
                    row.label.printed,
                    column.printed
                )
            });
        }
        if let ActiveDisclosure::V2021(t1) = t1
            && let Some(fee) = &t1.administrative_fees
            && let Some(f) = fee_format(v, fee)
        {
            fee_findings.push(f);
        }
    }
    if let Some(apps) = &report.applications {
        for (&row, values) in &apps.rows {
            let Some(values) = values else { continue };
            for c in AppColumn::ALL {
                negative(2, row.id(), c.id(), values[c.index()], &|| {
                    format!("表二{}行“{}”列", app_row_described(row), c.label())
                });
            }
        }
    }
    if let Some(t3) = &report.reviews_and_litigation {
        for ((id, group), (_, printed)) in t3
            .groups()
            .into_iter()
            .zip(crate::report::schema::T3_GROUPS)
        {
            for ((column, label), value) in
                crate::report::schema::T3_COLUMNS.iter().zip(group.values())
            {
                negative(3, id, column, value, &|| format!("表三“{printed}—{label}”"));
            }
        }
    }
    findings.extend(fee_findings);
    regulations_level(v, findings);
}

fn fee_format(v: &Validation<'_>, fee: &str) -> Option<Finding> {
    let places = fee.split_once('.').map_or(0, |(_, f)| f.len());
    if places > 4 {
        let at = v.at(1, "administrative_fees", "amount");
        Some(
            Finding::new(
                &FEE_FORMAT,
                Location::table(1).row("administrative_fees").column("amount").at(at),
                format!(
                    "{}“{}”的本年收费金额“{fee}”{}有 {places} 位小数。金额单位是万元，最多保留 4 位小数；\
                     请确认没有把“元”当成“万元”。",
                    table_name(1),
                    t1_row_printed(Template::V2021, "administrative_fees"),
                    where_(at)
                ),
            )
            .expected("<= 4 位小数")
            .actual(fee),
        )
    } else {
        None
    }
}

/// Whether the agency is below the 设区的市 level, judged from its name: 区, 县, 乡, 镇,
/// 街道. Words that only contain those characters are taken out first: 自治区 is a province,
/// 城乡建设 a department's field, 社区 a neighbourhood, not the body's level.
fn below_city_level(agency: &str) -> bool {
    let mut name = agency.to_string();
    for word in ["自治区", "城乡", "乡村", "城镇", "社区", "地区"] {
        name = name.replace(word, "");
    }
    ["区", "县", "乡", "镇", "街道"]
        .iter()
        .any(|k| name.contains(k))
}

fn regulations_level(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let report = v.report();
    let Some(agency) = &report.agency else { return };
    if !below_city_level(agency) {
        return;
    }
    let Some(t1) = &report.active_disclosure else {
        return;
    };
    let name = t1_row_printed(t1.template(), "regulations");
    let counts = match &report.active_disclosure {
        Some(ActiveDisclosure::V2021(t1)) => {
            t1.regulations.map(|c| [c.issued, c.repealed, c.in_force])
        }
        Some(ActiveDisclosure::V2019(t1)) => t1
            .regulations
            .map(|c| [c.made, c.published, c.total_published]),
        None => None,
    };
    let Some(counts) = counts else { return };
    if counts.iter().flatten().any(|&n| n > 0) {
        let shown: Vec<String> = counts
            .iter()
            .map(|c| c.map_or("—".into(), |n| n.to_string()))
            .collect();
        findings.push(
            Finding::new(
                &REGULATIONS_LEVEL,
                Location::table(1)
                    .row("regulations")
                    .at(v.at(1, "regulations", "issued")),
                format!(
                    "{}“{name}”行填了 {}，但“{agency}”属于县级及以下机关，无权制定规章。\
                     内部的规章制度不属于“{name}”，请核对后改为 0。",
                    table_name(1),
                    shown.join(" / ")
                ),
            )
            .expected("0")
            .actual(shown.join("/")),
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn agency_levels() {
        for (name, below) in [
            ("西塞山区政数局", true),
            ("某县生态环境局", true),
            ("某镇人民政府", true),
            ("某街道办事处", true),
            ("某乡人民政府", true),
            ("淮安市人民政府", false),
            ("淮安市住房和城乡建设局", false),
            ("广西壮族自治区人民政府", false),
            ("某市乡村振兴局", false),
        ] {
            assert_eq!(super::below_city_level(name), below, "{name}");
        }
    }
}
