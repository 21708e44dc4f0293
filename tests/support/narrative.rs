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
