//! Text normalisation for label matching, apart from the template's data: whatever a
//! file does to a label (white space, half-width brackets and commas, `1、`/`1．`/`（1）`
//! numbering, quotation marks, traditional characters, pinyin glosses), the normalised text
//! is what [`super::schema`] and the aligner compare.

/// Normalizes text for label matching (see the module doc). Digits, letters and the label
/// characters themselves are kept as they are.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if is_dropped(c) {
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
    if out.contains('）') && out.bytes().any(|b| b.is_ascii_digit()) {
        out = item_numbers(&out);
    }
    out
}

/// `（1）`, `1）` and `(1)` item numbers as `1.`, the template's own numbering.
fn item_numbers(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let open = chars[i] == '（';
        let start = i + usize::from(open);
        let digits = chars[start..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let before_ok = open || i == 0 || !(chars[i - 1].is_ascii_digit() || chars[i - 1] == '（');
        if (1..=2).contains(&digits) && before_ok && chars.get(start + digits) == Some(&'）') {
            out.extend(&chars[start..start + digits]);
            out.push('.');
            i = start + digits + 1;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The characters `normalize` drops wherever they stand: spaces, invisible marks, the
/// bars of text tables and quotation marks.
pub(crate) fn is_dropped(c: char) -> bool {
    c.is_whitespace()
        || is_invisible(c)
        || matches!(
            c,
            '|' | '｜'
                | '¦'
                | '“'
                | '”'
                | '"'
                | '＂'
                | '‘'
                | '’'
                | '\''
                | '「'
                | '」'
                | '『'
                | '』'
        )
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
        // Numbering variants are wording: 1、 1． （1） (1) 1) all read as 1.
        for n in ["1、", "1．", "（1）", "(1)", "1)", "１．"] {
            assert_eq!(
                normalize(&format!("{n}属于国家秘密")),
                "1.属于国家秘密",
                "{n}"
            );
        }
        assert_eq!(normalize("（三）不予公开（2）其他"), "（三）不予公开2.其他");
        assert_eq!(normalize("第（一）项"), "第（一）项");
        assert_eq!(normalize("| 予以公开 |"), "予以公开");
    }
}
