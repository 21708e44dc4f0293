//! Across years, same agency: what was carried forward last year is carried over this year,
//! and 现行有效件数 follows from last year's.

use crate::finding::{Finding, Location, Rule, Severity};
use crate::report::{ActiveDisclosure, AppColumn, AppRow};

use super::{Validation, where_};

pub static CARRY_OVER: Rule = Rule {
    id: "history.carry_over",
    severity: Severity::Error,
    what: "本年“二、上年结转”与上一年度报告的“四、结转下年度继续办理”不一致（逐列）",
    why: "上年结转到本年的申请就是上年报告中结转下年度继续办理的申请，两者必须相等。",
};
pub static IN_FORCE: Rule = Rule {
    id: "history.in_force",
    severity: Severity::Warning,
    what: "本年现行有效件数 ≠ 上年现行有效件数 + 本年制发 − 本年废止",
    why: "现行有效的规章和规范性文件逐年累计；不连续说明某年的数字有误（也可能是清理或划转，请说明）。",
};

pub fn rules() -> Vec<&'static Rule> {
    vec![&CARRY_OVER, &IN_FORCE]
}

pub fn check(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    let Some(previous) = v.ctx.previous else {
        return;
    };
    let report = v.report();
    if let (Some(year), Some(prev_year)) = (report.year, previous.year)
        && prev_year != year - 1
    {
        return;
    }
    let prev_year = previous
        .year
        .map_or("上一年度".to_string(), |y| format!("{y} 年度"));
    if let (Some(now), Some(before)) = (&report.applications, &previous.applications)
        && let (Some(carried_over), Some(carried_forward)) = (
            now.get(AppRow::CarriedOver),
            before.get(AppRow::CarriedForward),
        )
    {
        for c in AppColumn::ALL {
            let (Some(this), Some(last)) = (carried_over[c.index()], carried_forward[c.index()])
            else {
                continue;
            };
            if this != last {
                let at = v.at(2, "carried_over", c.id());
                findings.push(
                    Finding::new(
                        &CARRY_OVER,
                        Location::table(2).row("carried_over").column(c.id()).at(at),
                        format!(
                            "表二“二、上年结转政府信息公开申请数量”的“{}”列{}为 {this}，但{prev_year}报告中\
                             “四、结转下年度继续办理”的该列为 {last}。两者应相等，请核对。",
                            c.label(),
                            where_(at)
                        ),
                    )
                    .expected(last)
                    .actual(this),
                );
            }
        }
    }
    if let (Some(ActiveDisclosure::V2021(now)), Some(ActiveDisclosure::V2021(before))) =
        (&report.active_disclosure, &previous.active_disclosure)
    {
        for (id, name, this, last) in [
            ("regulations", "规章", now.regulations, before.regulations),
            (
                "normative_documents",
                "行政规范性文件",
                now.normative_documents,
                before.normative_documents,
            ),
        ] {
            let (Some(this), Some(last)) = (this, last) else {
                continue;
            };
            let (Some(in_force), Some(issued), Some(repealed), Some(last_in_force)) =
                (this.in_force, this.issued, this.repealed, last.in_force)
            else {
                continue;
            };
            let expected = last_in_force + issued - repealed;
            if in_force != expected {
                let at = v.at(1, id, "in_force");
                findings.push(
                    Finding::new(
                        &IN_FORCE,
                        Location::table(1).row(id).column("in_force").at(at),
                        format!(
                            "表一“{name}”现行有效件数为 {in_force}{}，按{prev_year}报告的现行有效件数 {last_in_force} \
                             加本年制发 {issued}、减本年废止 {repealed}，应为 {expected}。如有清理或划转，请在正文中说明。",
                            where_(at)
                        ),
                    )
                    .expected(expected)
                    .actual(in_force),
                );
            }
        }
    }
}
