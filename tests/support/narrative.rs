//! Narratives that differ from report to report, as real ones do: the free prose of sections
//! 一, 五 and 六, drawn from phrase banks. Two independent draws share few sentences, so a
//! copied narrative (the same draw a year later) stands out; see `history.text_copied`.
//!
//! The prose is kept in `Report::sections` (section number and text, one paragraph a line);
//! the renderer prints it in place of its fixed sentences when it is there.

use nianbao::report::{Report, Section};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const MANAGEMENT: [&str; 8] = [
    "严格执行保密审查制度，动态更新政府信息公开指南和目录",
    "建立公开属性源头认定机制，公文拟制时同步明确公开方式",
    "对历年发布的政策文件开展集中清理，标注有效性并统一归集",
    "规范政府信息发布流程，实行拟稿、审核、发布三级把关",
    "完善依申请公开办理台账，逐件登记受理、答复和送达情况",
    "落实政府信息公开审查责任，涉及个人隐私的一律先行处理",
    "梳理本部门政府信息资源清单，按季度更新并报送备案",
    "健全信息发布协调机制，重要信息发布前与相关部门会商",
];
const PLATFORM: [&str; 8] = [
    "持续优化政府网站信息公开专栏，及时更新栏目内容",
    "升级门户网站检索功能，公众可按主题和发文字号查找文件",
    "依托政务新媒体矩阵同步推送重要政策，扩大覆盖面",
    "推进政府公报电子化，历年公报全部上网供免费查阅",
    "在政务服务大厅设置政府信息查阅点，配备专人引导",
    "整合部门网站栏目，统一在区政府门户网站集中发布",
    "开通政策问答专区，集中回应群众关心的热点问题",
    "完善网站无障碍和适老化改造，方便特殊群体获取信息",
];
const OVERSIGHT: [&str; 8] = [
    "将政务公开纳入年度绩效考核，开展业务培训",
    "邀请人大代表和政协委员参与政务开放日活动",
    "聘请社会监督员对栏目更新情况进行季度评议",
    "组织新任工作人员参加政务公开专题培训两次",
    "对下属单位开展交叉检查，发现问题限期整改",
    "把公开工作纳入党风廉政建设责任制一并检查",
    "建立工作通报制度，每季度通报栏目更新情况",
    "开展第三方评估，并将评估结果作为改进依据",
];
const PROBLEMS: [&str; 8] = [
    "政策解读的形式较为单一，图解和视频解读偏少",
    "部分栏目更新不够及时，个别信息发布滞后",
    "基层工作人员业务能力参差不齐，答复文书不够规范",
    "依申请公开答复的说理还不够充分，告知内容较为简略",
    "公众参与渠道利用率不高，互动回应不够及时",
    "信息公开目录编制不够细，检索仍不够便利",
    "主动公开的深度有待加强，数据类信息发布偏少",
    "政务新媒体内容更新频率不稳定，部分账号活跃度低",
];
const CAUSES: [&str; 6] = [
    "究其原因，主要是人员调整较频繁，业务衔接不够顺畅",
    "原因在于对公开工作重视程度还不够高，统筹不足",
    "这主要是由于部门之间信息共享机制尚不健全",
    "其根源在于考核激励措施落实不到位",
    "主要是专职人员偏少，多数工作由兼职人员承担",
    "客观上，信息化支撑手段仍较薄弱",
];
const IMPROVEMENTS: [&str; 8] = [
    "下一步将丰富解读形式，压实栏目更新责任，提升公开质量",
    "下一步将建立栏目更新提醒机制，明确专人按期维护",
    "今后将加强业务培训，统一答复文书格式和说理要求",
    "下一步将完善互动回应机制，对留言做到及时答复",
    "今后将细化公开目录，优化站内检索，方便公众查找",
    "下一步将加大数据开放力度，定期发布统计分析信息",
    "今后将整合新媒体账号，建立统一的内容审核和发布机制",
    "下一步将充实工作力量，把公开工作纳入日常督查",
];
const OTHER: [&str; 6] = [
    "本年度未发生政府信息公开工作责任追究情况",
    "本年度办理人大代表建议和政协提案的答复全文均已公开",
    "本机关年度政务公开工作要点落实情况已在网站专栏公布",
    "本年度未开展政府信息公开工作专项评议以外的其他活动",
    "本年度本机关无需要说明的其他政府信息公开事项",
    "本机关政府信息公开工作机构和联系方式未发生变化",
];

fn pick<'a>(rng: &mut StdRng, bank: &[&'a str]) -> &'a str {
    bank[rng.random_range(0..bank.len())]
}

