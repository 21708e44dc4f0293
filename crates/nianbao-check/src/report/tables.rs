//! The three tables: find each row's label, read the values after it.
//!
//! A *run* is a maximal sequence of text tokens (labels and headers, glued after
//! normalization, so `商业\n企业` and `结 果 维持` read as one label); the values up to the next
//! run belong to the row whose label the run ends with. In real tables (docx, html, xlsx)
//! values must also stand in the label's row, and blank cells are positions; in text layouts
//! blanks cannot be told from merged-cell artifacts, so a row must give exactly as many values
//! as the template has columns, or it is reported, not guessed.

use std::collections::{BTreeMap, HashSet};

use crate::extract::SourceRef;
use crate::finding::{Finding, Location, Rule, RuleId, Severity};

use super::CellKey;
use super::align;
use super::model::*;
use super::schema::{
    APP_ROWS, Label, T1_2019, T1_2021, T1_HEADERS_2019, T1_HEADERS_2021, T1Value, T3_COLUMNS,
    T3_GROUPS, Want, app_column_printed, app_row, app_row_described, app_row_group, t1_rows,
    t3_column_printed,
};
use super::structure::Outline;
use super::tokens::{Kind, Token};

pub static TABLE_MISSING: Rule = Rule {
    id: RuleId::TableMissing,
    severity: Severity::Error,
    what: "缺少模板规定的统计表（表一、表二或表三）",
    why: "国办公开办函〔2021〕30号要求年度报告按统一表格公开数据，“不能遗漏”。",
};
pub static ROW_MISSING: Rule = Rule {
    id: RuleId::TableRowMissing,
    severity: Severity::Error,
    what: "表格缺少模板规定的行",
    why: "模板的每一行都必须填报，没有数据的填 0，否则无法汇总和核对。",
};
pub static ROW_UNASSIGNABLE: Rule = Rule {
    id: RuleId::TableRowValues,
    severity: Severity::Error,
    what: "某行的数值个数与模板列数不符，无法确定每个数属于哪一列",
    why: "合并单元格或漏填会使数字错位；宁可退回核实，也不猜测数字属于哪一列。",
};
pub static ROW_UNRECOGNIZED: Rule = Rule {
    id: RuleId::TableRowUnrecognized,
    severity: Severity::Error,
    what: "表格中有数字的行，其名称不是模板中的行名称",
    why: "只有能对应到模板行的数字才能审核和汇总。",
};
pub static ROW_DUPLICATE: Rule = Rule {
    id: RuleId::TableRowDuplicate,
    severity: Severity::Error,
    what: "同一模板行在表格中出现两次",
    why: "重复的行使数据含义不明，只读取第一次出现的行。",
};
pub static LABEL_NONSTANDARD: Rule = Rule {
    id: RuleId::LabelNonstandard,
    severity: Severity::Warning,
    what: "行或列名称与模板用语不一致（仍可识别）",
    why: "年度报告应使用国家模板的统一用语，便于公众理解和上级汇总。",
};
pub static CELL_NOT_FILLED: Rule = Rule {
    id: RuleId::CellNotFilled,
    severity: Severity::Warning,
    what: "应填数字的单元格为空白、“/”或“—”",
    why: "模板要求每格填数，没有发生的填 0；空白不参与合计核对，可能掩盖错误。",
};
pub static CELL_NOT_A_NUMBER: Rule = Rule {
    id: RuleId::CellNotANumber,
    severity: Severity::Error,
    what: "应填整数的单元格填了小数、文字或无法识别的内容",
    why: "件数、数量只能是整数，才能进行合计核对和汇总。",
};
pub static CELL_UNIT: Rule = Rule {
    id: RuleId::CellUnit,
    severity: Severity::Warning,
    what: "单元格中带有单位（如“251000元”）",
    why: "单位已在表头中规定，格内只填数字；带单位的数字容易按错误的单位汇总。",
};
pub static TEMPLATE_UNKNOWN: Rule = Rule {
    id: RuleId::TemplateUnknown,
    severity: Severity::Error,
    what: "无法判断报告使用的模板版本（表一没有可识别的列名）",
    why: "表一的列随模板版本不同（2019 年试行模板与 2021 年模板），列名不明就无法读取表一。",
};
pub static TEMPLATE_MIXED: Rule = Rule {
    id: RuleId::TemplateMixed,
    severity: Severity::Warning,
    what: "表一与表二显示的模板版本不一致",
    why: "同一份报告应完整使用一个版本的模板；混用说明表格被改动过。",
};

