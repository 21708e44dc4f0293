//! Across years, same agency: what was carried forward last year is carried over this year,
//! and 现行有效件数 follows from last year's. The same report as last year (tables copied, a
//! total off by a factor of ten) is what supervising offices return most often.

use crate::finding::{Finding, Location, Rule, RuleId, Severity};
use crate::report::schema::{self, T1Value};
use crate::report::{ActiveDisclosure, AppColumn, AppRow, Report, Template};

use super::{Validation, where_};

pub static CARRY_OVER: Rule = Rule {
    id: RuleId::HistoryCarryOver,
    severity: Severity::Error,
    what: "本年“二、上年结转”与上一年度报告的“四、结转下年度继续办理”不一致（逐列）",
    why: "上年结转到本年的申请就是上年报告中结转下年度继续办理的申请，两者必须相等。",
};
pub static IN_FORCE: Rule = Rule {
    id: RuleId::HistoryInForce,
    severity: Severity::Warning,
    what: "本年现行有效件数 ≠ 上年现行有效件数 + 本年制发 − 本年废止",
    why: "现行有效的规章和规范性文件逐年累计；不连续说明某年的数字有误（也可能是清理或划转，请说明）。",
};

pub static TABLES_IDENTICAL: Rule = Rule {
    id: RuleId::HistoryTablesIdentical,
    severity: Severity::Warning,
    what: "表一至表三的每个数都与上一年度报告相同",
    why: "两年的统计数字完全一样，几乎只会是套用了上年的报告而没有更新数据（两年全为 0 的除外）。",
};
pub static JUMP: Rule = Rule {
    id: RuleId::HistoryJump,
    severity: Severity::Warning,
    what: "总数与上一年度相差 10 倍以上（两年都不少于 20；收费金额两年都不为 0）",
    why: "相差一个数量级多半是多打或少打了一位数，或把“元”当成了“万元”；确属实情的，请在正文中说明原因。",
};

pub static TEXT_COPIED: Rule = Rule {
    id: RuleId::HistoryTextCopied,
    severity: Severity::Warning,
    what: "某部分的正文大部分与上一年度报告相同（年份和数字除外）",
    why: "“内容雷同”是上级通报最多的问题之一：年度报告应写本年度的工作，照搬上年的文字只改年份，等于没有报告。",
};

pub static TEXT_SHARED: Rule = Rule {
    id: RuleId::HistoryTextShared,
    severity: Severity::Warning,
    what: "某部分的正文大部分与另一单位同年度的报告相同（模板用语、年份、数字和单位名称除外）",
    why: "评估细则对“与往年或其他单位雷同”的报告扣分：年度报告应写本单位本年度的工作，照抄其他单位的文字只换名称，等于没有报告。",
};

pub fn rules() -> Vec<&'static Rule> {
    vec![
        &CARRY_OVER,
        &IN_FORCE,
        &TABLES_IDENTICAL,
        &JUMP,
        &TEXT_COPIED,
        &TEXT_SHARED,
    ]
}

/// A section is shared with another agency's report when more than this share of its
/// sentences is found there (and at least [`crate::shared_text::MIN_SHARED`] of them).
const SHARED_SHARE: f64 = 0.5;

/// Sections whose prose is mostly another agency's of the same year, names, years and
/// numbers masked; sentences many agencies use are left out of the count.
fn text_shared(report: &Report, same: &crate::shared_text::SameYear, findings: &mut Vec<Finding>) {
    if same.others.is_empty() {
        return;
    }
    let masks = crate::shared_text::name_masks(report.agency.as_deref());
    for section in &report.sections {
        let sentences: Vec<(&str, u64)> =
            crate::shared_text::keyed_sentences(&section.text, &masks)
                .into_iter()
                .filter(|(_, k)| !same.common.contains(k))
                .collect();
        let total = sentences.len();
        if total < crate::shared_text::MIN_SHARED {
            continue;
        }
        let best = same
            .others
            .iter()
            .map(|o| {
                let shared: Vec<&str> = sentences
                    .iter()
                    .filter(|(_, k)| o.keys.contains(k))
                    .map(|(w, _)| *w)
                    .collect();
                (o, shared)
            })
            .max_by_key(|(_, shared)| shared.len());
        let Some((other, shared)) = best else {
            continue;
        };
        if shared.len() < crate::shared_text::MIN_SHARED
            || (shared.len() as f64) <= SHARED_SHARE * total as f64
        {
            continue;
        }
        let share = shared.len() * 100 / total;
        let example: String = shared
            .iter()
            .max_by_key(|w| w.chars().count())
            .map(|w| w.chars().take(60).collect())
            .unwrap_or_default();
        let name = crate::report::schema::SECTIONS
            .get(usize::from(section.number).saturating_sub(1))
            .map_or(String::new(), |h| format!("“{}”", h.standard));
        findings.push(
            Finding::new(
                &TEXT_SHARED,
                Location::section(section.number),
                format!(
                    "第{}部分{name}的正文有 {share}%（{total} 句中的 {} 句）与“{}”同年度的报告（回执编号 {}）相同\
                     （模板用语、年份、数字和单位名称除外），例如：“{example}”。\
                     请按本单位本年度的实际工作撰写，不要照搬其他单位的文字；如两份报告确由同一人统一起草，请在报送时说明。",
                    CN_NUMBERS[usize::from(section.number).min(6)],
                    shared.len(),
                    other.agency,
                    other.receipt,
                ),
            )
            .expected(format!("<= {}%", (SHARED_SHARE * 100.0) as u32))
            .actual(format!("{share}%")),
        );
    }
}

