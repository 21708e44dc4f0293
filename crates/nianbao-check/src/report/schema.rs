//! The national template as data, in one place: every row and column of tables 1, 2 and 3
//! in both template versions, with its id (the JSON key of check-json.md), its printed label,
//! the variants met in real reports, its group and its place in the sequence. The reader
//! aligns observed rows to these sequences; the store, the export, `check --show`, the HTML
//! mail and the rule messages take their rows and labels from here.
//!
//! Labels are compared on [`normalize`](super::normalize::normalize)d text. A label that is
//! recognisably the standard one but differs from it is read and reported as non-standard
//! wording.

use crate::finding::{ColumnKey, RowKey};

use super::model::{
    ActiveDisclosure, ActiveDisclosure2019, ActiveDisclosure2021, AppColumn, AppRow,
    DocumentCounts, FeeItems, ItemCounts, Procurement, PublishedCounts, Report, Template,
};

/// A label of the template: its standard wording and the wordings accepted as variants.
#[derive(Debug)]
pub struct Label {
    /// Row or column id of check-json.md.
    pub id: &'static str,
    /// As printed in the template (for messages and renderers).
    pub printed: &'static str,
    /// The normalized text a row label ends with in the standard wording.
    pub core: &'static str,
    /// Other normalized wordings that are read but reported as non-standard.
    pub variants: &'static [&'static str],
    /// The printed group label the row stands under (`（三）不予公开`), if any.
    pub group: Option<&'static str>,
}

impl Label {
    /// Every wording of the label: the standard one (`true`), then the known variants.
    pub fn wordings(&self) -> impl Iterator<Item = (&'static str, bool)> + '_ {
        std::iter::once((self.core, true)).chain(self.variants.iter().map(|v| (*v, false)))
    }

    /// The longest wording for which `found` holds, standard first among equals.
    fn best(&self, found: impl Fn(&str) -> bool) -> Option<LabelMatch> {
        // The standard wording first: it wins whenever it is found.
        if found(self.core) {
            return Some(LabelMatch {
                standard: true,
                len: self.core.len(),
            });
        }
        self.wordings()
            .filter(|(w, _)| found(w))
            .map(|(w, standard)| LabelMatch {
                standard,
                len: w.len(),
            })
            .max_by_key(|m| (m.standard, m.len))
    }

    /// If the normalized run `text` ends with this label, whether in standard wording and how
    /// many characters matched.
    pub fn match_suffix(&self, text: &str) -> Option<LabelMatch> {
        self.best(|w| text.ends_with(w))
    }

    /// Whether normalized `text` contains this label in any wording; for header labels.
    pub fn find_in(&self, text: &str) -> Option<LabelMatch> {
        self.best(|w| text.contains(w))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelMatch {
    pub standard: bool,
    /// Bytes of the normalized text matched.
    pub len: usize,
}

const fn label(
    id: &'static str,
    printed: &'static str,
    core: &'static str,
    variants: &'static [&'static str],
) -> Label {
    Label {
        id,
        printed,
        core,
        variants,
        group: None,
    }
}

const fn grouped(
    id: &'static str,
    printed: &'static str,
    core: &'static str,
    variants: &'static [&'static str],
    group: &'static str,
) -> Label {
    Label {
        id,
        printed,
        core,
        variants,
        group: Some(group),
    }
}

/// Table 2's row labels, in [`AppRow::ALL`] order.
pub static APP_ROWS: [Label; 26] = [
    label(
        "new_received",
        "一、本年新收政府信息公开申请数量",
        "本年新收政府信息公开申请数量",
        &[
            "本年度新收政府信息公开申请数量",
            "本年新收政府信息公开申请",
            "本年新收申请数量",
        ],
    ),
    label(
        "carried_over",
        "二、上年结转政府信息公开申请数量",
        "上年结转政府信息公开申请数量",
        &[
            "上年度结转政府信息公开申请数量",
            "上年结转政府信息公开申请",
            "上年结转申请数量",
        ],
    ),
    label("granted", "（一）予以公开", "予以公开", &[]),
    label(
        "partially_granted",
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        "部分公开（区分处理的，只计这一情形，不计其他情形）",
        &[
            "部分公开（区分处理的，只计这一情形，不计其它情形）",
            "部分公开",
        ],
    ),
    grouped(
        "withheld_state_secret",
        "1.属于国家秘密",
        "属于国家秘密",
        &[],
        "（三）不予公开",
    ),
    grouped(
        "withheld_prohibited_by_law",
        "2.其他法律行政法规禁止公开",
        "其他法律行政法规禁止公开",
        &["其他法律法规禁止公开", "其它法律行政法规禁止公开"],
        "（三）不予公开",
    ),
    grouped(
        "withheld_security_stability",
        "3.危及“三安全一稳定”",
        "危及三安全一稳定",
        &[],
        "（三）不予公开",
    ),
    grouped(
        "withheld_third_party_rights",
        "4.保护第三方合法权益",
        "保护第三方合法权益",
        &[],
        "（三）不予公开",
    ),
    grouped(
        "withheld_internal_affairs",
        "5.属于三类内部事务信息",
        "属于三类内部事务信息",
        &[],
        "（三）不予公开",
    ),
    grouped(
        "withheld_process_information",
        "6.属于四类过程性信息",
        "属于四类过程性信息",
        &[],
        "（三）不予公开",
    ),
    grouped(
        "withheld_enforcement_case_file",
        "7.属于行政执法案卷",
        "属于行政执法案卷",
        &[],
        "（三）不予公开",
    ),
    grouped(
        "withheld_administrative_query",
        "8.属于行政查询事项",
        "属于行政查询事项",
        &[],
        "（三）不予公开",
    ),
    grouped(
        "unavailable_not_held",
        "1.本机关不掌握相关政府信息",
        "本机关不掌握相关政府信息",
        &[],
        "（四）无法提供",
    ),
    grouped(
        "unavailable_needs_creation",
        "2.没有现成信息需要另行制作",
        "没有现成信息需要另行制作",
        &[],
        "（四）无法提供",
    ),
    grouped(
        "unavailable_unclear",
        "3.补正后申请内容仍不明确",
        "补正后申请内容仍不明确",
        &[],
        "（四）无法提供",
    ),
    grouped(
        "not_processed_petition",
        "1.信访举报投诉类申请",
        "信访举报投诉类申请",
        &[],
        "（五）不予处理",
    ),
    grouped(
        "not_processed_duplicate",
        "2.重复申请",
        "重复申请",
        &[],
        "（五）不予处理",
    ),
    grouped(
        "not_processed_publication",
        "3.要求提供公开出版物",
        "要求提供公开出版物",
        &[],
        "（五）不予处理",
    ),
    grouped(
        "not_processed_excessive",
        "4.无正当理由大量反复申请",
        "无正当理由大量反复申请",
        &[],
        "（五）不予处理",
    ),
    grouped(
        "not_processed_confirmation",
        "5.要求行政机关确认或重新出具已获取信息",
        "要求行政机关确认或重新出具已获取信息",
        &[],
        "（五）不予处理",
    ),
    grouped(
        "other_overdue_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        &["申请人无正当理由逾期不补正，行政机关不再处理其政府信息公开申请"],
        "（六）其他处理",
    ),
    grouped(
        "other_unpaid_fee",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        &["申请人逾期未按收费通知要求缴纳费用，行政机关不再处理其政府信息公开申请"],
        "（六）其他处理",
    ),
    grouped(
        "other_other",
        "3.其他",
        "3.其他",
        &["3.其它"],
        "（六）其他处理",
    ),
    label(
        "other_handling",
        "（六）其他处理",
        "其他处理",
        &["其它处理"],
    ),
    label("total_handled", "（七）总计", "（七）总计", &["七）总计"]),
    label(
        "carried_forward",
        "四、结转下年度继续办理",
        "结转下年度继续办理",
        &[
            "结转下年度继续办理的政府信息公开申请数量",
            "结转下年度继续办理数量",
        ],
    ),
];

/// The label of a table 2 row.
pub fn app_row(row: AppRow) -> &'static Label {
    &APP_ROWS[row as usize]
}

