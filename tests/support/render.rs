//! Reports -> bytes, in each layout of the template that agencies really send.

use std::io::Write;

use nianbao::report::schema::{APP_ROWS, app_column_printed};
use nianbao::report::*;
use rand::Rng;

mod wild;

/// How the file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Word table saved as text: one cell per line with a leading tab, blank line between rows.
    WordText,
    /// One row per line, cells separated by tabs, merged cells as empty cells.
    TabRows,
    /// Copied from a portal page: every cell on its own line, half-width punctuation, chrome.
    PortalCopy,
    /// A PDF text layer: rows as `label v1 v2 …`, labels broken over lines, page markers.
    PdfText,
    Html,
    Docx,
    /// An Excel workbook: paragraphs in column A, tables as merged cell grids, values as
    /// numbers, as text or as formulas with cached results; table 3 on a second sheet at
    /// random.
    Xlsx,
    /// A PDF written directly, text in the non-embedded CID font STSong-Light with the
    /// UniGB-UCS2-H encoding, table rows drawn at cell positions, in a random drawing order.
    Pdf,
    /// Text perturbed the ways real reports differ ([`wild`]).
    Wild,
    /// Wild, and a 2021 report's three （六） sub-rows written as the single 2019-style
    /// （六）其他处理 row with their sum.
    WildSix,
}

impl Layout {
    pub const ALL: [Layout; 6] = [
        Layout::WordText,
        Layout::TabRows,
        Layout::PortalCopy,
        Layout::PdfText,
        Layout::Html,
        Layout::Docx,
    ];

    pub fn is_text(self) -> bool {
        !matches!(
            self,
            Layout::Html | Layout::Docx | Layout::Xlsx | Layout::Pdf
        )
    }

    pub fn extension(self) -> &'static str {
        match self {
            Layout::Html => "html",
            Layout::Docx => "docx",
            Layout::Xlsx => "xlsx",
            Layout::Pdf => "pdf",
            _ => "txt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Gb18030,
    Utf16Le,
    Utf16LeBom,
    Utf16BeBom,
}

impl TextEncoding {
    pub const ALL: [TextEncoding; 6] = [
        TextEncoding::Utf8,
        TextEncoding::Utf8Bom,
        TextEncoding::Gb18030,
        TextEncoding::Utf16Le,
        TextEncoding::Utf16LeBom,
        TextEncoding::Utf16BeBom,
    ];

    /// The name the checker reports.
    pub fn detected_name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => "UTF-8",
            TextEncoding::Gb18030 => "GB18030",
            TextEncoding::Utf16Le | TextEncoding::Utf16LeBom => "UTF-16LE",
            TextEncoding::Utf16BeBom => "UTF-16BE",
        }
    }

    fn encode(self, text: &str) -> Vec<u8> {
        match self {
            TextEncoding::Utf8 => text.as_bytes().to_vec(),
            TextEncoding::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
            TextEncoding::Gb18030 => encoding_rs::GB18030.encode(text).0.into_owned(),
            TextEncoding::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            TextEncoding::Utf16LeBom => {
                let mut v = vec![0xFF, 0xFE];
                v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
                v
            }
            TextEncoding::Utf16BeBom => {
                let mut v = vec![0xFE, 0xFF];
                v.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
                v
            }
        }
    }
}