/// From this share of a section's sentences found in last year's text on, it is copied.
const COPIED_SHARE: f64 = 0.8;
/// A section needs this many sentences (of some length, template sentences left out) to be
/// judged: one shared sentence in a two-line section says nothing.
const COPIED_MIN_SENTENCES: usize = 3;

/// Sections whose prose is mostly last year's once years and numbers are masked.
fn text_copied(report: &Report, previous: &Report, prev_year: &str, findings: &mut Vec<Finding>) {
    for section in &report.sections {
        let Some(before) = previous
            .sections
            .iter()
            .find(|s| s.number == section.number)
        else {
            continue;
        };
        let overlap = crate::overlap::sentence_overlap(&before.text, &section.text);
        if overlap.total < COPIED_MIN_SENTENCES
            || (overlap.shared as f64) < COPIED_SHARE * overlap.total as f64
        {
            continue;
        }
        let share = overlap.shared * 100 / overlap.total;
        let name = crate::report::schema::SECTIONS
            .get(usize::from(section.number).saturating_sub(1))
            .map_or(String::new(), |h| format!("“{}”", h.standard));
        findings.push(
            Finding::new(
                &TEXT_COPIED,
                Location::section(section.number),
                format!(
                    "第{}部分{name}的正文有 {share}%（{} 句中的 {} 句）与{prev_year}报告相同（年份和数字除外），\
                     例如：“{}”。请按本年度的实际工作重新撰写，不要照搬上年的文字。",
                    CN_NUMBERS[usize::from(section.number).min(6)],
                    overlap.total,
                    overlap.shared,
                    overlap
                        .example
                        .map(|e| e.chars().take(60).collect::<String>())
                        .unwrap_or_default()
                ),
            )
            .expected(format!("< {}%", (COPIED_SHARE * 100.0) as u32))
            .actual(format!("{share}%")),
        );
    }
}

const CN_NUMBERS: [&str; 7] = ["", "一", "二", "三", "四", "五", "六"];

/// From this factor on, a total that changed is worth a second look.
const JUMP_FACTOR: f64 = 10.0;
/// Small counts move a lot by themselves (2 → 25 is no typo): only totals of at least this
/// many in both years are compared.
const JUMP_FLOOR: i64 = 20;

/// Every value of tables 1–3 equals last year's (and not everything is 0 in both).
fn tables_identical(report: &Report, previous: &Report, prev_year: &str) -> Option<Finding> {
    let (Some(t1), Some(t2), Some(t3)) = (
        &report.active_disclosure,
        &report.applications,
        &report.reviews_and_litigation,
    ) else {
        return None;
    };
    let same = previous.active_disclosure.as_ref() == Some(t1)
        && previous.applications.as_ref() == Some(t2)
        && previous.reviews_and_litigation.as_ref() == Some(t3);
    if !same || all_zero(report) {
        return None;
    }
    Some(Finding::new(
        &TABLES_IDENTICAL,
        Location::table(1),
        format!(
            "表一、表二、表三的每个数都与{prev_year}报告完全相同。请核对是否套用了上年的报告而没有更新本年度的数据；\
             如确实两年数字一样，请在正文中说明。"
        ),
    ))
}

/// Whether every count of tables 1–3 is 0 (a small office with nothing to report, both years).
fn all_zero(report: &Report) -> bool {
    let Ok(json) = serde_json::to_value((
        &report.active_disclosure,
        &report.applications,
        &report.reviews_and_litigation,
    )) else {
        return false;
    };
    fn zero(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
            // The fee amount is a decimal string ("0", "0.0000").
            serde_json::Value::String(s) => s.parse::<f64>().is_ok_and(|x| x == 0.0),
            serde_json::Value::Array(a) => a.iter().all(zero),
            serde_json::Value::Object(o) => o.values().all(zero),
            _ => true,
        }
    }
    zero(&json)
}