/// Table 2's columns in [`AppColumn::ALL`] order: id, printed label (without the group),
/// and the label with its group for messages.
pub static APP_COLUMNS: [(&str, &str, &str); 7] = [
    ("natural_person", "自然人", "自然人"),
    (
        "commercial_enterprise",
        "商业企业",
        "法人或其他组织·商业企业",
    ),
    (
        "research_institution",
        "科研机构",
        "法人或其他组织·科研机构",
    ),
    (
        "social_welfare_organization",
        "社会公益组织",
        "法人或其他组织·社会公益组织",
    ),
    (
        "legal_service_institution",
        "法律服务机构",
        "法人或其他组织·法律服务机构",
    ),
    ("other_organization", "其他", "法人或其他组织·其他"),
    ("total", "总计", "总计"),
];

/// Table 2's column labels in [`AppColumn::ALL`] order, as printed (without the group).
pub fn app_column_printed(column: AppColumn) -> &'static str {
    APP_COLUMNS[column.index()].1
}

impl AppRow {
    /// The row id of check-json.md.
    pub fn id(self) -> &'static str {
        app_row(self).id
    }
}

impl AppColumn {
    /// The column id of check-json.md.
    pub fn id(self) -> &'static str {
        APP_COLUMNS[self.index()].0
    }

    /// The column label as printed in the template (法人或其他组织 columns with their group).
    pub fn label(self) -> &'static str {
        APP_COLUMNS[self.index()].2
    }
}

impl RowKey for AppRow {
    fn row_id(&self) -> &str {
        self.id()
    }
}

impl ColumnKey for AppColumn {
    fn column_id(&self) -> &str {
        self.id()
    }
}

impl RowKey for &T1Row {
    fn row_id(&self) -> &str {
        self.label.id
    }
}

impl ColumnKey for &Column {
    fn column_id(&self) -> &str {
        self.id
    }
}

/// The printed group label of table 2 outcome rows, e.g. `（三）不予公开` for row 1.属于国家秘密.
pub fn app_row_group(row: AppRow) -> Option<&'static str> {
    app_row(row).group
}

/// Where a table 2 row stands in the printed template, for messages: `三、（三）1.属于国家秘密`.
pub fn app_row_described(row: AppRow) -> String {
    let printed = app_row(row).printed;
    match app_row_group(row) {
        Some(group) => format!("“{group}”下的“{printed}”"),
        None => format!("“{printed}”"),
    }
}