/// One defect put into an otherwise valid rendering (for mutation tests).
#[derive(Debug, Clone, PartialEq)]
pub enum Defect {
    /// Leave out a section (heading and text; its table too).
    DropSection(u8),
    /// Leave out table 1, 2 or 3 (the section stays).
    DropTable(u8),
    /// State the statistics period for another year.
    PeriodYear(i32),
    /// State another number of received applications in the narrative.
    NarrativeReceived(i64),
    /// Write this text in a value cell instead of its number.
    CellText {
        table: u8,
        row: &'static str,
        column: &'static str,
        text: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub defects: Vec<Defect>,
    /// Seed for the layout's own variations (spacing, breaks, page markers).
    pub seed: u64,
}

type Key = (u8, &'static str, &'static str);

/// A grid cell at its top-left position, as HTML would list it.
#[derive(Debug, Clone)]
struct GCell {
    text: String,
    rowspan: usize,
    colspan: usize,
    key: Option<Key>,
}

fn cell(text: &str) -> GCell {
    GCell {
        text: text.to_string(),
        rowspan: 1,
        colspan: 1,
        key: None,
    }
}

fn span(text: &str, rowspan: usize, colspan: usize) -> GCell {
    GCell {
        text: text.to_string(),
        rowspan,
        colspan,
        key: None,
    }
}

fn value(v: Option<i64>, key: Key) -> GCell {
    GCell {
        text: v.map_or(String::new(), |v| v.to_string()),
        rowspan: 1,
        colspan: 1,
        key: Some(key),
    }
}

fn amount(v: &Option<String>, key: Key, colspan: usize) -> GCell {
    GCell {
        text: v.clone().unwrap_or_default(),
        rowspan: 1,
        colspan,
        key: Some(key),
    }
}

#[derive(Debug, Clone)]
enum Item {
    Title(String),
    Heading(String),
    Para(String),
    Grid(Vec<Vec<GCell>>),
}

fn t1_grid(t: &ActiveDisclosure) -> Vec<Vec<GCell>> {
    let mut g: Vec<Vec<GCell>> = Vec::new();
    let header = |g: &mut Vec<Vec<GCell>>, item: &str, cols: &[&str], width: usize| {
        g.push(vec![span(item, 1, width)]);
        let mut row = vec![cell("信息内容")];
        let last = cols.len() - 1;
        for (i, c) in cols.iter().enumerate() {
            row.push(span(c, 1, if i == last { width - cols.len() } else { 1 }));
        }
        g.push(row);
    };
    match t {
        ActiveDisclosure::V2021(t) => {
            header(
                &mut g,
                "第二十条第（一）项",
                &["本年制发件数", "本年废止件数", "现行有效件数"],
                4,
            );
            for (id, label, c) in [
                ("regulations", "规章", t.regulations),
                (
                    "normative_documents",
                    "行政规范性文件",
                    t.normative_documents,
                ),
            ] {
                let c = c.unwrap_or_default();
                g.push(vec![
                    cell(label),
                    value(c.issued, (1, id, "issued")),
                    value(c.repealed, (1, id, "repealed")),
                    value(c.in_force, (1, id, "in_force")),
                ]);
            }
            header(&mut g, "第二十条第（五）项", &["本年处理决定数量"], 4);
            let one = |id: &'static str, label: &str, v: Option<i64>| {
                let mut c = value(v, (1, id, "decisions"));
                c.colspan = 3;
                vec![cell(label), c]
            };
            g.push(one(
                "administrative_licensing",
                "行政许可",
                t.administrative_licensing,
            ));
            header(&mut g, "第二十条第（六）项", &["本年处理决定数量"], 4);
            g.push(one(
                "administrative_punishment",
                "行政处罚",
                t.administrative_punishment,
            ));
            g.push(one(
                "administrative_enforcement",
                "行政强制",
                t.administrative_enforcement,
            ));
            header(
                &mut g,
                "第二十条第（八）项",
                &["本年收费金额（单位：万元）"],
                4,
            );
            g.push(vec![
                cell("行政事业性收费"),
                amount(
                    &t.administrative_fees,
                    (1, "administrative_fees", "amount"),
                    3,
                ),
            ]);
        }
        ActiveDisclosure::V2019(t) => {
            header(
                &mut g,
                "第二十条第（一）项",
                &["本年新制作数量", "本年新公开数量", "对外公开总数量"],
                4,
            );
            for (id, label, c) in [
                ("regulations", "规章", t.regulations),
                ("normative_documents", "规范性文件", t.normative_documents),
            ] {
                let c = c.unwrap_or_default();
                g.push(vec![
                    cell(label),
                    value(c.made, (1, id, "made")),
                    value(c.published, (1, id, "published")),
                    value(c.total_published, (1, id, "total_published")),
                ]);
            }
            let items = |id: &'static str, label: &str, c: Option<ItemCounts>| {
                let c = c.unwrap_or_default();
                vec![
                    cell(label),
                    value(c.previous_year, (1, id, "previous_year")),
                    value(c.change, (1, id, "change")),
                    value(c.decisions, (1, id, "decisions")),
                ]
            };
            header(
                &mut g,
                "第二十条第（五）项",
                &["上一年项目数量", "本年增/减", "处理决定数量"],
                4,
            );
            g.push(items(
                "administrative_licensing",
                "行政许可",
                t.administrative_licensing,
            ));
            g.push(items(
                "other_management_services",
                "其他对外管理服务事项",
                t.other_management_services,
            ));
            header(
                &mut g,
                "第二十条第（六）项",
                &["上一年项目数量", "本年增/减", "处理决定数量"],
                4,
            );
            g.push(items(
                "administrative_punishment",
                "行政处罚",
                t.administrative_punishment,
            ));
            g.push(items(
                "administrative_enforcement",
                "行政强制",
                t.administrative_enforcement,
            ));
            header(
                &mut g,
                "第二十条第（八）项",
                &["上一年项目数量", "本年增/减"],
                4,
            );
            let f = t.administrative_fees.unwrap_or_default();
            let mut change = value(f.change, (1, "administrative_fees", "change"));
            change.colspan = 2;
            g.push(vec![
                cell("行政事业性收费"),
                value(f.previous_year, (1, "administrative_fees", "previous_year")),
                change,
            ]);
            header(
                &mut g,
                "第二十条第（九）项",
                &["采购项目数量", "采购总金额"],
                4,
            );
            let p = t.government_procurement.clone().unwrap_or_default();
            g.push(vec![
                cell("政府集中采购"),
                value(p.projects, (1, "government_procurement", "projects")),
                amount(&p.amount, (1, "government_procurement", "amount"), 2),
            ]);
        }
    }
    g
}

