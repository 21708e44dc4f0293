//! The tables' arithmetic (勾稽关系): table 2's row totals, its outcome total and its column
//! balance, table 3's group totals, table 1's weak continuity.
//!
//! A relation is only checked when every value it involves was read: a blank cell already
//! has its own finding (`cell.not_filled`), and counting it as 0 here would hide which of the
//! two is the real mistake.

use crate::finding::{Finding, Location, Rule, RuleId, Severity};
use crate::report::schema::{
    T3_COLUMNS, app_column_printed, app_row_described, t1_row_printed, t3_group_named, table_name,
};
use crate::report::{ActiveDisclosure, AppColumn, AppRow, AppValues, Template};

use super::{Validation, where_};

pub static T2_ROW_TOTAL: Rule = Rule {
    id: RuleId::SumT2RowTotal,
    severity: Severity::Error,
    what: "表二每一行：“总计”列等于自然人与五类法人或其他组织六列之和",
    why: "总计列是本行各类申请人的合计；不相等说明某格填错或漏填。",
};
pub static T2_OUTCOMES: Rule = Rule {
    id: RuleId::SumT2Outcomes,
    severity: Severity::Error,
    what: "表二每一列：“（七）总计”等于（一）至（六）各项办理结果之和",
    why: "（七）总计是本年度办理结果的合计；模板中各结果互斥（部分公开“只计这一情形”）。",
};
pub static T2_BALANCE: Rule = Rule {
    id: RuleId::SumT2Balance,
    severity: Severity::Error,
    what: "表二每一列：第一项加第二项之和，等于第三项加第四项之和",
    why: "模板表头注明“本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和”：收到的申请要么办结，要么结转下年。",
};
pub static T3_GROUP_TOTAL: Rule = Rule {
    id: RuleId::SumT3GroupTotal,
    severity: Severity::Error,
    what: "表三每组：“总计”等于结果维持、结果纠正、其他结果、尚未审结之和",
    why: "总计是本组四种结果的合计。",
};
pub static T1_IN_FORCE: Rule = Rule {
    id: RuleId::SumT1InForce,
    severity: Severity::Error,
    what: "表一：现行有效件数不少于本年制发件数减本年废止件数",
    why: "现行有效件数 = 上年现行有效 + 本年制发 − 本年废止，而上年现行有效不会是负数。",
};

pub fn rules() -> Vec<&'static Rule> {
    vec![
        &T2_ROW_TOTAL,
        &T2_OUTCOMES,
        &T2_BALANCE,
        &T3_GROUP_TOTAL,
        &T1_IN_FORCE,
    ]
}

pub fn check(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    t2(v, findings);
    t3(v, findings);
    t1(v, findings);
}

/// Sum of `values`, or `None` if one is missing.
fn sum(values: impl IntoIterator<Item = Option<i64>>) -> Option<i64> {
    values
        .into_iter()
        .try_fold(0i64, |acc, v| v.map(|v| acc.saturating_add(v)))
}

/// A number typed across two cells (拆格): two adjacent cells of a row that each hold one
/// digit and, read as one number, make the row's total hold. `first` is the index of the
/// left cell; the joined number belongs in it and the right cell is then empty (0), or, when
/// the right cell is the total, the joined number is the total and the left cell is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SplitDigits {
    first: usize,
    left: i64,
    right: i64,
}

impl SplitDigits {
    fn joined(&self) -> i64 {
        self.left * 10 + self.right
    }

    /// The sentence added to the sum's finding, naming the two columns.
    fn message(&self, names: &[&str]) -> String {
        let (Some(a), Some(b)) = (names.get(self.first), names.get(self.first + 1)) else {
            return String::new();
        };
        let joined = self.joined();
        let fix = if self.first + 2 == names.len() {
            format!("“{b}”应为 {joined}、“{a}”为 0")
        } else {
            format!("“{a}”应为 {joined}、“{b}”为 0")
        };
        format!(
            "很可能是一个两位数被分填在相邻两格（拆格）：“{a}”的 {} 与“{b}”的 {} 合起来是 {joined}，\
             合并后本行恰好平衡。请核对原始数据，若确是如此，{fix}。",
            self.left, self.right
        )
    }
}

/// The one adjacent pair of single digits whose joining balances `values` (the parts, then
/// the total last), if exactly one pair does. Rows with a blank cell are left alone.
fn split_digits(values: &[Option<i64>]) -> Option<SplitDigits> {
    let values: Vec<i64> = values.iter().copied().collect::<Option<Vec<_>>>()?;
    let (&total, parts) = values.split_last()?;
    // Saturating: a hostile file may hold numbers near i64::MAX.
    let sum = parts.iter().fold(0i64, |acc, v| acc.saturating_add(*v));
    let digit = |x: i64| (0..=9).contains(&x);
    let mut found = None;
    for first in 0..values.len().saturating_sub(1) {
        let (left, right) = (values[first], values[first + 1]);
        if !(1..=9).contains(&left) || !digit(right) {
            continue;
        }
        let joined = left * 10 + right;
        let balances = if first + 1 == parts.len() {
            // The last part and the total: the total is the joined number, the part 0.
            sum.saturating_sub(left) == joined
        } else {
            sum.saturating_sub(left)
                .saturating_sub(right)
                .saturating_add(joined)
                == total
        };
        if balances {
            if found.is_some() {
                return None;
            }
            found = Some(SplitDigits { first, left, right });
        }
    }
    found
}