/// A table as messages name it: `表一`, `表二`, `表三`.
pub fn table_name(table: u8) -> String {
    format!("表{}", table_numeral(table))
}

impl AppRow {
    /// The row label as printed in the template (`二、上年结转政府信息公开申请数量`).
    pub fn printed(self) -> &'static str {
        app_row(self).printed
    }
}

impl AppColumn {
    /// The column label as printed in the template, without its group (`商业企业`).
    pub fn printed(self) -> &'static str {
        app_column_printed(self)
    }
}

/// The 总计 of a table 2 row, as messages name it: `表二“（七）总计”的总计`.
pub fn app_total_named(row: AppRow) -> String {
    format!(
        "{}“{}”的{}",
        table_name(2),
        row.printed(),
        AppColumn::Total.printed()
    )
}

/// The printed label of table 3's group `id` (`行政复议`, `行政诉讼·复议后起诉`).
pub fn t3_group_printed(id: &str) -> Option<&'static str> {
    T3_GROUPS.iter().find(|(g, _)| *g == id).map(|(_, p)| *p)
}

/// The printed label of table 3's column `id` (`结果维持`, `总计`).
pub fn t3_column_printed(id: &str) -> Option<&'static str> {
    T3_COLUMNS.iter().find(|(c, _)| *c == id).map(|(_, p)| *p)
}

/// A table 3 group as messages name it: the group's printed label with `—` for the `·` of
/// its heading (`行政诉讼—复议后起诉`).
pub fn t3_group_named(printed: &str) -> String {
    printed.replace('·', "—")
}

/// The labels of table 3's columns `ids` (in [`T3_COLUMNS`] order) joined by `、`:
/// `结果维持、结果纠正、其他结果、尚未审结`.
pub fn t3_columns_listed(ids: &[&str]) -> String {
    T3_COLUMNS
        .iter()
        .filter(|(id, _)| ids.contains(id))
        .map(|(_, printed)| *printed)
        .collect::<Vec<_>>()
        .join("、")
}

/// What a cell accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A non-negative integer (negatives are read and left to validation).
    Count,
    /// A signed integer (2019's 本年增/减).
    Signed,
    /// A decimal amount (fees, procurement).
    Amount,
}

/// A column of table 1.
#[derive(Debug)]
pub struct Column {
    /// Column id of check-json.md.
    pub id: &'static str,
    /// As printed in the template's header.
    pub printed: &'static str,
    /// Short form for compact displays (`check --show`, the HTML mail).
    pub brief: &'static str,
    pub want: Want,
}

const fn column(
    id: &'static str,
    printed: &'static str,
    brief: &'static str,
    want: Want,
) -> Column {
    Column {
        id,
        printed,
        brief,
        want,
    }
}

/// A row of table 1 with the columns it fills (the template merges the others).
#[derive(Debug)]
pub struct T1Row {
    pub label: Label,
    pub columns: &'static [Column],
}

const DOCS_2021: &[Column] = &[
    column("issued", "本年制发件数", "制发", Want::Count),
    column("repealed", "本年废止件数", "废止", Want::Count),
    column("in_force", "现行有效件数", "现行有效", Want::Count),
];
const DECISIONS_2021: &[Column] = &[column(
    "decisions",
    "本年处理决定数量",
    "本年处理决定数量",
    Want::Count,
)];
const FEES_2021: &[Column] = &[column(
    "amount",
    "本年收费金额（单位：万元）",
    "本年收费金额，万元",
    Want::Amount,
)];
const DOCS_2019: &[Column] = &[
    column("made", "本年新制作数量", "新制作", Want::Count),
    column("published", "本年新公开数量", "新公开", Want::Count),
    column(
        "total_published",
        "对外公开总数量",
        "对外公开总数",
        Want::Count,
    ),
];
const ITEMS_2019: &[Column] = &[
    column("previous_year", "上一年项目数量", "上一年项目", Want::Count),
    column("change", "本年增/减", "本年增/减", Want::Signed),
    column("decisions", "处理决定数量", "处理决定", Want::Count),
];
const FEES_2019: &[Column] = &[
    column("previous_year", "上一年项目数量", "上一年项目", Want::Count),
    column("change", "本年增/减", "本年增/减", Want::Signed),
];
const PROCUREMENT_2019: &[Column] = &[
    column("projects", "采购项目数量", "采购项目", Want::Count),
    column("amount", "采购总金额", "采购总金额", Want::Amount),
];

const fn t1(label: Label, columns: &'static [Column]) -> T1Row {
    T1Row { label, columns }
}

// Table 1 rows both templates share.
const REGULATIONS: Label = label("regulations", "规章", "规章", &[]);
const LICENSING: Label = label("administrative_licensing", "行政许可", "行政许可", &[]);
const PUNISHMENT: Label = label("administrative_punishment", "行政处罚", "行政处罚", &[]);
const ENFORCEMENT: Label = label("administrative_enforcement", "行政强制", "行政强制", &[]);
const FEES: Label = label(
    "administrative_fees",
    "行政事业性收费",
    "行政事业性收费",
    &[],
);

/// Table 1 of the 2021 template, in printed order.
pub static T1_2021: [T1Row; 6] = [
    t1(REGULATIONS, DOCS_2021),
    t1(
        label(
            "normative_documents",
            "行政规范性文件",
            "行政规范性文件",
            &["规范性文件"],
        ),
        DOCS_2021,
    ),
    t1(LICENSING, DECISIONS_2021),
    t1(PUNISHMENT, DECISIONS_2021),
    t1(ENFORCEMENT, DECISIONS_2021),
    t1(FEES, FEES_2021),
];