fn t2_grid(apps: &Applications, template: Template) -> Vec<Vec<GCell>> {
    let mut g = vec![
        vec![
            span(
                "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
                3,
                3,
            ),
            span("申请人情况", 1, 7),
        ],
        vec![
            span("自然人", 2, 1),
            span("法人或其他组织", 1, 5),
            span("总计", 2, 1),
        ],
        vec![
            cell("商业\n企业"),
            cell("科研\n机构"),
            cell("社会公益组织"),
            cell("法律服务机构"),
            cell("其他"),
        ],
    ];
    let rows: Vec<AppRow> = AppRow::for_template(template).collect();
    let outcome_count = rows.iter().filter(|r| r.is_outcome()).count();
    let mut group_seen: Vec<&str> = Vec::new();
    let mut first_outcome = true;
    for row in rows {
        let label = APP_ROWS[row as usize].printed;
        let mut r: Vec<GCell> = Vec::new();
        if row.is_outcome() {
            if first_outcome {
                // 三 spans every outcome row and （七）总计.
                r.push(span("三、本年度办理结果", outcome_count + 1, 1));
                first_outcome = false;
            }
            match nianbao::report::schema::app_row_group(row) {
                Some(group) => {
                    if !group_seen.contains(&group) {
                        let n = AppRow::for_template(template)
                            .filter(|x| nianbao::report::schema::app_row_group(*x) == Some(group))
                            .count();
                        r.push(span(group, n, 1));
                        group_seen.push(group);
                    }
                    r.push(cell(label));
                }
                None => r.push(span(label, 1, 2)),
            }
        } else if row == AppRow::TotalHandled {
            r.push(span(label, 1, 2));
        } else {
            r.push(span(label, 1, 3));
        }
        let values = apps.rows.get(&row).cloned().flatten().unwrap_or([None; 7]);
        for c in AppColumn::ALL {
            r.push(value(values[c.index()], (2, row.id(), c.id())));
        }
        g.push(r);
    }
    g
}

fn t3_grid(t: &ReviewsAndLitigation) -> Vec<Vec<GCell>> {
    let results = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"];
    let mut g = vec![vec![span("行政复议", 1, 5), span("行政诉讼", 1, 10)]];
    let mut r2: Vec<GCell> = results
        .iter()
        .map(|l| span(&l.replace("结果", "结果\n"), 2, 1))
        .collect();
    r2.push(span("未经复议直接起诉", 1, 5));
    r2.push(span("复议后起诉", 1, 5));
    g.push(r2);
    g.push(
        results
            .iter()
            .chain(results.iter())
            .map(|l| cell(l))
            .collect(),
    );
    let mut data = Vec::new();
    for (id, group) in t.groups() {
        for ((column, _), v) in nianbao::report::schema::T3_COLUMNS
            .iter()
            .zip(group.values())
        {
            data.push(value(v, (3, id, column)));
        }
    }
    g.push(data);
    g
}