/// The totals compared across years: where each is, how it is named, its value.
fn totals(report: &Report) -> Vec<(Location, String, f64, bool)> {
    let mut out = Vec::new();
    if let Some(apps) = &report.applications {
        // Named without the row's numbering: 一、 would read as the first of a list.
        for (row, name) in [
            (
                AppRow::NewReceived,
                schema::app_row(AppRow::NewReceived).core.to_string(),
            ),
            (
                AppRow::TotalHandled,
                format!("本年度办理结果{}", AppRow::TotalHandled.printed()),
            ),
        ] {
            if let Some(v) = apps.get(row).and_then(|v| v[AppColumn::Total.index()]) {
                out.push((
                    Location::table(2).row(row).column(AppColumn::Total),
                    format!(
                        "{}“{name}”的{}",
                        schema::table_name(2),
                        AppColumn::Total.printed()
                    ),
                    v as f64,
                    false,
                ));
            }
        }
    }
    if let Some(t3) = &report.reviews_and_litigation {
        for ((id, group), (_, printed)) in t3
            .groups()
            .into_iter()
            .zip(crate::report::schema::T3_GROUPS)
        {
            if let Some(v) = group.total {
                out.push((
                    Location::table(3).row(id).column("total"),
                    format!(
                        "{}“{}”的{}",
                        schema::table_name(3),
                        schema::t3_group_named(printed),
                        AppColumn::Total.printed()
                    ),
                    v as f64,
                    false,
                ));
            }
        }
    }
    // Table 1's one-number rows, from the template: the decisions counts (许可, 处罚, 强制)
    // and the fee amount (万元).
    if let Some(t1 @ ActiveDisclosure::V2021(_)) = &report.active_disclosure {
        for row in schema::t1_rows(Template::V2021) {
            let [column] = row.columns else { continue };
            let value = t1
                .row_values(row.label.id)
                .and_then(|v| v.into_iter().next().flatten());
            let (value, is_fee) = match value {
                Some(T1Value::Int(v)) => (v as f64, false),
                Some(T1Value::Amount(a)) => match a.parse::<f64>() {
                    Ok(v) => (v, true),
                    Err(_) => continue,
                },
                None => continue,
            };
            let name = if is_fee {
                format!(
                    "{}“{}”金额（万元）",
                    schema::table_name(1),
                    row.label.printed
                )
            } else {
                format!("{}“{}”", schema::table_name(1), row.label.printed)
            };
            out.push((
                Location::table(1).row(row).column(column),
                name,
                value,
                is_fee,
            ));
        }
    }
    out
}

/// Totals that moved by a factor of [`JUMP_FACTOR`] or more.
fn jumps(report: &Report, previous: &Report, prev_year: &str, findings: &mut Vec<Finding>) {
    let before = totals(previous);
    for (location, name, now, is_fee) in totals(report) {
        let Some((_, _, then, _)) = before.iter().find(|(l, ..)| *l == location) else {
            continue;
        };
        let then = *then;
        let comparable = if is_fee {
            now > 0.0 && then > 0.0
        } else {
            now >= JUMP_FLOOR as f64 && then >= JUMP_FLOOR as f64
        };
        if !comparable || now.max(then) < JUMP_FACTOR * now.min(then) {
            continue;
        }
        let hint = if is_fee {
            "请核对是否把“元”当成了“万元”（金额单位为万元），或多打、少打了位数"
        } else {
            "请核对是否多打或少打了一位数"
        };
        let factor = (now.max(then) / now.min(then)).round();
        findings.push(
            Finding::new(
                &JUMP,
                location,
                format!(
                    "{name}本年为 {}，{prev_year}报告为 {}，相差约 {factor} 倍。{hint}；确属实情的，请在正文中说明原因。",
                    shown(now),
                    shown(then)
                ),
            )
            .expected(format!("~{}", shown(then)))
            .actual(shown(now)),
        );
    }
}

/// 3060 not 3060.0; 0.0125 as written.
fn shown(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

pub fn check(v: &Validation<'_>, findings: &mut Vec<Finding>) {
    if let Some(same) = v.ctx.same_year {
        text_shared(v.report(), same, findings);
    }
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
                let at = v.at(2, AppRow::CarriedOver, c);
                findings.push(
                    Finding::new(
                        &CARRY_OVER,
                        Location::table(2).row(AppRow::CarriedOver).column(c).at(at),
                        format!(
                            "{}“{}”的“{}”列{}为 {this}，但{prev_year}报告中\
                             “{}”的该列为 {last}。两者应相等，请核对。",
                            schema::table_name(2),
                            AppRow::CarriedOver.printed(),
                            c.label(),
                            where_(at),
                            AppRow::CarriedForward.printed(),
                        ),
                    )
                    .expected(last)
                    .actual(this),
                );
            }
        }
    }
    text_copied(report, previous, &prev_year, findings);
    findings.extend(tables_identical(report, previous, &prev_year));
    jumps(report, previous, &prev_year, findings);
    if let (Some(ActiveDisclosure::V2021(now)), Some(ActiveDisclosure::V2021(before))) =
        (&report.active_disclosure, &previous.active_disclosure)
    {
        for (id, this, last) in [
            ("regulations", now.regulations, before.regulations),
            (
                "normative_documents",
                now.normative_documents,
                before.normative_documents,
            ),
        ] {
            let name = schema::t1_row_printed(Template::V2021, id);
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
                            "{}“{name}”现行有效件数为 {in_force}{}，按{prev_year}报告的现行有效件数 {last_in_force} \
                             加本年制发 {issued}、减本年废止 {repealed}，应为 {expected}。如有清理或划转，请在正文中说明。",
                            schema::table_name(1),
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