/// Table 1 of the 2019 trial template, in printed order (规范性文件 is its own wording).
pub static T1_2019: [T1Row; 8] = [
    t1(REGULATIONS, DOCS_2019),
    t1(
        label("normative_documents", "规范性文件", "规范性文件", &[]),
        DOCS_2019,
    ),
    t1(LICENSING, ITEMS_2019),
    t1(
        label(
            "other_management_services",
            "其他对外管理服务事项",
            "其他对外管理服务事项",
            &["其它对外管理服务事项"],
        ),
        ITEMS_2019,
    ),
    t1(PUNISHMENT, ITEMS_2019),
    t1(ENFORCEMENT, ITEMS_2019),
    t1(FEES, FEES_2019),
    t1(
        label(
            "government_procurement",
            "政府集中采购",
            "政府集中采购",
            &[],
        ),
        PROCUREMENT_2019,
    ),
];

/// Table 1's rows in `template`.
pub fn t1_rows(template: Template) -> &'static [T1Row] {
    match template {
        Template::V2021 => &T1_2021,
        Template::V2019 => &T1_2019,
    }
}

/// Table 1's row `id` in `template`.
pub fn t1_row(template: Template, id: &str) -> Option<&'static T1Row> {
    t1_rows(template).iter().find(|r| r.label.id == id)
}

impl T1Row {
    /// The row's column `id`.
    pub fn column(&self, id: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.id == id)
    }
}

/// The printed label of table 1's row `id` in `template` (规范性文件 is 行政规范性文件 in the
/// 2021 template); `id` itself for an id that is no row.
pub fn t1_row_printed(template: Template, id: &str) -> &str {
    t1_row(template, id).map_or(id, |r| r.label.printed)
}

/// The printed label of table 1's column `column` of row `row` in `template`; `column` itself
/// for an id that is no column of that row.
pub fn t1_column_printed<'a>(template: Template, row: &str, column: &'a str) -> &'a str {
    t1_row(template, row)
        .and_then(|r| r.column(column))
        .map_or(column, |c| c.printed)
}

/// The printed label of row `row` (an id of check-json.md) of table 1, 2 or 3: for messages
/// that name places (a table 3 row is a group).
pub fn row_printed(table: u8, row: &str) -> Option<&'static str> {
    match table {
        1 => T1_2021
            .iter()
            .chain(&T1_2019)
            .find(|r| r.label.id == row)
            .map(|r| r.label.printed),
        2 => AppRow::ALL
            .iter()
            .find(|r| r.id() == row)
            .map(|r| app_row(*r).printed),
        3 => T3_GROUPS.iter().find(|(id, _)| *id == row).map(|(_, p)| *p),
        _ => None,
    }
}

/// The printed label of column `column` of table 2 or 3.
pub fn column_printed(table: u8, column: &str) -> Option<&'static str> {
    match table {
        2 => AppColumn::ALL
            .iter()
            .find(|c| c.id() == column)
            .map(|c| app_column_printed(*c)),
        3 => T3_COLUMNS
            .iter()
            .find(|(id, _)| *id == column)
            .map(|(_, p)| *p),
        _ => None,
    }
}

/// A cell as a clerk names it: `表二“（七）总计”行“自然人”列`.
pub fn cell_printed(table: u8, row: &str, column: &str) -> String {
    let numeral = table_numeral(table);
    let row = row_printed(table, row).unwrap_or(row);
    match column_printed(table, column) {
        Some(c) => format!("表{numeral}“{row}”行“{c}”列"),
        None => format!("表{numeral}“{row}”行"),
    }
}

/// One value of a table 1 cell: an integer, or a decimal amount as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum T1Value {
    Int(i64),
    Amount(String),
}