/// The report as the national template prints it, with narrative consistent with it.
fn document(r: &Report, defects: &[Defect]) -> Vec<Item> {
    let agency = r.agency.clone().unwrap_or_default();
    let year = r.year.unwrap_or(2023);
    let apps = r.applications.clone().unwrap_or_default();
    let total = |row: AppRow| apps.get(row).and_then(|v| v[6]).unwrap_or(0);
    let t3 = r.reviews_and_litigation.unwrap_or_default();
    let drop_section = |n: u8| defects.contains(&Defect::DropSection(n));
    let drop_table = |n: u8| defects.contains(&Defect::DropTable(n));
    let period_year = defects
        .iter()
        .find_map(|d| {
            if let Defect::PeriodYear(y) = d {
                Some(*y)
            } else {
                None
            }
        })
        .unwrap_or(year);
    let received_delta = defects
        .iter()
        .find_map(|d| {
            if let Defect::NarrativeReceived(n) = d {
                Some(*n)
            } else {
                None
            }
        })
        .unwrap_or(0);
    let mut doc = vec![Item::Title(format!(
        "{agency}{year}年政府信息公开工作年度报告"
    ))];
    let mut section = |n: u8, heading: &str, paras: Vec<String>, grid: Option<Vec<Vec<GCell>>>| {
        if drop_section(n) {
            return;
        }
        doc.push(Item::Heading(heading.to_string()));
        doc.extend(paras.into_iter().map(Item::Para));
        if let Some(g) = grid {
            let dropped = (2..=4).contains(&n) && drop_table(n - 1);
            if !dropped {
                doc.push(Item::Grid(g));
            }
        }
    };
    let issued = match &r.active_disclosure {
        Some(ActiveDisclosure::V2021(t)) => t.normative_documents.and_then(|c| c.issued),
        _ => None,
    };
    section(
        1,
        "一、总体情况",
        vec![
            format!(
                "本报告中所列数据的统计期限自{period_year}年1月1日起至{period_year}年12月31日止。"
            ),
            format!(
                "（一）主动公开。{year}年，本机关认真落实政务公开工作要点{}。",
                issued.map_or(String::new(), |n| format!("，全年制发行政规范性文件{n}件"))
            ),
            format!(
                "（二）依申请公开。本年度共收到政府信息公开申请{}件，上年结转{}件，办结申请{}件，结转下年度继续办理{}件。",
                total(AppRow::NewReceived) + received_delta,
                total(AppRow::CarriedOver),
                total(AppRow::TotalHandled),
                total(AppRow::CarriedForward)
            ),
        ]
        .into_iter()
        .chain(super::narrative::paragraphs(r, 1).unwrap_or_else(|| {
            vec![
                "（三）政府信息管理。严格执行保密审查制度，动态更新政府信息公开指南和目录。"
                    .to_string(),
                "（四）平台建设。持续优化政府网站信息公开专栏，及时更新栏目内容。".to_string(),
                "（五）监督保障。将政务公开纳入年度绩效考核，开展业务培训。".to_string(),
            ]
        }))
        .collect(),
        None,
    );
    section(
        2,
        "二、主动公开政府信息情况",
        vec!["本年度主动公开政府信息情况统计如下表：".to_string()],
        r.active_disclosure.as_ref().map(t1_grid),
    );
    section(
        3,
        "三、收到和处理政府信息公开申请情况",
        vec!["具体情况统计如下表：".to_string()],
        r.template.map(|t| t2_grid(&apps, t)),
    );
    let litigation =
        t3.litigation_direct.total.unwrap_or(0) + t3.litigation_after_review.total.unwrap_or(0);
    section(
        4,
        "四、政府信息公开行政复议、行政诉讼情况",
        vec![format!(
            "本年度发生政府信息公开行政复议{}件，行政诉讼{litigation}件，具体情况如下表：",
            t3.review.total.unwrap_or(0)
        )],
        Some(t3_grid(&t3)),
    );
    section(
        5,
        "五、存在的主要问题及改进情况",
        super::narrative::paragraphs(r, 5).unwrap_or_else(|| vec!["政策解读的形式较为单一，部分栏目更新不够及时。下一步将丰富解读形式，压实栏目更新责任，提升公开质量。".to_string()]),
        None,
    );
    section(
        6,
        "六、其他需要报告的事项",
        std::iter::once("本年度未收取政府信息公开信息处理费。".to_string())
            .chain(super::narrative::paragraphs(r, 6).unwrap_or_default())
            .collect(),
        None,
    );
    // Cell overrides.
    for d in defects {
        if let Defect::CellText {
            table,
            row,
            column,
            text,
        } = d
        {
            for item in &mut doc {
                if let Item::Grid(g) = item {
                    for c in g.iter_mut().flatten() {
                        if c.key == Some((*table, *row, *column)) {
                            c.text = text.clone();
                        }
                    }
                }
            }
        }
    }
    doc
}

/// Position of each grid cell: for every row, the dense columns, each the origin cell
/// (row, index) or covered by one (`None` with whether by a rowspan from above).
enum Slot<'a> {
    Origin(&'a GCell),
    /// Covered by a cell starting in an earlier row (Word's vMerge continuation).
    Below(&'a GCell),
    /// Covered by the cell to the left (colspan).
    Right,
}

fn dense(g: &[Vec<GCell>]) -> Vec<Vec<Slot<'_>>> {
    let width = g.first().map_or(0, |r| r.iter().map(|c| c.colspan).sum());
    let mut out: Vec<Vec<Option<Slot<'_>>>> = (0..g.len())
        .map(|_| (0..width).map(|_| None).collect())
        .collect();
    for (r, row) in g.iter().enumerate() {
        let mut col = 0;
        for c in row {
            while col < width && out[r][col].is_some() {
                col += 1;
            }
            let rows_covered = (r + c.rowspan).min(g.len());
            for (rr, covered) in out.iter_mut().enumerate().take(rows_covered).skip(r) {
                let cols_covered = (col + c.colspan).min(width);
                for (cc, slot) in covered.iter_mut().enumerate().take(cols_covered).skip(col) {
                    *slot = Some(match (rr == r, cc == col) {
                        (true, true) => Slot::Origin(c),
                        (false, true) => Slot::Below(c),
                        _ => Slot::Right,
                    });
                }
            }
            col += c.colspan;
        }
    }
    out.into_iter()
        .map(|row| row.into_iter().map(|s| s.unwrap_or(Slot::Right)).collect())
        .collect()
}

/// Renders a report in a real-table layout (docx, html, xlsx) with wild row labels: typos
/// and numbering variants ([`wild::perturb_cells`]).
pub fn render_wild_cells(
    r: &Report,
    layout: Layout,
    encoding: TextEncoding,
    options: &Options,
) -> Vec<u8> {
    let mut doc = document(r, &options.defects);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(options.seed);
    wild::perturb_cells(&mut doc, &mut rng);
    match layout {
        Layout::Docx => docx(&doc, &mut rng),
        Layout::Xlsx => xlsx(&doc, &mut rng),
        _ => encoding.encode(&html(&doc, &mut rng, encoding)),
    }
}