/// Two different sentences of `bank`, joined.
fn two(rng: &mut StdRng, bank: &[&str]) -> String {
    let first = rng.random_range(0..bank.len());
    let second = (first + rng.random_range(1..bank.len())) % bank.len();
    format!("{}；{}。", bank[first], bank[second])
}

/// Gives `r` a narrative of its own, drawn with `seed`.
pub fn set_narrative(r: &mut Report, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6e61_7272);
    let overview = [
        format!("（三）政府信息管理。{}", two(&mut rng, &MANAGEMENT)),
        format!("（四）平台建设。{}", two(&mut rng, &PLATFORM)),
        format!("（五）监督保障。{}", two(&mut rng, &OVERSIGHT)),
    ]
    .join("\n");
    let problems = format!(
        "{}。{}。{}。",
        pick(&mut rng, &PROBLEMS),
        pick(&mut rng, &CAUSES),
        pick(&mut rng, &IMPROVEMENTS)
    );
    let other = format!("{}。", pick(&mut rng, &OTHER));
    r.sections = [(1, overview), (5, problems), (6, other)]
        .into_iter()
        .map(|(number, text)| Section {
            number,
            heading: String::new(),
            standard: true,
            text,
        })
        .collect();
}

/// The narrative `r` was given for `number`, one paragraph a line.
pub fn paragraphs(r: &Report, number: u8) -> Option<Vec<String>> {
    r.sections
        .iter()
        .find(|s| s.number == number)
        .map(|s| s.text.lines().map(str::to_string).collect())
}

/// Sentence parts for [`independent_narrative`]: each sentence is one of 61,440 (opener,
/// action, object, result), so two agencies writing on their own rarely write the same
/// sentence, and almost never three of them in one section.
const OPENERS: [&str; 12] = [
    "本年度",
    "全年",
    "今年以来",
    "报告期内",
    "围绕年度工作要点",
    "按照上级部署",
    "结合本单位实际",
    "为提升公开质效",
    "在上级部门指导下",
    "针对群众关切",
    "聚焦重点领域",
    "以数字政府建设为契机",
];
const ACTIONS: [&str; 16] = [
    "我们进一步完善了",
    "单位着力加强了",
    "持续推进",
    "重点优化了",
    "认真落实了",
    "全面梳理了",
    "扎实开展了",
    "稳步推进了",
    "逐步健全了",
    "深入推进",
    "积极探索",
    "主动做好了",
    "统筹推进",
    "严格规范了",
    "不断深化",
    "系统整合了",
];
const OBJECTS: [&str; 20] = [
    "政府信息公开目录的编制工作",
    "政策文件的解读和回应",
    "重点领域信息的公开",
    "依申请公开的受理和答复流程",
    "政务新媒体的内容管理",
    "公开专栏的栏目设置",
    "保密审查和发布审核",
    "基层政务公开标准化规范化建设",
    "政务公开工作人员的业务培训",
    "政府网站的信息检索功能",
    "行政规范性文件的清理",
    "重大决策预公开",
    "政务开放日活动的组织",
    "公开平台的适老化改造",
    "财政预决算信息的公开",
    "公共企事业单位信息公开",
    "政务服务事项的公开",
    "政策问答库的建设",
    "信息发布的协调机制",
    "公众参与渠道的建设",
];
const RESULTS: [&str; 16] = [
    "取得了较好成效",
    "群众满意度明显提升",
    "相关工作有序推进",
    "公开的规范化水平进一步提高",
    "做到应公开尽公开",
    "工作质量稳步提升",
    "为下一步工作打下了基础",
    "得到了上级部门的肯定",
    "有效回应了社会关切",
    "公开时效性明显增强",
    "公众获取信息更加便捷",
    "形成了长效工作机制",
    "各项任务按期完成",
    "相关制度得到有效执行",
    "整体工作水平有所提高",
    "实现了全流程留痕管理",
];
const WEAK: [&str; 12] = [
    "政策解读的形式",
    "栏目更新的及时性",
    "答复文书的规范性",
    "工作人员的业务能力",
    "公众参与的深度",
    "数据开放的广度",
    "新媒体账号的活跃度",
    "公开目录的细化程度",
    "信息发布的协同性",
    "基层公开的标准化水平",
    "主动公开的针对性",
    "网站检索的便利性",
];
const STATE: [&str; 8] = [
    "还有待提高",
    "仍显不足",
    "与群众期待尚有差距",
    "还不够理想",
    "有待进一步加强",
    "存在短板",
    "仍需改进",
    "不够均衡",
];
const CAUSE: [&str; 10] = [
    "人员调整较为频繁",
    "专职力量偏少",
    "部门协同机制不够健全",
    "考核激励不够到位",
    "信息化支撑较为薄弱",
    "业务培训覆盖面不够",
    "经费保障不足",
    "制度执行不够严格",
    "对新要求学习不够深入",
    "工作统筹不够有力",
];