impl T1Value {
    pub fn int(v: &Option<T1Value>) -> Option<i64> {
        match v {
            Some(T1Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn amount(v: &Option<T1Value>) -> Option<String> {
        match v {
            Some(T1Value::Int(i)) => Some(i.to_string()),
            Some(T1Value::Amount(a)) => Some(a.clone()),
            None => None,
        }
    }

    /// As shown to people: the number, or the amount as written.
    pub fn shown(v: &Option<T1Value>) -> Option<String> {
        T1Value::amount(v)
    }
}

impl ActiveDisclosure {
    pub fn template(&self) -> Template {
        match self {
            ActiveDisclosure::V2021(_) => Template::V2021,
            ActiveDisclosure::V2019(_) => Template::V2019,
        }
    }

    /// The values of table 1 row `row` in its [`T1Row::columns`] order; `None` when the row
    /// was not read. The one place that maps the model's fields to the schema.
    pub fn row_values(&self, row: &str) -> Option<Vec<Option<T1Value>>> {
        let i = |v: Option<i64>| v.map(T1Value::Int);
        let a = |v: &Option<String>| v.clone().map(T1Value::Amount);
        let docs =
            |d: &Option<DocumentCounts>| d.map(|d| vec![i(d.issued), i(d.repealed), i(d.in_force)]);
        let pubs = |d: &Option<PublishedCounts>| {
            d.map(|d| vec![i(d.made), i(d.published), i(d.total_published)])
        };
        let items = |d: &Option<ItemCounts>| {
            d.map(|d| vec![i(d.previous_year), i(d.change), i(d.decisions)])
        };
        match self {
            ActiveDisclosure::V2021(t) => match row {
                "regulations" => docs(&t.regulations),
                "normative_documents" => docs(&t.normative_documents),
                "administrative_licensing" => t.administrative_licensing.map(|v| vec![i(Some(v))]),
                "administrative_punishment" => {
                    t.administrative_punishment.map(|v| vec![i(Some(v))])
                }
                "administrative_enforcement" => {
                    t.administrative_enforcement.map(|v| vec![i(Some(v))])
                }
                "administrative_fees" => t
                    .administrative_fees
                    .as_ref()
                    .map(|v| vec![a(&Some(v.clone()))]),
                _ => None,
            },
            ActiveDisclosure::V2019(t) => match row {
                "regulations" => pubs(&t.regulations),
                "normative_documents" => pubs(&t.normative_documents),
                "administrative_licensing" => items(&t.administrative_licensing),
                "other_management_services" => items(&t.other_management_services),
                "administrative_punishment" => items(&t.administrative_punishment),
                "administrative_enforcement" => items(&t.administrative_enforcement),
                "administrative_fees" => t
                    .administrative_fees
                    .map(|f| vec![i(f.previous_year), i(f.change)]),
                "government_procurement" => t
                    .government_procurement
                    .as_ref()
                    .map(|p| vec![i(p.projects), a(&p.amount)]),
                _ => None,
            },
        }
    }

    /// Builds table 1 from the values read per row id (in [`T1Row::columns`] order).
    pub fn from_rows(
        template: Template,
        get: impl Fn(&str) -> Option<Vec<Option<T1Value>>>,
    ) -> ActiveDisclosure {
        let at = |v: &[Option<T1Value>], k: usize| v.get(k).cloned().flatten();
        let int = |v: &[Option<T1Value>], k: usize| T1Value::int(&at(v, k));
        let amount = |v: &[Option<T1Value>], k: usize| T1Value::amount(&at(v, k));
        let docs = |v: Vec<Option<T1Value>>| DocumentCounts {
            issued: int(&v, 0),
            repealed: int(&v, 1),
            in_force: int(&v, 2),
        };
        let pubs = |v: Vec<Option<T1Value>>| PublishedCounts {
            made: int(&v, 0),
            published: int(&v, 1),
            total_published: int(&v, 2),
        };
        let items = |v: Vec<Option<T1Value>>| ItemCounts {
            previous_year: int(&v, 0),
            change: int(&v, 1),
            decisions: int(&v, 2),
        };
        match template {
            Template::V2021 => ActiveDisclosure::V2021(ActiveDisclosure2021 {
                regulations: get("regulations").map(docs),
                normative_documents: get("normative_documents").map(docs),
                administrative_licensing: get("administrative_licensing").and_then(|v| int(&v, 0)),
                administrative_punishment: get("administrative_punishment")
                    .and_then(|v| int(&v, 0)),
                administrative_enforcement: get("administrative_enforcement")
                    .and_then(|v| int(&v, 0)),
                administrative_fees: get("administrative_fees").and_then(|v| amount(&v, 0)),
            }),
            Template::V2019 => ActiveDisclosure::V2019(ActiveDisclosure2019 {
                regulations: get("regulations").map(pubs),
                normative_documents: get("normative_documents").map(pubs),
                administrative_licensing: get("administrative_licensing").map(items),
                other_management_services: get("other_management_services").map(items),
                administrative_punishment: get("administrative_punishment").map(items),
                administrative_enforcement: get("administrative_enforcement").map(items),
                administrative_fees: get("administrative_fees").map(|v| FeeItems {
                    previous_year: int(&v, 0),
                    change: int(&v, 1),
                }),
                government_procurement: get("government_procurement").map(|v| Procurement {
                    projects: int(&v, 0),
                    amount: amount(&v, 1),
                }),
            }),
        }
    }

    /// Every cell of table 1 in template order, `None` where not given.
    pub fn cells(&self) -> Vec<(&'static T1Row, &'static Column, Option<T1Value>)> {
        let mut out = Vec::new();
        for row in t1_rows(self.template()) {
            let values = self.row_values(row.label.id);
            for (k, column) in row.columns.iter().enumerate() {
                let v = values.as_ref().and_then(|v| v.get(k).cloned().flatten());
                out.push((row, column, v));
            }
        }
        out
    }
}

/// Table 1 column headers of the 2021 template.
pub static T1_HEADERS_2021: [Label; 5] = [
    label(
        "issued",
        "本年制发件数",
        "本年制发件数",
        &["本年制定件数", "本年发布件数"],
    ),
    label(
        "repealed",
        "本年废止件数",
        "本年废止件数",
        &["本年度止件数", "本年度废止件数"],
    ),
    label("in_force", "现行有效件数", "现行有效件数", &[]),
    label(
        "decisions",
        "本年处理决定数量",
        "本年处理决定数量",
        &["本年度处理决定数量"],
    ),
    label(
        "fee_amount",
        "本年收费金额（单位：万元）",
        "本年收费金额（单位：万元）",
        &[
            "本年收费金额（单位：万元，保留4位小数）",
            "本年收费金额（万元）",
            "本年收费金额",
        ],
    ),
];

/// Table 1 column headers of the 2019 trial template.
pub static T1_HEADERS_2019: [Label; 7] = [
    label("made", "本年新制作数量", "本年新制作数量", &[]),
    label("published", "本年新公开数量", "本年新公开数量", &[]),
    label("total_published", "对外公开总数量", "对外公开总数量", &[]),
    label("previous_year", "上一年项目数量", "上一年项目数量", &[]),
    label("change", "本年增/减", "本年增/减", &["本年增/", "本年增减"]),
    label("projects", "采购项目数量", "采购项目数量", &[]),
    label("amount", "采购总金额", "采购总金额", &[]),
];

/// Table 3's groups and columns as printed.
pub const T3_GROUPS: [(&str, &str); 3] = [
    ("review", "行政复议"),
    ("litigation_direct", "行政诉讼·未经复议直接起诉"),
    ("litigation_after_review", "行政诉讼·复议后起诉"),
];
pub const T3_COLUMNS: [(&str, &str); 5] = [
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
];

/// The six section headings: standard wording and keywords that identify a variant.
pub struct SectionHeading {
    pub number: u8,
    pub numeral: char,
    pub standard: &'static str,
    /// Any of these (normalized) in a short numbered line makes it this heading.
    pub keys: &'static [&'static str],
}

pub static SECTIONS: [SectionHeading; 6] = [
    SectionHeading {
        number: 1,
        numeral: '一',
        standard: "总体情况",
        keys: &["总体情况", "概述", "基本情况"],
    },
    SectionHeading {
        number: 2,
        numeral: '二',
        standard: "主动公开政府信息情况",
        keys: &["主动公开"],
    },
    SectionHeading {
        number: 3,
        numeral: '三',
        standard: "收到和处理政府信息公开申请情况",
        keys: &[
            "收到和处理",
            "依申请公开",
            "政府信息公开申请情况",
            "处理政府信息公开申请",
        ],
    },
    SectionHeading {
        number: 4,
        numeral: '四',
        standard: "政府信息公开行政复议、行政诉讼情况",
        keys: &["行政复议", "行政诉讼"],
    },
    SectionHeading {
        number: 5,
        numeral: '五',
        standard: "存在的主要问题及改进情况",
        keys: &[
            "存在的主要问题",
            "存在问题",
            "主要问题",
            "改进情况",
            "改进措施",
        ],
    },
    SectionHeading {
        number: 6,
        numeral: '六',
        standard: "其他需要报告的事项",
        keys: &["其他需要报告", "其它需要报告", "其他事项"],
    },
];

/// The template's own sentences, which every report may repeat word for word, year after
/// year and agency after agency: a sentence holding one of these is left out when texts are
/// compared for copying (`history.text_copied`, `history.text_shared`). The statistics
/// period and the table's introduction are 30号's wording; the basis sentence is how 30号
/// and 60号 open the report.
pub static TEMPLATE_SENTENCES: [&str; 6] = [
    "统计期限",
    "如下表",
    "本报告根据",
    "本年度报告根据",
    "年度报告格式",
    "以下简称《条例》",
];

/// What the tables must show for a statement of the narrative to hold: the claim is refuted
/// when the figure is above 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimTest {
    /// The 总计 column of this row of table 2.
    T2Total(AppRow),
    /// Table 1's 行政事业性收费 amount (2021 template; 万元).
    T1Fee,
    /// The sum of these columns (ids of [`T3_COLUMNS`]) of table 3 in these groups.
    T3(T3Scope, &'static [&'static str]),
}