/// Renders a report. `Options::defects` put mistakes in; `seed` varies spacing and breaks.
pub fn render(r: &Report, layout: Layout, encoding: TextEncoding, options: &Options) -> Vec<u8> {
    let doc = document(r, &options.defects);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(options.seed);
    match layout {
        Layout::Docx => docx(&doc, &mut rng),
        Layout::Xlsx => xlsx(&doc, &mut rng),
        Layout::Pdf => pdf(&doc, &mut rng),
        Layout::Html => encoding.encode(&html(&doc, &mut rng, encoding)),
        Layout::Wild => encoding.encode(&wild::text(&doc, false, &mut rng)),
        Layout::WildSix => encoding.encode(&wild::text(&doc, true, &mut rng)),
        _ => encoding.encode(&text(&doc, layout, &mut rng)),
    }
}

fn pad(v: &str, rng: &mut impl Rng) -> String {
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return v.to_string();
    }
    match rng.random_range(0..6) {
        0 => format!(" \u{3000}{v}"),
        1 => format!("{v} "),
        2 => format!("\u{a0}{v}"),
        _ => v.to_string(),
    }
}

fn half_width(s: &str) -> String {
    s.replace('（', "(")
        .replace('）', ")")
        .replace('：', ":")
        .replace('，', ",")
}

fn text(doc: &[Item], layout: Layout, rng: &mut impl Rng) -> String {
    let mut out = String::new();
    if layout == Layout::PortalCopy {
        out.push_str("您现在的位置 : 首页 > 政府信息公开 > 政府信息公开年度报告\n");
    }
    let mut page = 1;
    for item in doc {
        match item {
            Item::Title(t) if layout == Layout::PdfText => {
                // The agency on its own line above the year: `淮安市人民政府` / `2024 年…`.
                let split = t.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
                out.push_str(&format!(
                    "- {page} -\n{}\n{}\n",
                    &t[..split],
                    t[split..].replacen('年', " 年", 1)
                ));
                page += 1;
            }
            Item::Title(t) | Item::Heading(t) | Item::Para(t) => {
                let t = if layout == Layout::PortalCopy {
                    half_width(t)
                } else {
                    t.clone()
                };
                out.push_str(&t);
                out.push('\n');
                if layout == Layout::PortalCopy {
                    out.push('\n');
                }
            }
            Item::Grid(g) => {
                let slots = dense(g);
                for (r, row) in slots.iter().enumerate() {
                    match layout {
                        Layout::WordText => {
                            for s in row {
                                match s {
                                    Slot::Origin(c) => {
                                        out.push_str(&format!("\t{}\n", pad(&c.text, rng)))
                                    }
                                    Slot::Below(_) => out.push_str("\t\n"),
                                    Slot::Right => {}
                                }
                            }
                            out.push('\n');
                        }
                        Layout::TabRows => {
                            let cells: Vec<String> = row
                                .iter()
                                .map(|s| match s {
                                    Slot::Origin(c) => {
                                        let t = c.text.replace('\n', "");
                                        // `1. 属于国家秘密` (corpus 003), labels only.
                                        if c.key.is_none() && rng.random_bool(0.2) {
                                            t.replacen('.', ". ", 1)
                                        } else {
                                            t
                                        }
                                    }
                                    _ => String::new(),
                                })
                                .collect();
                            out.push_str(&cells.join("\t"));
                            out.push('\n');
                        }
                        Layout::PortalCopy => {
                            for s in row {
                                if let Slot::Origin(c) = s
                                    && !c.text.is_empty()
                                {
                                    for part in half_width(&c.text).split('\n') {
                                        out.push_str(part);
                                        out.push_str("\n\n");
                                    }
                                }
                            }
                        }
                        Layout::PdfText => {
                            let mut labels = Vec::new();
                            let mut values = Vec::new();
                            for s in row {
                                if let Slot::Origin(c) = s {
                                    if c.key.is_some() {
                                        values.push(c.text.clone());
                                    } else if c.rowspan > 2 {
                                        // Tall merged label cells come out one character per line.
                                        labels.push(
                                            c.text
                                                .chars()
                                                .map(String::from)
                                                .collect::<Vec<_>>()
                                                .join("\n"),
                                        );
                                    } else {
                                        labels.push(break_label(&c.text, rng));
                                    }
                                }
                            }
                            let mut line = labels.join("\n");
                            if !values.is_empty() {
                                if !line.is_empty() {
                                    line.push(' ');
                                }
                                line.push_str(&values.join(" "));
                            }
                            if !line.is_empty() {
                                out.push_str(&line);
                                out.push('\n');
                            }
                            if r > 0 && rng.random_bool(0.08) {
                                out.push_str(&format!("- {page} -\n"));
                                page += 1;
                            }
                        }
                        Layout::Html
                        | Layout::Docx
                        | Layout::Xlsx
                        | Layout::Pdf
                        | Layout::Wild
                        | Layout::WildSix => {
                            unreachable!("not a text layout")
                        }
                    }
                }
            }
        }
    }
    if layout == Layout::PortalCopy {
        out.push_str("相关文档:\n\n./t20230128_2941559_app.shtml\n");
    }
    out
}

