//! Single values: counts are non-negative, the fee is a decimal with at most four places, and
//! 规章 are only reported by bodies that may make them.

use crate::finding::{Finding, Location, Rule, Severity};
use crate::report::schema::app_row_described;
use crate::report::{ActiveDisclosure, AppColumn};

use super::{Validation, where_};

pub static NEGATIVE: Rule = Rule {
    id: "value.negative",
    severity: Severity::Error,
    what: "件数、数量为负数",
    why: "件数和数量不可能小于 0（只有 2019 年模板的“本年增/减”可以为负）。",
};
pub static FEE_FORMAT: Rule = Rule {
    id: "value.fee_decimals",
    severity: Severity::Warning,
    what: "行政事业性收费金额超过 4 位小数",
    why: "金额单位为万元，精确到元只需 4 位小数；更多位数通常是把“元”当成了“万元”或复制了计算结果。",
};
pub static REGULATIONS_LEVEL: Rule = Rule {
    id: "value.regulations_level",
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
    // Table 1: each (column, value, what the column counts) of one row.
    let mut table_one = |id: &str, name: &str, cells: &[(&str, Option<i64>, &str)]| {
        for &(column, value, counts) in cells {
            negative(1, id, column, value, &|| format!("表一“{name}”的{counts}"));
        }
    };
    match &report.active_disclosure {
        Some(ActiveDisclosure::V2021(t1)) => {
            for (id, name, c) in [
                ("regulations", "规章", &t1.regulations),
                (
                    "normative_documents",
                    "行政规范性文件",
                    &t1.normative_documents,
                ),
            ] {
                let c = c.unwrap_or_default();
                table_one(
                    id,
                    name,
                    &[
                        ("issued", c.issued, "本年制发件数"),
                        ("repealed", c.repealed, "本年废止件数"),
                        ("in_force", c.in_force, "现行有效件数"),
                    ],
                );
            }
            for (id, name, value) in [
                (
                    "administrative_licensing",
                    "行政许可",
                    t1.administrative_licensing,
                ),
                (
                    "administrative_punishment",
                    "行政处罚",
                    t1.administrative_punishment,
                ),
                (
                    "administrative_enforcement",
                    "行政强制",
                    t1.administrative_enforcement,
                ),
            ] {
                table_one(id, name, &[("decisions", value, "本年处理决定数量")]);
            }
            if let Some(fee) = &t1.administrative_fees
                && let Some(f) = fee_format(v, fee)
            {
                fee_findings.push(f);
            }
        }
        Some(ActiveDisclosure::V2019(t1)) => {
            for (id, name, c) in [
                ("regulations", "规章", &t1.regulations),
                ("normative_documents", "规范性文件", &t1.normative_documents),
            ] {
                let c = c.unwrap_or_default();
                table_one(
                    id,
                    name,
                    &[
                        ("made", c.made, "本年新制作数量"),
                        ("published", c.published, "本年新公开数量"),
                        ("total_published", c.total_published, "对外公开总数量"),
                    ],
                );
            }
            for (id, name, c) in [
                (
                    "administrative_licensing",
                    "行政许可",
                    &t1.administrative_licensing,
                ),
                (
                    "other_management_services",
                    "其他对外管理服务事项",
                    &t1.other_management_services,
                ),
                (
                    "administrative_punishment",
                    "行政处罚",
                    &t1.administrative_punishment,
                ),
                (
                    "administrative_enforcement",
                    "行政强制",
                    &t1.administrative_enforcement,
                ),
            ] {
                let c = c.unwrap_or_default();
                table_one(
                    id,
                    name,
                    &[
                        ("previous_year", c.previous_year, "上一年项目数量"),
                        ("decisions", c.decisions, "处理决定数量"),
                    ],
                );
            }
        }
        None => {}
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
                    "表一“行政事业性收费”的本年收费金额“{fee}”{}有 {places} 位小数。金额单位是万元，最多保留 4 位小数；\
                     请确认没有把“元”当成“万元”。",
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
                    "表一“规章”行填了 {}，但“{agency}”属于县级及以下机关，无权制定规章。\
                     内部的规章制度不属于“规章”，请核对后改为 0。",
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