/// The groups of table 3 a claim speaks of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T3Scope {
    /// 行政复议.
    Review,
    /// 行政诉讼: both of its groups (未经复议直接起诉, 复议后起诉).
    Litigation,
    /// Those the sentence names (复议, 诉讼), up to the claim; all three when it names neither.
    Named,
}

impl T3Scope {
    /// The group ids of [`T3_GROUPS`] for a sentence that names 复议 (`review`) or 诉讼
    /// (`litigation`).
    pub fn groups(self, review: bool, litigation: bool) -> Vec<&'static str> {
        let (review, litigation) = match self {
            T3Scope::Review => (true, false),
            T3Scope::Litigation => (false, true),
            T3Scope::Named if review == litigation => (true, true),
            T3Scope::Named => (review, litigation),
        };
        T3_GROUPS
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| if *id == "review" { review } else { litigation })
            .collect()
    }
}

/// A statement the narrative makes that the tables can refute (`narrative.contradiction`).
#[derive(Debug)]
pub struct Claim {
    /// What the statement says, for messages (`所有申请均已办结`).
    pub says: &'static str,
    /// Regular expressions, any of which makes the claim in one clause (white space removed;
    /// clauses end at ，。；).
    pub phrases: &'static [&'static str],
    /// A clause that also holds one of these does not make the claim (`上年结转的申请均已办结`
    /// speaks of last year's; `未被行政复议纠正` of the outcome, not of the number).
    pub unless: &'static [&'static str],
    /// The sentence, up to the clause, must name one of these (the claim's subject: a
    /// `已全部办结` after `区长信箱投诉件16个` speaks of complaints, not of applications).
    /// Empty: the phrases name it themselves.
    pub topic: &'static [&'static str],
    pub refuted_when: ClaimTest,
    /// What the table then shows, for messages (`仍有申请结转下年度继续办理`).
    pub table_shows: &'static str,
}