/// Long labels wrap in a PDF cell: `5.要求行政机关确认或重新出\n具已获取信息`.
fn break_label(label: &str, rng: &mut impl Rng) -> String {
    let chars: Vec<char> = label.replace('\n', "").chars().collect();
    if chars.len() <= 14 || rng.random_bool(0.3) {
        return chars.iter().collect();
    }
    chars
        .chunks(rng.random_range(10..=14))
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(doc: &[Item], rng: &mut impl Rng, encoding: TextEncoding) -> String {
    let charset = match encoding {
        TextEncoding::Gb18030 => "<meta charset=\"gb2312\">",
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => "<meta charset=\"utf-8\">",
        _ => "",
    };
    let layout_table = rng.random_bool(0.5);
    let mut out = format!(
        "<!DOCTYPE html><html><head>{charset}<title>年报</title><script>var a='<p>x</p>';</script></head><body>"
    );
    out.push_str("<div class=\"nav\">首页 &gt; 政府信息公开 &gt; 年度报告</div>");
    if layout_table {
        out.push_str("<table width=\"100%\"><tr><td class=\"side\">栏目导航</td><td>");
    }
    for item in doc {
        match item {
            Item::Title(t) => out.push_str(&format!("<h1>{}</h1>", escape(t))),
            Item::Heading(t) => out.push_str(&format!("<p><strong>{}</strong></p>", escape(t))),
            Item::Para(t) => out.push_str(&format!("<p>{}</p>", escape(t))),
            Item::Grid(g) => {
                out.push_str("<table border=\"1\"><tbody>");
                for row in g {
                    out.push_str("<tr>");
                    for c in row {
                        let mut attrs = String::new();
                        if c.rowspan > 1 {
                            attrs.push_str(&format!(" rowspan=\"{}\"", c.rowspan));
                        }
                        if c.colspan > 1 {
                            attrs.push_str(&format!(" colspan=\"{}\"", c.colspan));
                        }
                        let text = escape(&c.text).replace('\n', "<br>");
                        out.push_str(&format!("<td{attrs}><p><span>{text}</span></p></td>"));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody></table>");
            }
        }
    }
    if layout_table {
        out.push_str("</td></tr></table>");
    }
    out.push_str("<div>相关文档</div></body></html>");
    out
}

fn xml_escape(s: &str) -> String {
    escape(s).replace('"', "&quot;")
}

/// A paragraph with its text split over several runs, as Word writes it.
fn w_p(text: &str, rng: &mut impl Rng) -> String {
    w_p_font(text, None, rng)
}

fn w_p_font(text: &str, font: Option<&str>, rng: &mut impl Rng) -> String {
    let fonts = match font {
        Some(f) => format!(
            "<w:rFonts w:ascii=\"{f}\" w:hAnsi=\"{f}\" w:eastAsia=\"{f}\" w:hint=\"eastAsia\"/>"
        ),
        None => "<w:rFonts w:hint=\"eastAsia\"/>".to_string(),
    };
    let chars: Vec<char> = text.chars().collect();
    let mut runs = String::new();
    let mut i = 0;
    while i < chars.len() {
        let n = rng
            .random_range(1..=chars.len().max(1))
            .min(chars.len() - i)
            .max(1);
        let part: String = chars[i..i + n].iter().collect();
        runs.push_str(&format!(
            "<w:r><w:rPr>{fonts}</w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
            xml_escape(&part)
        ));
        i += n;
    }
    format!("<w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr>{runs}</w:p>")
}

fn docx(doc: &[Item], rng: &mut impl Rng) -> Vec<u8> {
    docx_page(doc, &Page::default(), rng)
}

/// How a docx is laid out on paper, for PDFs that LibreOffice makes from it.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The font of every run (`WenQuanYi Zen Hei`, `Noto Sans CJK SC`); none: the default.
    pub font: Option<&'static str>,
    /// A4 landscape rather than portrait.
    pub landscape: bool,
    /// The width of each table's first column in twips (a narrow one wraps labels and
    /// headers); the others share the rest of the page.
    pub first_col: Option<usize>,
    /// Group labels (merged over several rows) written vertically, as WPS draws them.
    pub vertical_groups: bool,
    /// Every cell drawn with borders (single lines), as the template is printed.
    pub borders: bool,
    /// The header rows at a table's top repeated on every page it runs over.
    pub repeat_header: bool,
}

/// The report as a docx laid out as `page` says.
pub fn render_docx_page(r: &Report, options: &Options, page: &Page) -> Vec<u8> {
    let doc = document(r, &options.defects);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(options.seed);
    docx_page(&doc, page, &mut rng)
}

fn docx_page(doc: &[Item], page: &Page, rng: &mut impl Rng) -> Vec<u8> {
    let text_width: usize = if page.landscape { 13800 } else { 9000 };
    let mut body = String::new();
    for item in doc {
        match item {
            Item::Title(t) | Item::Heading(t) | Item::Para(t) => {
                body.push_str(&w_p_font(t, page.font, rng))
            }
            Item::Grid(g) => {
                let slots = dense(g);
                let width = slots.first().map_or(0, Vec::len);
                let borders = if page.borders {
                    let side = |s: &str| {
                        format!(
                            "<w:{s} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
                        )
                    };
                    format!(
                        "<w:tblBorders>{}</w:tblBorders>",
                        ["top", "left", "bottom", "right", "insideH", "insideV"]
                            .map(side)
                            .concat()
                    )
                } else {
                    String::new()
                };
                body.push_str(&format!(
                    "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/>{borders}</w:tblPr><w:tblGrid>"
                ));
                // The table fits the page's width (9000 twips in portrait), as Word makes it.
                for i in 0..width {
                    let w = match page.first_col {
                        Some(first) if i == 0 => first,
                        Some(first) => text_width.saturating_sub(first) / (width - 1).max(1),
                        None => text_width / width.max(1),
                    };
                    body.push_str(&format!("<w:gridCol w:w=\"{w}\"/>"));
                }
                body.push_str("</w:tblGrid>");
                let mut head = true;
                for row in &slots {
                    let values_row = row
                        .iter()
                        .any(|s| matches!(s, Slot::Origin(c) if c.key.is_some()));
                    head &= !values_row;
                    body.push_str(if head && page.repeat_header {
                        "<w:tr><w:trPr><w:tblHeader/></w:trPr>"
                    } else {
                        "<w:tr>"
                    });
                    for s in row {
                        let (c, continuation) = match s {
                            Slot::Origin(c) => (c, false),
                            Slot::Below(c) => (c, true),
                            Slot::Right => continue,
                        };
                        let mut props = String::new();
                        if c.colspan > 1 {
                            props.push_str(&format!("<w:gridSpan w:val=\"{}\"/>", c.colspan));
                        }
                        if continuation {
                            props.push_str("<w:vMerge/>");
                        } else if c.rowspan > 1 {
                            props.push_str("<w:vMerge w:val=\"restart\"/>");
                        }
                        // A group label over several rows of values, written top to bottom.
                        if page.vertical_groups && values_row && c.rowspan > 2 && c.key.is_none() {
                            props.push_str("<w:textDirection w:val=\"tbRlV\"/>");
                        }
                        let paras: String = if continuation {
                            "<w:p/>".to_string()
                        } else {
                            c.text
                                .split('\n')
                                .map(|line| w_p_font(line, page.font, rng))
                                .collect()
                        };
                        body.push_str(&format!("<w:tc><w:tcPr>{props}</w:tcPr>{paras}</w:tc>"));
                    }
                    body.push_str("</w:tr>");
                }
                body.push_str("</w:tbl>");
            }
        }
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}{}</w:body></w:document>",
        if page.landscape {
            "<w:sectPr><w:pgSz w:w=\"16838\" w:h=\"11906\" w:orient=\"landscape\"/><w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" w:left=\"1440\"/></w:sectPr>"
        } else if page.font.is_some() {
            "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" w:left=\"1440\"/></w:sectPr>"
        } else {
            "<w:sectPr/>"
        }
    );
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default();
        let parts = [
            ("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>".to_string()),
            ("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>".to_string()),
            ("word/document.xml", document),
        ];
        for (name, content) in parts {
            zip.start_file(name, options).expect("zip entry");
            zip.write_all(content.as_bytes()).expect("zip write");
        }
        zip.finish().expect("zip finish");
    }
    buf.into_inner()
}