/// What [`read_tables`] found.
#[derive(Debug, Default)]
pub struct Tables {
    pub template: Option<Template>,
    pub active_disclosure: Option<ActiveDisclosure>,
    pub applications: Option<Applications>,
    pub reviews_and_litigation: Option<ReviewsAndLitigation>,
    /// Blocks holding table content, left out of the sections' narrative text.
    pub consumed_blocks: HashSet<usize>,
}

type Sources = BTreeMap<CellKey, SourceRef>;

/// A run of text tokens and the value tokens after it.
#[derive(Debug)]
struct Region {
    /// Normalized text of the run.
    text: String,
    /// Index of the run's first and last token.
    first: usize,
    last: usize,
    /// Indices of the tokens read as this run's values.
    values: Vec<usize>,
}

/// Splits tokens into runs and their values.
fn regions(tokens: &[Token], range: (usize, usize)) -> Vec<Region> {
    let (start, end) = range;
    let mut out: Vec<Region> = Vec::new();
    let mut i = start;
    while i < end {
        let first = i;
        let mut text = String::new();
        while i < end && tokens[i].kind.is_text() {
            text.push_str(&tokens[i].norm);
            i += 1;
        }
        let last = i.saturating_sub(1).max(first);
        let label_row = if i > first { tokens[last].row } else { None };
        let mut values = Vec::new();
        while i < end {
            let t = &tokens[i];
            match label_row {
                // A real table: the row's cells after its label, whatever they hold.
                Some(row) if t.row == Some(row) => {
                    if t.kind.is_text() && values.is_empty() {
                        break;
                    }
                    values.push(i);
                }
                Some(_) if t.kind.is_text() => break,
                // A row of empty cells only, without a label, starting after this row's own
                // values: the rest of a row that a page break cut (its label's last characters lost
                // with the cut, as on a scan), not more values of this one. (After a label
                // without values, e.g. table 3's header, the next row is its values.)
                Some(_)
                    if t.kind == Kind::Blank
                        && values.last().is_some_and(|&v| tokens[v].row != t.row)
                        && tokens[i..end]
                            .iter()
                            .take_while(|u| u.row == t.row && u.block == t.block)
                            .all(|u| u.kind == Kind::Blank) =>
                {
                    while i + 1 < end
                        && tokens[i + 1].row == t.row
                        && tokens[i + 1].block == t.block
                    {
                        i += 1;
                    }
                }
                // Cells of another row without a label of their own.
                Some(_) => values.push(i),
                None if t.kind.is_text() => break,
                None => values.push(i),
            }
            i += 1;
        }
        out.push(Region {
            text,
            first,
            last,
            values,
        });
        if i == first {
            i += 1;
        }
    }
    out
}