/// The national template's own sentences, which every report may write word for word.
pub const REQUIRED_WORDING: [&str; 2] = [
    "本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和国务院办公厅政府信息与政务公开办公室关于政府信息公开工作年度报告格式的要求编制",
    "本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止",
];

/// Wording a district prescribes to all its agencies (each district three of these).
pub const PRESCRIBED: [&str; 12] = [
    "认真落实区政府办公室关于做好年度政务公开工作的通知要求",
    "按照区政务公开领导小组的统一部署全面完成各项任务",
    "严格执行区政府信息公开保密审查办法",
    "全面使用全区统一的政府信息公开申请办理系统",
    "按照全区统一的栏目标准规范政府信息公开专栏",
    "落实区政府关于政务新媒体管理的十项规定",
    "参加全区政务公开业务培训并通过考核",
    "按照区里统一要求开展政务开放日活动",
    "执行全区统一的政策解读发布流程",
    "及时向区政务公开办报送工作信息",
    "配合区政务公开办完成第三方评估工作",
    "执行全区统一的依申请公开答复文书范本",
];

fn free_sentence(rng: &mut StdRng) -> String {
    format!(
        "{}，{}{}，{}。",
        pick(rng, &OPENERS),
        pick(rng, &ACTIONS),
        pick(rng, &OBJECTS),
        pick(rng, &RESULTS)
    )
}

/// Gives `r` a narrative of its own (sections 一, 五, 六), written without looking at any
/// other report: the required wording of the template in section 一, `prescribed` (a
/// district's common sentences) in sections 一 and 六, and free sentences drawn with `seed`.
/// The agency's name appears in it, as in real reports.
pub fn independent_narrative(r: &mut Report, seed: u64, prescribed: &[&str]) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x696e_6465);
    let agency = r.agency.clone().unwrap_or_default();
    let year = r.year.unwrap_or(2024);
    let mut one: Vec<String> = REQUIRED_WORDING
        .iter()
        .map(|s| format!("{}。", s.replace("{year}", &year.to_string())))
        .collect();
    one.push(format!(
        "{year}年，{agency}{}。",
        prescribed
            .first()
            .copied()
            .unwrap_or("认真贯彻落实《条例》")
    ));
    for _ in 0..rng.random_range(4..8) {
        one.push(free_sentence(&mut rng));
    }
    let mut five = Vec::new();
    for _ in 0..rng.random_range(2..4) {
        five.push(format!(
            "{}{}，主要原因是{}。",
            pick(&mut rng, &WEAK),
            pick(&mut rng, &STATE),
            pick(&mut rng, &CAUSE)
        ));
    }
    five.push(format!("下一步，{}", free_sentence(&mut rng)));
    let mut six: Vec<String> = prescribed
        .iter()
        .skip(1)
        .map(|s| format!("{s}。"))
        .collect();
    six.push("本年度未收取信息处理费。".to_string());
    six.push(free_sentence(&mut rng));
    r.sections = [(1, one), (5, five), (6, six)]
        .into_iter()
        .map(|(number, text)| Section {
            number,
            heading: String::new(),
            standard: true,
            text: text.join("\n"),
        })
        .collect();
}

/// `from`'s narrative copied by the agency of `to`: the other agency's name, year and
/// figures put in, one sentence of section 一 rewritten. What `history.text_shared` is for.
pub fn copied_narrative(from: &Report, to: &mut Report, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x636f_7079);
    let (old, new) = (
        from.agency.clone().unwrap_or_default(),
        to.agency.clone().unwrap_or_default(),
    );
    let (old_year, new_year) = (
        from.year.unwrap_or(2024).to_string(),
        to.year.unwrap_or(2024).to_string(),
    );
    to.sections = from
        .sections
        .iter()
        .map(|s| {
            let mut lines: Vec<String> = s
                .text
                .replace(&old, &new)
                .replace(&old_year, &new_year)
                .lines()
                .map(str::to_string)
                .collect();
            if s.number == 1
                && let Some(last) = lines.last_mut()
            {
                *last = free_sentence(&mut rng);
            }
            Section {
                text: lines.join("\n"),
                ..s.clone()
            }
        })
        .collect();
}