/// Column label of table 2, for messages in tests.
pub fn app_column(c: AppColumn) -> &'static str {
    app_column_printed(c)
}

fn xlsx(doc: &[Item], rng: &mut impl Rng) -> Vec<u8> {
    use rust_xlsxwriter::{Formula, Workbook};
    let mut wb = Workbook::new();
    let split = rng.random_bool(0.5);
    let mut sheet = wb.add_worksheet();
    let mut row: u32 = 0;
    for item in doc {
        match item {
            Item::Heading(t) if split && t.starts_with("四、") => {
                sheet = wb.add_worksheet();
                row = 0;
                sheet.write_string(row, 0, t.as_str()).expect("write");
            }
            Item::Title(t) | Item::Heading(t) | Item::Para(t) => {
                sheet.write_string(row, 0, t.as_str()).expect("write");
            }
            Item::Grid(g) => {
                let slots = dense(g);
                for (r, line) in slots.iter().enumerate() {
                    for (c, slot) in line.iter().enumerate() {
                        let Slot::Origin(cell) = slot else { continue };
                        let (rr, cc) = (row + r as u32, c as u16);
                        let text = cell.text.replace('\n', "");
                        if cell.rowspan > 1 || cell.colspan > 1 {
                            let fmt = rust_xlsxwriter::Format::new();
                            sheet
                                .merge_range(
                                    rr,
                                    cc,
                                    rr + cell.rowspan as u32 - 1,
                                    cc + cell.colspan as u16 - 1,
                                    &text,
                                    &fmt,
                                )
                                .expect("merge");
                            continue;
                        }
                        match text.parse::<i64>() {
                            Ok(n) => match rng.random_range(0..3) {
                                0 => sheet.write_number(rr, cc, n as f64).map(|_| ()),
                                1 => sheet.write_string(rr, cc, &text).map(|_| ()),
                                _ => sheet
                                    .write_formula(
                                        rr,
                                        cc,
                                        Formula::new(format!("={}+0", n)).set_result(&text),
                                    )
                                    .map(|_| ()),
                            }
                            .expect("write"),
                            Err(_) if !text.is_empty() => match text.parse::<f64>() {
                                Ok(f) if rng.random_bool(0.5) => {
                                    sheet.write_number(rr, cc, f).map(|_| ()).expect("write")
                                }
                                _ => sheet
                                    .write_string(rr, cc, &text)
                                    .map(|_| ())
                                    .expect("write"),
                            },
                            Err(_) => {}
                        }
                    }
                }
                row += slots.len() as u32;
            }
        }
        row += 1;
    }
    wb.save_to_buffer().expect("xlsx")
}