/// The claims checked against the tables. A clause is matched as written, so each phrase is
/// narrow: a false alarm on a correct report costs the clerk more than a missed claim.
pub static CLAIMS: [Claim; 9] = [
    Claim {
        says: "所有申请均已办结",
        phrases: &[
            r"(?:申请|件)(?:均|全部|都)(?:已|已经)?(?:按时|依法|按期)?(?:办结|办理完毕|办理完成|处理完毕|答复完毕)",
            r"(?:均|全部|都)已(?:按时|依法|按期)?(?:办结|办理完毕|办理完成|处理完毕)",
            r"(?:无|没有|未有)(?:申请)?结转(?:至|到)?下一?年度",
            r"已全部办结",
        ],
        unless: &[
            "上年",
            "上一年",
            "去年",
            "以前年度",
            "往年",
            "结转的",
            "复议",
            "诉讼",
        ],
        topic: &["申请"],
        refuted_when: ClaimTest::T2Total(AppRow::CarriedForward),
        table_shows: "仍有申请结转下年度继续办理",
    },
    Claim {
        says: "没有收到政府信息公开申请",
        phrases: &[
            r"(?:未|没有)(?:收到|受理|接到)(?:任何)?(?:政府信息公开|依申请公开|信息公开)(?:的)?申请",
            r"(?:无|没有)(?:依申请公开|政府信息公开申请)(?:事项|情况|件)?$",
        ],
        unless: &["以外", "之外", "除", "涉及", "类"],
        topic: &[],
        refuted_when: ClaimTest::T2Total(AppRow::NewReceived),
        table_shows: "本年新收了政府信息公开申请",
    },
    Claim {
        says: "没有收取行政事业性收费",
        phrases: &[
            r"(?:未|没有|无|不)(?:收取|征收|发生)?(?:任何)?行政事业性收费",
            r"行政事业性收费(?:金额)?(?:为|是)?(?:零|无)(?:万元)?$",
        ],
        unless: &["项目", "减免", "免收", "清理"],
        topic: &[],
        refuted_when: ClaimTest::T1Fee,
        table_shows: "报告了本年收费金额",
    },
    Claim {
        says: "没有发出收费通知",
        phrases: &[
            r"(?:未|没有)(?:发出|下发|出具|送达|开具)(?:任何)?(?:信息处理费)?(?:的)?收费通知",
        ],
        unless: &[],
        topic: &[],
        refuted_when: ClaimTest::T2Total(AppRow::OtherUnpaidFee),
        table_shows: "有申请人逾期未按收费通知要求缴纳费用（说明发出过收费通知）",
    },
    Claim {
        says: "没有发生行政复议",
        phrases: &[
            r"(?:未|没有|无)(?:发生|收到|出现|涉及|提起|被提起)?(?:政府信息公开|信息公开|因政府信息公开(?:工作)?引起的?|涉及政府信息公开的?)?(?:方面的?)?(?:的)?行政复议",
            r"行政复议(?:案件)?(?:为|是)?(?:零|无)(?:件|起)?$",
        ],
        unless: &[
            "纠正",
            "败诉",
            "撤销",
            "确认违法",
            "被复议",
            "维持",
            "审结",
            "以外",
            "之外",
            "除",
        ],
        topic: &[],
        refuted_when: ClaimTest::T3(T3Scope::Review, &["total"]),
        table_shows: "有行政复议案件",
    },
    Claim {
        says: "没有发生行政诉讼",
        phrases: &[
            r"(?:未|没有|无)(?:发生|收到|出现|涉及|提起|被提起)?(?:政府信息公开|信息公开|因政府信息公开(?:工作)?引起的?|涉及政府信息公开的?)?(?:方面的?)?(?:的)?(?:行政复议(?:和|及|、|或)?)?行政诉讼",
            r"行政诉讼(?:案件)?(?:为|是)?(?:零|无)(?:件|起)?$",
        ],
        unless: &[
            "纠正",
            "败诉",
            "撤销",
            "确认违法",
            "维持",
            "审结",
            "以外",
            "之外",
            "除",
        ],
        topic: &[],
        refuted_when: ClaimTest::T3(T3Scope::Litigation, &["total"]),
        table_shows: "有行政诉讼案件",
    },
    Claim {
        says: "行政复议、行政诉讼案件均已审结",
        phrases: &[r"(?:均|全部|都)(?:已|已经)?(?:审结|结案)"],
        unless: &["未", "尚", "部分", "上年", "以前年度"],
        topic: &["复议", "诉讼"],
        refuted_when: ClaimTest::T3(T3Scope::Named, &["pending"]),
        table_shows: "有尚未审结的案件",
    },
    Claim {
        says: "行政复议、行政诉讼案件均获维持",
        phrases: &[r"(?:均|全部|都)(?:被|获|予以|得到)?(?:依法)?维持"],
        unless: &["未", "尚", "部分"],
        topic: &["复议", "诉讼"],
        refuted_when: ClaimTest::T3(T3Scope::Named, &["corrected", "other", "pending"]),
        table_shows: "有结果纠正、其他结果或尚未审结的案件",
    },
    Claim {
        says: "没有案件被纠正或败诉",
        phrases: &[
            r"(?:均|全部|都)?(?:未|没有)(?:被)?(?:复议机关|复议|法院|判决)?(?:纠正|撤销|确认违法)",
            r"(?:无|没有|未)(?:发生)?(?:一起)?败诉",
        ],
        unless: &[],
        topic: &["复议", "诉讼"],
        refuted_when: ClaimTest::T3(T3Scope::Named, &["corrected"]),
        table_shows: "有结果纠正的案件",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::normalize::normalize;

    #[test]
    fn labels_are_normalized_and_in_row_order() {
        for (row, label) in AppRow::ALL.iter().zip(APP_ROWS.iter()) {
            assert_eq!(normalize(label.core), label.core, "{}", label.id);
            assert_eq!(serde_json::to_value(row).unwrap(), label.id);
        }
        for l in T1_2021
            .iter()
            .chain(&T1_2019)
            .map(|r| &r.label)
            .chain(&T1_HEADERS_2021)
            .chain(&T1_HEADERS_2019)
        {
            assert_eq!(normalize(l.core), l.core, "{}", l.id);
            for v in l.variants {
                assert_eq!(normalize(v), *v, "{}", l.id);
            }
        }
    }
}

/// Why a cell of a stored report could not be set (said to the officer, in Chinese).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetCellError {
    #[error("报告中没有读出表{}，无法更正其中的格；请按原件核对后退回或予以受理。", table_numeral(*.0))]
    NoTable(u8),
    #[error("模板中没有这一格：表{table}，行 {row}，列 {column}。")]
    NoCell {
        table: u8,
        row: String,
        column: String,
    },
    #[error("{0}是金额格，只能在原件中更正，不能在此更正。")]
    Amount(String),
}