/// Reads table 1, 2 and 3 from the sections they belong in.
///
/// `placed`, for a scan: rows whose misread labels are read by their place between clear
/// matches ([`align::align_placing`]) are added to it (table, row id); `None` reads strictly.
pub fn read_tables(
    tokens: &[Token],
    outline: &Outline,
    findings: &mut Vec<Finding>,
    sources: &mut Sources,
    mut placed: Option<&mut Vec<(u8, &'static str)>>,
) -> Tables {
    let mut tables = Tables::default();
    let range_of = |section: u8| -> (usize, usize) {
        match outline.section_blocks(section) {
            Some((a, b)) => (
                tokens
                    .iter()
                    .position(|t| t.block >= a)
                    .unwrap_or(tokens.len()),
                tokens
                    .iter()
                    .position(|t| t.block >= b)
                    .unwrap_or(tokens.len()),
            ),
            // No heading: look for the table anywhere, after the anchor.
            None => (0, tokens.len()),
        }
    };

    // Table 2 first: its shape is one of the template signals table 1 needs.
    let t2_range = range_of(3);
    let t2 = read_t2(tokens, t2_range, findings, sources, placed.as_deref_mut());
    let t1_range = range_of(2);
    let t1_text: String = tokens[t1_range.0..t1_range.1]
        .iter()
        .filter(|t| t.kind.is_text())
        .map(|t| t.norm.as_str())
        .collect();
    let template = decide_template(&t1_text, t2.as_ref(), findings);
    tables.template = template;
    if let Some((apps, span)) = t2 {
        mark(&mut tables.consumed_blocks, tokens, span);
        let mut apps = apps;
        if let Some(template) = template {
            // A 2019-style single （六）其他处理 row in a 2021 report (template.mixed, said
            // above) is the group's total: kept, and its three sub-rows are not missing,
            // when it balances the table.
            let six_as_total = template == Template::V2021 && six_balances(&apps);
            apps.rows.retain(|row, _| {
                AppRow::for_template(template).any(|r| r == *row)
                    || (six_as_total && *row == AppRow::OtherHandling)
            });
            for row in AppRow::for_template(template) {
                if six_as_total
                    && app_row_group(row) == app_row_group(AppRow::OtherOverdueCorrection)
                {
                    continue;
                }
                if let std::collections::btree_map::Entry::Vacant(slot) = apps.rows.entry(row) {
                    findings.push(
                        Finding::new(
                            &ROW_MISSING,
                            Location::table(2).row(row),
                            format!(
                                "表二缺少{}行。请使用国家模板的完整表格，没有数据的行各列填 0。",
                                app_row_described(row)
                            ),
                        )
                        .expected(app_row(row).printed),
                    );
                    slot.insert(None);
                }
            }
        }
        tables.applications = Some(apps);
    } else {
        findings.push(Finding::new(
            &TABLE_MISSING,
            Location::table(2),
            "没有找到表二“收到和处理政府信息公开申请情况”。请在第三部分使用模板表格，\
             逐行逐列填写，没有数据的填 0。",
        ));
    }

    match read_t1(tokens, t1_range, template, findings, sources, placed) {
        Some((t1, span)) => {
            mark(&mut tables.consumed_blocks, tokens, span);
            tables.active_disclosure = Some(t1);
        }
        None if template.is_some() => findings.push(Finding::new(
            &TABLE_MISSING,
            Location::table(1),
            "没有找到表一“主动公开政府信息情况”（第二十条第（一）、（五）、（六）、（八）项）。\
             请在第二部分使用模板表格。",
        )),
        None => {}
    }

    let t3_range = range_of(4);
    match read_t3(tokens, t3_range, findings, sources) {
        Some((t3, span)) => {
            mark(&mut tables.consumed_blocks, tokens, span);
            tables.reviews_and_litigation = Some(t3);
        }
        None => findings.push(Finding::new(
            &TABLE_MISSING,
            Location::table(3),
            "没有找到表三“政府信息公开行政复议、行政诉讼情况”。请在第四部分使用模板表格，\
             没有案件的各格填 0。",
        )),
    }
    tables
}

/// Whether table 2 has a single （六）其他处理 row and none of its 2021 sub-rows, and
/// （七）总计 equals the outcome rows with it, column by column.
fn six_balances(apps: &Applications) -> bool {
    let subs = [
        AppRow::OtherOverdueCorrection,
        AppRow::OtherUnpaidFee,
        AppRow::OtherOther,
    ];
    if apps.get(AppRow::OtherHandling).is_none() || subs.iter().any(|r| apps.rows.contains_key(r)) {
        return false;
    }
    let Some(total) = apps.get(AppRow::TotalHandled) else {
        return false;
    };
    (0..AppColumn::ALL.len()).all(|c| {
        let sum = AppRow::ALL
            .iter()
            .filter(|r| r.is_outcome() && !subs.contains(r))
            .map(|r| apps.get(*r).and_then(|v| v[c]))
            .try_fold(0i64, |acc, v| v.map(|v| acc.saturating_add(v)));
        sum.is_some() && sum == total[c]
    })
}

fn mark(consumed: &mut HashSet<usize>, tokens: &[Token], span: (usize, usize)) {
    for t in &tokens[span.0..span.1.min(tokens.len())] {
        consumed.insert(t.block);
    }
}

/// Where a table starts: the token in `range` at which one of `anchors` appears (they may
/// span tokens), moved back over header cells but not into the narrative sentence that
/// introduces the table (`…具体情况统计如下表：`), which belongs to the section's text.
fn anchor(tokens: &[Token], range: (usize, usize), anchors: &[&str]) -> Option<usize> {
    let regions = regions(tokens, range);
    let region = regions
        .iter()
        .find(|r| anchors.iter().any(|a| r.text.contains(a)))?;
    let mut text = String::new();
    let mut hit = region.first;
    for (i, token) in tokens
        .iter()
        .enumerate()
        .take(region.last + 1)
        .skip(region.first)
    {
        text.push_str(&token.norm);
        if anchors.iter().any(|a| text.contains(a)) {
            hit = i;
            break;
        }
    }
    let is_narrative =
        |t: &Token| t.norm.contains('。') || t.norm.ends_with('：') || t.norm.chars().count() > 40;
    let mut start = hit;
    while start > region.first && !is_narrative(&tokens[start - 1]) && !is_narrative(&tokens[start])
    {
        start -= 1;
    }
    Some(start)
}

/// A matched row: which template row, the region, and whether its wording is standard.
struct Hit<'r> {
    label: usize,
    region: &'r Region,
    standard: bool,
    /// Read by its place alone (a scan's misread label): its values are doubtful.
    placed: bool,
}

