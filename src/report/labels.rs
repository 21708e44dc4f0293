//! The template's labels, their standard wording and the variants met in real reports.
//!
//! Matching is done on [`normalize`]d text: no white space, full-width brackets and commas,
//! `1.` numbering, no quotation marks, simplified characters. A label that is recognisably
//! the standard one but differs from it is read and reported as non-standard wording.

use super::model::{AppColumn, AppRow};

/// Normalizes text for label matching (see the module doc). Digits, letters and the label
/// characters themselves are kept as they are.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() || is_invisible(c) {
            continue;
        }
        let c = match c {
            '(' | '﹙' => '（',
            ')' | '﹚' => '）',
            ',' | '﹐' => '，',
            ':' | '﹕' => '：',
            ';' => '；',
            '．' | '。' if out.ends_with(|p: char| p.is_ascii_digit()) => '.',
            '、' if out.ends_with(|p: char| p.is_ascii_digit()) => '.',
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '“' | '”' | '"' | '＂' | '‘' | '’' | '\'' | '「' | '」' | '『' | '』' => {
                continue;
            }
            _ => traditional_to_simplified(c),
        };
        // Pinyin glosses from mirror sites: `數(shù)量` -> `数量`.
        if c == '（' && out.chars().last().is_some_and(is_cjk) {
            let mut look = chars.clone();
            let mut gloss = 0;
            let mut closed = false;
            for g in look.by_ref() {
                if g == ')' || g == '）' {
                    closed = true;
                    break;
                }
                if !is_pinyin_letter(g) {
                    break;
                }
                gloss += 1;
            }
            if closed && gloss > 0 {
                chars = look;
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

fn is_pinyin_letter(c: char) -> bool {
    c.is_ascii_lowercase() || "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ".contains(c)
}

/// Traditional characters of the template's labels, as mirror sites print them. A `match`
/// (compiled to a binary search) because this runs for every character of every report.
fn traditional_to_simplified(c: char) -> char {
    match c {
        '數' => '数',
        '萬' => '万',
        '總' => '总',
        '計' => '计',
        '處' => '处',
        '開' => '开',
        '請' => '请',
        '資' => '资',
        '訊' => '讯',
        '機' => '机',
        '關' => '关',
        '書' => '书',
        '規' => '规',
        '範' => '范',
        '許' => '许',
        '強' => '强',
        '製' => '制',
        '廢' => '废',
        '現' => '现',
        '決' => '决',
        '費' => '费',
        '額' => '额',
        '單' => '单',
        '項' => '项',
        '條' => '条',
        '業' => '业',
        '構' => '构',
        '會' => '会',
        '組' => '组',
        '織' => '织',
        '務' => '务',
        '與' => '与',
        '並' => '并',
        '號' => '号',
        '結' => '结',
        '轉' => '转',
        '繼' => '继',
        '續' => '续',
        '辦' => '办',
        '應' => '应',
        '對' => '对',
        '這' => '这',
        '報' => '报',
        '復' => '复',
        '議' => '议',
        '訟' => '讼',
        '維' => '维',
        '審' => '审',
        '糾' => '纠',
        '門' => '门',
        '國' => '国',
        '過' => '过',
        '執' => '执',
        '詢' => '询',
        '沒' => '没',
        '補' => '补',
        '確' => '确',
        '訪' => '访',
        '舉' => '举',
        '訴' => '诉',
        '複' => '复',
        '獲' => '获',
        '無' => '无',
        '據' => '据',
        '經' => '经',
        '稅' => '税',
        '於' => '于',
        '為' => '为',
        '産' => '产',
        '們' => '们',
        '區' => '区',
        '縣' => '县',
        '鎮' => '镇',
        '爲' => '为',
        '統' => '统',
        '內' => '内',
        '準' => '准',
        '護' => '护',
        '權' => '权',
        '險' => '险',
        '穩' => '稳',
        '實' => '实',
        '際' => '际',
        '況' => '况',
        '題' => '题',
        '進' => '进',
        '問' => '问',
        '錄' => '录',
        '歸' => '归',
        '類' => '类',
        '樣' => '样',
        '層' => '层',
        '級' => '级',
        '義' => '义',
        '環' => '环',
        '節' => '节',
        '責' => '责',
        '達' => '达',
        '導' => '导',
        '體' => '体',
        '個' => '个',
        '採' => '采',
        '購' => '购',
        '徵' => '征',
        '發' => '发',
        '聯' => '联',
        '網' => '网',
        '監' => '监',
        '狀' => '状',
        '態' => '态',
        '長' => '长',
        '歲' => '岁',
        '證' => '证',
        '戶' => '户',
        '縮' => '缩',
        '減' => '减',
        '圍' => '围',
        '動' => '动',
        '學' => '学',
        '習' => '习',
        _ => c,
    }
}

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
}

impl Label {
    /// If the normalized run `text` ends with this label, whether in standard wording and how
    /// many characters matched.
    pub fn match_suffix(&self, text: &str) -> Option<LabelMatch> {
        if text.ends_with(self.core) {
            return Some(LabelMatch {
                standard: true,
                len: self.core.len(),
            });
        }
        self.variants
            .iter()
            .filter(|v| text.ends_with(**v))
            .map(|v| LabelMatch {
                standard: false,
                len: v.len(),
            })
            .max_by_key(|m| m.len)
    }

    /// Whether normalized `text` contains this label in any wording; for header labels.
    pub fn find_in(&self, text: &str) -> Option<LabelMatch> {
        if text.contains(self.core) {
            return Some(LabelMatch {
                standard: true,
                len: self.core.len(),
            });
        }
        self.variants
            .iter()
            .find(|v| text.contains(**v))
            .map(|v| LabelMatch {
                standard: false,
                len: v.len(),
            })
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
    label(
        "withheld_state_secret",
        "1.属于国家秘密",
        "属于国家秘密",
        &[],
    ),
    label(
        "withheld_prohibited_by_law",
        "2.其他法律行政法规禁止公开",
        "其他法律行政法规禁止公开",
        &["其他法律法规禁止公开", "其它法律行政法规禁止公开"],
    ),
    label(
        "withheld_security_stability",
        "3.危及“三安全一稳定”",
        "危及三安全一稳定",
        &[],
    ),
    label(
        "withheld_third_party_rights",
        "4.保护第三方合法权益",
        "保护第三方合法权益",
        &[],
    ),
    label(
        "withheld_internal_affairs",
        "5.属于三类内部事务信息",
        "属于三类内部事务信息",
        &[],
    ),
    label(
        "withheld_process_information",
        "6.属于四类过程性信息",
        "属于四类过程性信息",
        &[],
    ),
    label(
        "withheld_enforcement_case_file",
        "7.属于行政执法案卷",
        "属于行政执法案卷",
        &[],
    ),
    label(
        "withheld_administrative_query",
        "8.属于行政查询事项",
        "属于行政查询事项",
        &[],
    ),
    label(
        "unavailable_not_held",
        "1.本机关不掌握相关政府信息",
        "本机关不掌握相关政府信息",
        &[],
    ),
    label(
        "unavailable_needs_creation",
        "2.没有现成信息需要另行制作",
        "没有现成信息需要另行制作",
        &[],
    ),
    label(
        "unavailable_unclear",
        "3.补正后申请内容仍不明确",
        "补正后申请内容仍不明确",
        &[],
    ),
    label(
        "not_processed_petition",
        "1.信访举报投诉类申请",
        "信访举报投诉类申请",
        &[],
    ),
    label("not_processed_duplicate", "2.重复申请", "重复申请", &[]),
    label(
        "not_processed_publication",
        "3.要求提供公开出版物",
        "要求提供公开出版物",
        &[],
    ),
    label(
        "not_processed_excessive",
        "4.无正当理由大量反复申请",
        "无正当理由大量反复申请",
        &[],
    ),
    label(
        "not_processed_confirmation",
        "5.要求行政机关确认或重新出具已获取信息",
        "要求行政机关确认或重新出具已获取信息",
        &[],
    ),
    label(
        "other_overdue_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        &["申请人无正当理由逾期不补正，行政机关不再处理其政府信息公开申请"],
    ),
    label(
        "other_unpaid_fee",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        &["申请人逾期未按收费通知要求缴纳费用，行政机关不再处理其政府信息公开申请"],
    ),
    label("other_other", "3.其他", "3.其他", &["3.其它"]),
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

/// Table 2's column labels in [`AppColumn::ALL`] order, as printed (without the group).
pub fn app_column_printed(column: AppColumn) -> &'static str {
    match column {
        AppColumn::NaturalPerson => "自然人",
        AppColumn::CommercialEnterprise => "商业企业",
        AppColumn::ResearchInstitution => "科研机构",
        AppColumn::SocialWelfareOrganization => "社会公益组织",
        AppColumn::LegalServiceInstitution => "法律服务机构",
        AppColumn::OtherOrganization => "其他",
        AppColumn::Total => "总计",
    }
}

/// The printed group label of table 2 outcome rows, e.g. `（三）不予公开` for row 1.属于国家秘密.
pub fn app_row_group(row: AppRow) -> Option<&'static str> {
    use AppRow::*;
    match row {
        WithheldStateSecret
        | WithheldProhibitedByLaw
        | WithheldSecurityStability
        | WithheldThirdPartyRights
        | WithheldInternalAffairs
        | WithheldProcessInformation
        | WithheldEnforcementCaseFile
        | WithheldAdministrativeQuery => Some("（三）不予公开"),
        UnavailableNotHeld | UnavailableNeedsCreation | UnavailableUnclear => {
            Some("（四）无法提供")
        }
        NotProcessedPetition
        | NotProcessedDuplicate
        | NotProcessedPublication
        | NotProcessedExcessive
        | NotProcessedConfirmation => Some("（五）不予处理"),
        OtherOverdueCorrection | OtherUnpaidFee | OtherOther => Some("（六）其他处理"),
        _ => None,
    }
}

/// Where a table 2 row stands in the printed template, for messages: `三、（三）1.属于国家秘密`.
pub fn app_row_described(row: AppRow) -> String {
    let printed = app_row(row).printed;
    match app_row_group(row) {
        Some(group) => format!("“{group}”下的“{printed}”"),
        None => format!("“{printed}”"),
    }
}

/// Table 1 rows (both templates).
pub static T1_ROWS: [Label; 8] = [
    label("regulations", "规章", "规章", &[]),
    label(
        "normative_documents",
        "行政规范性文件",
        "行政规范性文件",
        &["规范性文件"],
    ),
    label("administrative_licensing", "行政许可", "行政许可", &[]),
    label(
        "other_management_services",
        "其他对外管理服务事项",
        "其他对外管理服务事项",
        &["其它对外管理服务事项"],
    ),
    label("administrative_punishment", "行政处罚", "行政处罚", &[]),
    label("administrative_enforcement", "行政强制", "行政强制", &[]),
    label(
        "administrative_fees",
        "行政事业性收费",
        "行政事业性收费",
        &[],
    ),
    label(
        "government_procurement",
        "政府集中采购",
        "政府集中采购",
        &[],
    ),
];

/// 规范性文件 is the 2019 template's own wording (2021 says 行政规范性文件).
pub static T1_NORMATIVE_2019: Label = label("normative_documents", "规范性文件", "规范性文件", &[]);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_unifies_variants() {
        assert_eq!(
            normalize("(二) 部分公开 (区分处理的, 只计这一情形, 不计其他情形)"),
            "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
        );
        assert_eq!(normalize("1、申请人"), "1.申请人");
        assert_eq!(normalize("1. 属于国家秘密"), "1.属于国家秘密");
        assert_eq!(normalize("3.危及“三安全一稳定”"), "3.危及三安全一稳定");
        assert_eq!(normalize("總計"), "总计");
        assert_eq!(normalize("數(shù)量"), "数量");
        assert_eq!(normalize("结 果\n维持"), "结果维持");
        assert_eq!(normalize("（单位：万元）"), "（单位：万元）");
    }

    #[test]
    fn labels_are_normalized_and_in_row_order() {
        for (row, label) in AppRow::ALL.iter().zip(APP_ROWS.iter()) {
            assert_eq!(normalize(label.core), label.core, "{}", label.id);
            assert_eq!(serde_json::to_value(row).unwrap(), label.id);
        }
        for l in T1_ROWS
            .iter()
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