fn table_numeral(table: u8) -> &'static str {
    ["", "一", "二", "三"]
        .get(usize::from(table))
        .copied()
        .unwrap_or("")
}

impl Report {
    /// Sets the integer cell `column` of row `row` in `table` (ids of check-json.md) to
    /// `value` (`None`: blank) and returns what it held. For the officer's correction of a
    /// scan's reading (issue 25): the model stays the one type every stage reads, so the
    /// corrected report is checked, stored, exported and mailed like any other.
    pub fn set_cell(
        &mut self,
        table: u8,
        row: &str,
        column: &str,
        value: Option<i64>,
    ) -> Result<Option<i64>, SetCellError> {
        let no_cell = || SetCellError::NoCell {
            table,
            row: row.to_string(),
            column: column.to_string(),
        };
        match table {
            1 => {
                let t1 = self
                    .active_disclosure
                    .as_mut()
                    .ok_or(SetCellError::NoTable(1))?;
                let template = t1.template();
                let spec = t1_rows(template)
                    .iter()
                    .find(|r| r.label.id == row)
                    .ok_or_else(no_cell)?;
                let k = spec
                    .columns
                    .iter()
                    .position(|c| c.id == column)
                    .ok_or_else(no_cell)?;
                if spec.columns.get(k).map(|c| c.want) == Some(Want::Amount) {
                    return Err(SetCellError::Amount(cell_printed(1, row, column)));
                }
                let mut values = t1
                    .row_values(row)
                    .unwrap_or_else(|| vec![None; spec.columns.len()]);
                values.resize(spec.columns.len(), None);
                let old = values.get(k).cloned().flatten();
                if let Some(slot) = values.get_mut(k) {
                    *slot = value.map(T1Value::Int);
                }
                let rows: Vec<(&str, Option<Vec<Option<T1Value>>>)> = t1_rows(template)
                    .iter()
                    .map(|r| {
                        let v = if r.label.id == row {
                            Some(values.clone())
                        } else {
                            t1.row_values(r.label.id)
                        };
                        (r.label.id, v)
                    })
                    .collect();
                *t1 = ActiveDisclosure::from_rows(template, |id| {
                    rows.iter()
                        .find(|(r, _)| *r == id)
                        .and_then(|(_, v)| v.clone())
                });
                Ok(T1Value::int(&old))
            }
            2 => {
                let apps = self.applications.as_mut().ok_or(SetCellError::NoTable(2))?;
                let r = AppRow::ALL
                    .into_iter()
                    .find(|r| r.id() == row)
                    .ok_or_else(no_cell)?;
                let c = AppColumn::ALL
                    .into_iter()
                    .find(|c| c.id() == column)
                    .ok_or_else(no_cell)?;
                let values = apps.rows.entry(r).or_insert(None).get_or_insert([None; 7]);
                let slot = values.get_mut(c.index()).ok_or_else(no_cell)?;
                Ok(std::mem::replace(slot, value))
            }
            3 => {
                let t3 = self
                    .reviews_and_litigation
                    .as_mut()
                    .ok_or(SetCellError::NoTable(3))?;
                let group = match row {
                    "review" => &mut t3.review,
                    "litigation_direct" => &mut t3.litigation_direct,
                    "litigation_after_review" => &mut t3.litigation_after_review,
                    _ => return Err(no_cell()),
                };
                let slot = match column {
                    "upheld" => &mut group.upheld,
                    "corrected" => &mut group.corrected,
                    "other" => &mut group.other,
                    "pending" => &mut group.pending,
                    "total" => &mut group.total,
                    _ => return Err(no_cell()),
                };
                Ok(std::mem::replace(slot, value))
            }
            _ => Err(no_cell()),
        }
    }
}