fn t2(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let Some(apps) = &v.report().applications else {
        return;
    };
    let total = AppColumn::Total.index();
    let total_name = AppColumn::Total.printed();
    // Row totals.
    for (&row, values) in &apps.rows {
        let Some(values) = values else { continue };
        let (Some(actual), Some(expected)) = (values[total], sum(values[..total].iter().copied()))
        else {
            continue;
        };
        if actual != expected {
            let at = v.at(2, row, AppColumn::Total);
            let names = AppColumn::ALL.map(app_column_printed);
            findings.push(
                Finding::new(
                    &T2_ROW_TOTAL,
                    Location::table(2).row(row).column(AppColumn::Total).at(at),
                    format!(
                        "{}{}行{}：“{total_name}”填的是 {actual}，但{}六列之和为 {expected}。\
                         请核对本行各格，使总计等于六列之和。{}",
                        table_name(2),
                        app_row_described(row),
                        where_(at),
                        names[..total].join("、"),
                        split_digits(values)
                            .map(|s| s.message(&names))
                            .unwrap_or_default()
                    ),
                )
                .expected(expected)
                .actual(actual),
            );
        }
    }
    let column = |row: AppRow, c: usize| apps.get(row).and_then(|values: &AppValues| values[c]);
    for c in AppColumn::ALL {
        let i = c.index();
        let name = app_column_printed(c);
        // （七）总计 = Σ outcomes. Only when every outcome row of the template was read.
        let outcome_rows: Vec<AppRow> = apps
            .rows
            .keys()
            .copied()
            .filter(|r| r.is_outcome())
            .collect();
        let outcomes = sum(outcome_rows.iter().map(|&r| column(r, i)));
        if let (Some(actual), Some(expected)) = (column(AppRow::TotalHandled, i), outcomes)
            && actual != expected
        {
            let at = v.at(2, AppRow::TotalHandled, c);
            findings.push(
                Finding::new(
                    &T2_OUTCOMES,
                    Location::table(2).row(AppRow::TotalHandled).column(c).at(at),
                    format!(
                        "{}“{name}”列：“{}”填的是 {actual}{}，但（一）至（六）各项办理结果之和为 {expected}。\
                         请核对该列各办理结果和总计。",
                        table_name(2),
                        AppRow::TotalHandled.printed(),
                        where_(at)
                    ),
                )
                .expected(expected)
                .actual(actual),
            );
        }
        // 一 + 二 = （七） + 四.
        let left = sum([
            column(AppRow::NewReceived, i),
            column(AppRow::CarriedOver, i),
        ]);
        let right = sum([
            column(AppRow::TotalHandled, i),
            column(AppRow::CarriedForward, i),
        ]);
        if let (Some(left), Some(right)) = (left, right)
            && left != right
        {
            let at = v.at(2, AppRow::CarriedForward, c);
            findings.push(
                Finding::new(
                    &T2_BALANCE,
                    Location::table(2).row(AppRow::CarriedForward).column(c).at(at),
                    format!(
                        "表二“{name}”列：第一项加第二项之和（{left}）不等于第三项加第四项之和（{right}）。\
                         本年新收加上年结转的申请，应等于本年办理结果总计加结转下年度继续办理的申请，请核对该列。"
                    ),
                )
                .expected(left)
                .actual(right),
            );
        }
    }
}

fn t3(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let Some(t3) = &v.report().reviews_and_litigation else {
        return;
    };
    for ((id, group), (_, printed)) in t3
        .groups()
        .into_iter()
        .zip(crate::report::schema::T3_GROUPS)
    {
        let values = group.values();
        let (Some(actual), Some(expected)) = (values[4], sum(values[..4].iter().copied())) else {
            continue;
        };
        if actual != expected {
            let at = v.at(3, id, "total");
            let names = T3_COLUMNS.map(|(_, printed)| printed);
            findings.push(
                Finding::new(
                    &T3_GROUP_TOTAL,
                    Location::table(3).row(id).column("total").at(at),
                    format!(
                        "{}“{}”：“{}”填的是 {actual}{}，但{}之和为 {expected}。\
                         请核对这一组的五个数。{}",
                        table_name(3),
                        t3_group_named(printed),
                        names[4],
                        where_(at),
                        names[..4].join("、"),
                        split_digits(&values)
                            .map(|s| s.message(&names))
                            .unwrap_or_default()
                    ),
                )
                .expected(expected)
                .actual(actual),
            );
        }
    }
}

fn t1(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let Some(ActiveDisclosure::V2021(t1)) = &v.report().active_disclosure else {
        return;
    };
    for (id, counts) in [
        ("regulations", &t1.regulations),
        ("normative_documents", &t1.normative_documents),
    ] {
        let name = t1_row_printed(Template::V2021, id);
        let Some(c) = counts else { continue };
        let (Some(issued), Some(repealed), Some(in_force)) = (c.issued, c.repealed, c.in_force)
        else {
            continue;
        };
        let floor = issued - repealed;
        if in_force < floor {
            let at = v.at(1, id, "in_force");
            findings.push(
                Finding::new(
                    &T1_IN_FORCE,
                    Location::table(1).row(id).column("in_force").at(at),
                    format!(
                        "{}“{name}”：现行有效件数 {in_force}{} 少于本年制发件数 {issued} 减本年废止件数 {repealed}（{floor}）。\
                         现行有效件数应为上年现行有效件数加本年制发、减本年废止，请核对这三个数。",
                        table_name(1),
                        where_(at)
                    ),
                )
                .expected(format!(">= {floor}"))
                .actual(in_force),
            );
        }
    }
}