/// A text piece of the PDF: page, x, y (from the top), font size, text.
type Piece = (usize, f64, f64, f64, String);

fn pdf(doc: &[Item], rng: &mut impl Rng) -> Vec<u8> {
    const SIZE: f64 = 8.0;
    const WIDTH: f64 = 1400.0;
    const HEIGHT: f64 = 842.0;
    let em = |s: &str| s.chars().count() as f64 * SIZE;
    let mut pieces: Vec<Piece> = Vec::new();
    let (mut page, mut y) = (0usize, 40.0);
    let advance = |page: &mut usize, y: &mut f64, by: f64| {
        *y += by;
        if *y > HEIGHT - 40.0 {
            *page += 1;
            *y = 40.0;
        }
    };
    for item in doc {
        match item {
            Item::Title(t) | Item::Heading(t) | Item::Para(t) => {
                // Long paragraphs wrap, as on paper.
                let chars: Vec<char> = t.chars().collect();
                for chunk in chars.chunks(80) {
                    pieces.push((page, 40.0, y, SIZE, chunk.iter().collect()));
                    advance(&mut page, &mut y, SIZE * 2.0);
                }
            }
            Item::Grid(g) => {
                let slots = dense(g);
                let width = slots.first().map_or(0, Vec::len);
                // Column widths from the widest single-column text in them.
                let mut col_w = vec![3.0 * SIZE; width];
                for line in &slots {
                    for (c, slot) in line.iter().enumerate() {
                        if let Slot::Origin(cell) = slot
                            && cell.colspan == 1
                        {
                            col_w[c] = col_w[c].max(em(&cell.text.replace('\n', "")) + SIZE);
                        }
                    }
                }
                for line in &slots {
                    let mut x = 40.0;
                    for (c, slot) in line.iter().enumerate() {
                        if let Slot::Origin(cell) = slot {
                            let text = cell.text.replace('\n', "");
                            if !text.is_empty() {
                                pieces.push((page, x, y, SIZE, text));
                            }
                        }
                        x += col_w[c] + SIZE * 2.0;
                    }
                    advance(&mut page, &mut y, SIZE * 3.0);
                }
            }
        }
    }
    // Writers draw in their own order: the reader must go by position.
    for i in (1..pieces.len()).rev() {
        let j = rng.random_range(0..=i);
        pieces.swap(i, j);
    }
    let pages = pieces.iter().map(|p| p.0).max().unwrap_or(0) + 1;
    let mut objects: Vec<String> = Vec::new();
    // 1 catalog, 2 pages, 3 font, 4 cid font, 5 descriptor, then (page, content) pairs.
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..pages).map(|p| format!("{} 0 R", 6 + 2 * p)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {pages} >>",
        kids.join(" ")
    ));
    objects.push(
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H \
         /DescendantFonts [4 0 R] >>"
            .into(),
    );
    objects.push(
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> \
         /FontDescriptor 5 0 R /DW 1000 >>"
            .into(),
    );
    objects.push(
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 \
         /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 \
         /CapHeight 880 /StemV 93 >>"
            .into(),
    );
    for p in 0..pages {
        let mut content = String::new();
        for (_, x, y, size, text) in pieces.iter().filter(|piece| piece.0 == p) {
            let hex: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
            content.push_str(&format!(
                "BT /F1 {size} Tf {x:.2} {:.2} Td <{hex}> Tj ET\n",
                HEIGHT - y
            ));
        }
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            7 + 2 * p
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }
    pdf_file(&objects)
}

/// A PDF file of `objects` (numbered from 1, the first the catalog) with a correct xref.
pub fn pdf_file(objects: &[String]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