/// The text a label wrapped below its values left at the start of the next run: the run's
/// text before its own label (when it ends with one) and before its first numbering mark.
fn lead<'t>(next: &'t Region, rows: &[align::Row<'_>]) -> (&'t str, bool) {
    // Words without values are no row of their own, whatever they say.
    let own = if next.values.is_empty() {
        None
    } else {
        rows.iter()
            .filter_map(|r| r.label.match_suffix(&next.text))
            .map(|m| m.len)
            .max()
    };
    let text = match own {
        Some(len) => &next.text[..next.text.len() - len],
        None => next.text.as_str(),
    };
    let cut = align::lead_end(text);
    // A row whose own label fits nothing exactly may be all label, unless a number starts it.
    let is_row = own.is_none() && !next.values.is_empty() && cut == text.len();
    // The rest of a number the wrap cut (`（一` / `）予以公开`) is not part of the label.
    (text[..cut].trim_start_matches(['）', '、', '.']), is_row)
}

/// Aligns the regions to the template `rows` ([`align`]); reports rows with numbers that
/// fit no row, fit two, repeat a row or stand out of order. Stops at narrative text after
/// the table (a run with `。` once a row was found). Returns the hits and the token span
/// consumed.
fn match_rows<'r>(
    tokens: &[Token],
    regions: &'r [Region],
    rows: &[align::Row<'_>],
    table: u8,
    findings: &mut Vec<Finding>,
    placing: bool,
) -> (Vec<Hit<'r>>, usize) {
    let has_numbers = |region: &Region| {
        region.values.iter().any(|&v| {
            matches!(
                tokens[v].kind,
                Kind::Int(_) | Kind::Decimal(_) | Kind::WithUnit(..)
            )
        })
    };
    // The candidate rows: regions with values, up to the narrative after the table.
    let mut candidates: Vec<usize> = Vec::new();
    let mut any_label = false;
    // On a scan, a misread character inside a drawn cell (`1.本机。关不掌握…`) is no
    // sentence: the grid, not a `。`, bounds the table there.
    let in_grid = |region: &Region| {
        placing
            && matches!(
                tokens[region.last].at,
                crate::extract::SourceRef::PdfCell { .. }
            )
    };
    for (k, region) in regions.iter().enumerate() {
        if any_label
            && ((region.text.contains('。') && !in_grid(region))
                || region.text.chars().count() > 200)
        {
            break;
        }
        if region.values.is_empty() {
            continue;
        }
        any_label |= rows
            .iter()
            .any(|r| r.label.match_suffix(&region.text).is_some());
        candidates.push(k);
    }
    let observed: Vec<align::Observed<'_>> = candidates
        .iter()
        .map(|&k| {
            let (lead, lead_is_row) = regions.get(k + 1).map_or(("", false), |n| lead(n, rows));
            align::Observed {
                text: &regions[k].text,
                lead,
                lead_is_row,
                values: regions[k].values.len(),
            }
        })
        .collect();
    let outcomes = if placing {
        align::align_placing(&observed, rows)
    } else {
        align::align(&observed, rows)
    };
    let mut hits: Vec<Hit<'r>> = Vec::new();
    let mut end = regions.first().map_or(0, |r| r.first);
    for (&k, outcome) in candidates.iter().zip(&outcomes) {
        let region = &regions[k];
        let region_end = region.values.last().map_or(region.last, |&v| v) + 1;
        let at = tokens[region.last].at;
        let printed = |j: usize| rows[j].label.printed;
        match *outcome {
            align::Outcome::Matched { row, standard } => {
                hits.push(Hit {
                    label: row,
                    region,
                    standard,
                    placed: false,
                });
                end = region_end;
            }
            align::Outcome::Placed { row } => {
                hits.push(Hit {
                    label: row,
                    region,
                    standard: false,
                    placed: true,
                });
                end = region_end;
            }
            align::Outcome::Duplicate { row } => {
                findings.push(Finding::new(
                    &ROW_DUPLICATE,
                    Location::table(table).row(rows[row].label.id).at(Some(at)),
                    format!(
                        "表{}中“{}”行出现了两次（{}），只读取了第一次出现的数据。请删除重复的行。",
                        cn_table(table),
                        printed(row),
                        at.place()
                    ),
                ));
                end = region_end;
            }
            _ if !has_numbers(region) => {}
            align::Outcome::OutOfOrder { row } => {
                let shown = shown_values(tokens, &region.values);
                findings.push(
                    Finding::new(
                        &ROW_UNRECOGNIZED,
                        Location::table(table).row(rows[row].label.id).at(Some(at)),
                        format!(
                            "表{}{}：“{}”行（数字 {}）不在模板规定的位置上（行的顺序被调换或移动），\
                             这些数字未读取。请按模板的行顺序填写。",
                            cn_table(table),
                            at.place(),
                            printed(row),
                            shown
                        ),
                    )
                    .expected(printed(row))
                    .actual(shown),
                );
                end = region_end;
            }
            align::Outcome::Ambiguous { .. } | align::Outcome::Unmatched => {
                let tail = tail(&region.text);
                let shown = shown_values(tokens, &region.values);
                let why = match *outcome {
                    align::Outcome::Ambiguous { rows: [a, b] } => format!(
                        "这个行名称既像模板的“{}”行，又像“{}”行，无法确定是哪一行，这些数字未读取",
                        printed(a),
                        printed(b)
                    ),
                    _ => format!("“{tail}”不是模板中的行名称，这些数字无法对应到表格的行"),
                };
                findings.push(
                    Finding::new(
                        &ROW_UNRECOGNIZED,
                        Location::table(table).at(Some(at)),
                        format!(
                            "表{}{}：“{tail}”后面有数字（{shown}），但{why}。请使用模板原有的行名称。",
                            cn_table(table),
                            at.place(),
                        ),
                    )
                    .actual(shown),
                );
                end = region_end;
            }
        }
    }
    (hits, end)
}

/// The last 24 characters of a run, for messages.
fn tail(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars[chars.len().saturating_sub(24)..].iter().collect()
}

fn shown_values(tokens: &[Token], values: &[usize]) -> String {
    values
        .iter()
        .map(|&v| {
            let t = &tokens[v];
            if t.raw.is_empty() {
                "（空）".to_string()
            } else {
                t.raw.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn cn_table(table: u8) -> &'static str {
    match table {
        1 => "一",
        2 => "二",
        _ => "三",
    }
}

/// One cell a row must give: where it goes in the model, its printed label, what it accepts.
#[derive(Clone)]
struct CellSpec {
    row: &'static str,
    column: &'static str,
    label: std::borrow::Cow<'static, str>,
    want: Want,
}

/// Reads a row's values into its cells; `None` (with a finding) when they cannot be
/// assigned to columns with certainty.
fn read_row(
    tokens: &[Token],
    region: &Region,
    cells: &[CellSpec],
    table: u8,
    row_label: &str,
    findings: &mut Vec<Finding>,
    sources: &mut Sources,
) -> Option<Vec<Option<T1Value>>> {
    let n = cells.len();
    let row_id = cells.first().map_or("", |c| c.row);
    let mut values = region.values.clone();
    // Extra empty cells at the end of a real table row (a wider table) are not values.
    while values.len() > n
        && values
            .last()
            .is_some_and(|&v| tokens[v].kind == Kind::Blank)
    {
        values.pop();
    }
    let label_at = tokens[region.last].at;
    if values.len() != n {
        let shown = shown_values(tokens, &values);
        let names: Vec<&str> = cells.iter().map(|c| c.label.as_ref()).collect();
        let message = if values.is_empty() {
            format!(
                "表{}“{}”行（{}）没有数字。请按模板逐列填写（{}），没有的填 0。",
                cn_table(table),
                row_label,
                label_at.place(),
                names.join("、")
            )
        } else {
            format!(
                "表{}“{}”行（{}）有 {} 个数（{}），模板应为 {} 个（{}）。无法确定缺少或多出的是哪一列，\
                 本行未读取。请按模板逐列填写，没有的填 0，不要合并或删除单元格。",
                cn_table(table),
                row_label,
                label_at.place(),
                values.len(),
                shown,
                n,
                names.join("、")
            )
        };
        findings.push(
            Finding::new(
                &ROW_UNASSIGNABLE,
                Location::table(table).row(row_id).at(Some(label_at)),
                message,
            )
            .expected(n)
            .actual(values.len()),
        );
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for (&v, spec) in values.iter().zip(cells) {
        let (want, col_label) = (spec.want, spec.label.as_ref());
        let t = &tokens[v];
        let loc = Location::table(table)
            .row(spec.row)
            .column(spec.column)
            .at(Some(t.at));
        // Drawn only for a finding (most cells have none).
        let cell = || format!("表{}“{}”行“{}”列", cn_table(table), row_label, col_label);
        let value = match (&t.kind, want) {
            (Kind::Int(i), _) => Some(T1Value::Int(*i)),
            (Kind::Decimal(d), Want::Amount) => Some(T1Value::Amount(d.clone())),
            (Kind::WithUnit(num, unit), _) => {
                findings.push(
                    Finding::new(
                        &CELL_UNIT,
                        loc.clone(),
                        format!(
                            "{}填的是“{}”，格内带有单位“{unit}”。单位以表头为准，格内只填数字。",
                            cell(),
                            t.raw
                        ),
                    )
                    .actual(&t.raw),
                );
                match (super::tokens::classify(num).0, want) {
                    (Kind::Int(i), _) => Some(T1Value::Int(i)),
                    (Kind::Decimal(d), Want::Amount) => Some(T1Value::Amount(d)),
                    _ => None,
                }
            }
            (Kind::Blank | Kind::NotFilled, _) => {
                findings.push(
                    Finding::new(
                        &CELL_NOT_FILLED,
                        loc.clone(),
                        format!(
                            "{}（{}）{}。没有发生的请填 0；空白的格不参与合计核对。",
                            cell(),
                            t.at.place(),
                            if t.raw.is_empty() {
                                "是空白".to_string()
                            } else {
                                format!("填的是“{}”", t.raw)
                            }
                        ),
                    )
                    .actual(&t.raw),
                );
                None
            }
            (Kind::Decimal(d), Want::Count | Want::Signed) => {
                findings.push(
                    Finding::new(
                        &CELL_NOT_A_NUMBER,
                        loc.clone(),
                        format!(
                            "{}（{}）填的是小数“{d}”，件数只能是整数。",
                            cell(),
                            t.at.place()
                        ),
                    )
                    .actual(d),
                );
                None
            }
            (Kind::Text, _) => {
                findings.push(
                    Finding::new(
                        &CELL_NOT_A_NUMBER,
                        loc.clone(),
                        format!(
                            "{}（{}）填的是“{}”，不是数字。请填写数字，没有的填 0。",
                            cell(),
                            t.at.place(),
                            t.raw
                        ),
                    )
                    .actual(&t.raw),
                );
                None
            }
        };
        if value.is_some() {
            sources.insert((table, spec.row, spec.column), t.at);
        }
        out.push(value);
    }
    Some(out)
}

fn int(v: &Option<T1Value>) -> Option<i64> {
    T1Value::int(v)
}

fn nonstandard_label(
    table: u8,
    row_id: &str,
    printed: &str,
    region: &Region,
    tokens: &[Token],
    findings: &mut Vec<Finding>,
) {
    let seen_tail = seen_label(tokens, region);
    findings.push(
        Finding::new(
            &LABEL_NONSTANDARD,
            Location::table(table)
                .row(row_id)
                .at(Some(tokens[region.last].at)),
            format!(
                "表{}行名称“{}”与模板用语不一致，模板为“{}”。已按该行读取，请改用模板用语。",
                cn_table(table),
                seen_tail,
                printed
            ),
        )
        .expected(printed)
        .actual(seen_tail),
    );
}

/// The label as written: the raw text of the run's last tokens that make up the label.
fn seen_label(tokens: &[Token], region: &Region) -> String {
    // Walk back over the run until the raw text holds a plausible label (stop at a token
    // that starts a numbered item or a group label).
    let mut parts: Vec<&str> = Vec::new();
    let mut i = region.last;
    loop {
        let raw = tokens[i].raw.as_str();
        parts.push(raw);
        let starts_item = raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '（' || c == '(' || "一二三四".contains(c));
        if starts_item || i == region.first || parts.len() >= 6 {
            break;
        }
        i -= 1;
    }
    parts.reverse();
    parts.concat()
}

// ---------------------------------------------------------------- table 2

fn read_t2(
    tokens: &[Token],
    range: (usize, usize),
    findings: &mut Vec<Finding>,
    sources: &mut Sources,
    mut placed: Option<&mut Vec<(u8, &'static str)>>,
) -> Option<(Applications, (usize, usize))> {
    let start = anchor(
        tokens,
        range,
        &[
            "勾稽关系",
            "申请人情况",
            "本年新收",
            "上年结转政府信息公开申请",
        ],
    )?;
    let regions = regions(tokens, (start, range.1));
    let rows: Vec<align::Row<'_>> = APP_ROWS
        .iter()
        .map(|label| align::Row {
            label,
            columns: AppColumn::ALL.len(),
        })
        .collect();
    let (hits, end) = match_rows(tokens, &regions, &rows, 2, findings, placed.is_some());
    if hits.is_empty() {
        return None;
    }
    let mut apps = Applications::default();
    for hit in &hits {
        let row = AppRow::ALL[hit.label];
        if hit.placed
            && let Some(placed) = placed.as_deref_mut()
        {
            placed.push((2, row.id()));
        }
        let label = app_row(row);
        if !hit.standard && !hit.placed {
            nonstandard_label(2, label.id, label.printed, hit.region, tokens, findings);
        }
        let cells: Vec<CellSpec> = AppColumn::ALL
            .iter()
            .map(|c| CellSpec {
                row: label.id,
                column: c.id(),
                label: app_column_printed(*c).into(),
                want: Want::Count,
            })
            .collect();
        let values = read_row(
            tokens,
            hit.region,
            &cells,
            2,
            label.printed,
            findings,
            sources,
        );
        let values = values.map(|v| {
            let mut row_values: AppValues = [None; 7];
            for (slot, value) in row_values.iter_mut().zip(&v) {
                *slot = int(value);
            }
            row_values
        });
        apps.rows.insert(row, values);
    }
    Some((apps, (start, end)))
}

// ---------------------------------------------------------------- template

fn decide_template(
    t1_text: &str,
    t2: Option<&(Applications, (usize, usize))>,
    findings: &mut Vec<Finding>,
) -> Option<Template> {
    let t1_2021 = T1_HEADERS_2021
        .iter()
        .filter(|l| l.find_in(t1_text).is_some())
        .count();
    let t1_2019 = T1_HEADERS_2019
        .iter()
        .filter(|l| l.find_in(t1_text).is_some())
        .count()
        // The rows only the 2019 template has (其他对外管理服务事项, 政府集中采购).
        + T1_2019
            .iter()
            .filter(|r| !T1_2021.iter().any(|s| s.label.id == r.label.id))
            .filter(|r| t1_text.contains(r.label.core))
            .count();
    let (t2_2021, t2_2019) = match t2 {
        Some((apps, _)) => (
            [
                AppRow::OtherOverdueCorrection,
                AppRow::OtherUnpaidFee,
                AppRow::OtherOther,
            ]
            .iter()
            .any(|r| apps.rows.contains_key(r)),
            apps.rows.contains_key(&AppRow::OtherHandling),
        ),
        None => (false, false),
    };
    let from_t1 = match t1_2021.cmp(&t1_2019) {
        std::cmp::Ordering::Greater => Some(Template::V2021),
        std::cmp::Ordering::Less => Some(Template::V2019),
        std::cmp::Ordering::Equal => None,
    };
    let from_t2 = match (t2_2021, t2_2019) {
        (true, false) => Some(Template::V2021),
        (false, true) => Some(Template::V2019),
        _ => None,
    };
    match (from_t1, from_t2) {
        (Some(a), Some(b)) if a != b => {
            findings.push(Finding::new(
                &TEMPLATE_MIXED,
                Location::default(),
                format!(
                    "表一的列名属于 {} 年模板，表二“{}”的写法却属于 {} 年模板。\
                     已按表一的模板读取，请整份报告统一使用现行模板（国办公开办函〔2021〕30号）。",
                    a.as_str(),
                    AppRow::OtherHandling.printed(),
                    b.as_str()
                ),
            ));
            Some(a)
        }
        (Some(a), _) => Some(a),
        (None, Some(b)) => Some(b),
        (None, None) => {
            if t2.is_some() || !t1_text.is_empty() {
                // The columns of the 2021 template's first row, as examples.
                let examples: String = T1_2021[0]
                    .columns
                    .iter()
                    .map(|c| format!("“{}”", c.printed))
                    .collect();
                findings.push(Finding::new(
                    &TEMPLATE_UNKNOWN,
                    Location::table(1),
                    format!(
                        "表一没有可识别的列名（如{examples}），\
                         无法判断使用的是哪一版模板，表一未读取。请使用国办公开办函〔2021〕30号规定的表格。"
                    ),
                ));
            }
            None
        }
    }
}

// ---------------------------------------------------------------- table 1

fn read_t1(
    tokens: &[Token],
    range: (usize, usize),
    template: Option<Template>,
    findings: &mut Vec<Finding>,
    sources: &mut Sources,
    mut placed: Option<&mut Vec<(u8, &'static str)>>,
) -> Option<(ActiveDisclosure, (usize, usize))> {
    let template = template?;
    let start = anchor(tokens, range, &["第二十条", "信息内容"])?;
    let regions = regions(tokens, (start, range.1));
    let schema = t1_rows(template);
    let rows: Vec<align::Row<'_>> = schema
        .iter()
        .map(|r| align::Row {
            label: &r.label,
            columns: r.columns.len(),
        })
        .collect();
    let (hits, end) = match_rows(tokens, &regions, &rows, 1, findings, placed.is_some());
    if hits.is_empty() {
        return None;
    }
    // Header wording (e.g. the typo 本年度止件数).
    let header_text: String = tokens[start..end.max(start)]
        .iter()
        .filter(|t| t.kind.is_text())
        .map(|t| t.norm.as_str())
        .collect();
    let headers: &[Label] = match template {
        Template::V2021 => &T1_HEADERS_2021,
        Template::V2019 => &T1_HEADERS_2019,
    };
    for h in headers {
        if let Some(m) = h.find_in(&header_text)
            && !m.standard
        {
            let seen = h
                .variants
                .iter()
                .find(|v| header_text.contains(**v))
                .copied()
                .unwrap_or_default();
            findings.push(
                Finding::new(
                    &LABEL_NONSTANDARD,
                    Location::table(1).column(h.id),
                    format!(
                        "表一列名“{seen}”与模板用语不一致，模板为“{}”。已按该列读取，请改用模板用语。",
                        h.printed
                    ),
                )
                .expected(h.printed)
                .actual(seen),
            );
        }
    }

    let mut read: BTreeMap<&'static str, Vec<Option<T1Value>>> = BTreeMap::new();
    for hit in &hits {
        let row = &schema[hit.label];
        if hit.placed
            && let Some(placed) = placed.as_deref_mut()
        {
            placed.push((1, row.label.id));
        }
        let label = &row.label;
        if !hit.standard && !hit.placed {
            nonstandard_label(1, label.id, label.printed, hit.region, tokens, findings);
        }
        let cells: Vec<CellSpec> = row
            .columns
            .iter()
            .map(|c| CellSpec {
                row: label.id,
                column: c.id,
                label: c.printed.into(),
                want: c.want,
            })
            .collect();
        if let Some(v) = read_row(
            tokens,
            hit.region,
            &cells,
            1,
            label.printed,
            findings,
            sources,
        ) {
            read.insert(label.id, v);
        }
    }
    for (k, row) in schema.iter().enumerate() {
        if !hits.iter().any(|h| h.label == k) {
            let label = &row.label;
            findings.push(
                Finding::new(
                    &ROW_MISSING,
                    Location::table(1).row(label.id),
                    format!(
                        "表一缺少“{}”行。请使用国家模板的完整表格，没有数据的填 0。",
                        label.printed
                    ),
                )
                .expected(label.printed),
            );
        }
    }
    let t1 = ActiveDisclosure::from_rows(template, |id| read.get(id).cloned());
    Some((t1, (start, end)))
}

// ---------------------------------------------------------------- table 3

fn read_t3(
    tokens: &[Token],
    range: (usize, usize),
    findings: &mut Vec<Finding>,
    sources: &mut Sources,
) -> Option<(ReviewsAndLitigation, (usize, usize))> {
    // The header's 结果维持 (or its inversion 维持结果) or 尚未审结.
    let column = |id| t3_column_printed(id).unwrap_or_default();
    let start = anchor(
        tokens,
        range,
        &[column("upheld"), "维持结果", column("pending")],
    )?;
    let regions = regions(tokens, (start, range.1));
    // The values follow the header, which ends with the third group's 总计.
    let region = regions
        .iter()
        .find(|r| !r.values.is_empty() && (r.text.ends_with("总计") || r.text.ends_with("合计")))
        .or_else(|| regions.iter().find(|r| !r.values.is_empty()))?;
    let mut cells = Vec::with_capacity(15);
    for (group, group_label) in T3_GROUPS {
        for (column, column_label) in T3_COLUMNS {
            cells.push(CellSpec {
                row: group,
                column,
                label: format!("{group_label}·{column_label}").into(),
                want: Want::Count,
            });
        }
    }
    let end = region.values.last().map_or(region.last, |&v| v) + 1;
    let mut t3 = ReviewsAndLitigation::default();
    let values = read_row(tokens, region, &cells, 3, "复议诉讼数据", findings, sources);
    let values = values?;
    let v: Vec<Option<i64>> = values.iter().map(int).collect();
    let group = |k: usize| ReviewGroup::from_values([v[k], v[k + 1], v[k + 2], v[k + 3], v[k + 4]]);
    t3.review = group(0);
    t3.litigation_direct = group(5);
    t3.litigation_after_review = group(10);
    Some((t3, (start, end)))
}
