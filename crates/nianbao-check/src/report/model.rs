//! The typed report: what one annual report says, in the row and column ids of
//! `docs/check-json.md`. Every value is an `Option`: `None` means the file did not
//! give it (blank, `/`, unreadable, or the row was missing), never an invented 0. Why it is
//! missing is said by a finding, not here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The national template the report follows; decided from table 1's column labels and the
/// shape of table 2, never from the notice the report cites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Template {
    /// 国办公开办函〔2021〕30号, for 2021 and later reports.
    #[serde(rename = "2021")]
    V2021,
    /// The trial template of 国办公开办函〔2019〕60号, for 2019 and 2020 reports.
    #[serde(rename = "2019")]
    V2019,
}

impl Template {
    pub fn as_str(self) -> &'static str {
        match self {
            Template::V2021 => "2021",
            Template::V2019 => "2019",
        }
    }
}

/// One parsed report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The agency as named in the title (`<agency><year>年政府信息公开工作年度报告`).
    pub agency: Option<String>,
    pub year: Option<i32>,
    /// The title line as found, whitespace removed.
    pub title: Option<String>,
    pub template: Option<Template>,
    /// The statistics period stated in section 一.
    pub period: Option<Period>,
    /// The six sections in the order found, with their text (tables excluded).
    pub sections: Vec<Section>,
    pub active_disclosure: Option<ActiveDisclosure>,
    pub applications: Option<Applications>,
    pub reviews_and_litigation: Option<ReviewsAndLitigation>,
}

/// `本报告中所列数据的统计期限自YYYY年1月1日起至YYYY年12月31日止`, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The sentence as written.
    pub text: String,
    /// `YYYY-MM-DD`, when the date could be read.
    pub start: Option<String>,
    pub end: Option<String>,
}

/// One of the six template sections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// 1 to 6, the template's 一 to 六.
    pub number: u8,
    /// The heading as written.
    pub heading: String,
    /// Whether the heading is the template's wording (ignoring punctuation and spaces).
    pub standard: bool,
    /// The section's narrative text, without the table.
    pub text: String,
}

/// Table 1, in whichever template the report uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ActiveDisclosure {
    V2021(ActiveDisclosure2021),
    V2019(ActiveDisclosure2019),
}

/// Table 1 of the 2021 template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveDisclosure2021 {
    pub regulations: Option<DocumentCounts>,
    pub normative_documents: Option<DocumentCounts>,
    pub administrative_licensing: Option<i64>,
    pub administrative_punishment: Option<i64>,
    pub administrative_enforcement: Option<i64>,
    /// 万元, a decimal string so that 0.0125 stays exact.
    pub administrative_fees: Option<String>,
}

/// 本年制发件数, 本年废止件数, 现行有效件数.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentCounts {
    pub issued: Option<i64>,
    pub repealed: Option<i64>,
    pub in_force: Option<i64>,
}

/// Table 1 of the 2019 trial template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveDisclosure2019 {
    pub regulations: Option<PublishedCounts>,
    pub normative_documents: Option<PublishedCounts>,
    pub administrative_licensing: Option<ItemCounts>,
    pub other_management_services: Option<ItemCounts>,
    pub administrative_punishment: Option<ItemCounts>,
    pub administrative_enforcement: Option<ItemCounts>,
    pub administrative_fees: Option<FeeItems>,
    pub government_procurement: Option<Procurement>,
}

/// 本年新制作数量, 本年新公开数量, 对外公开总数量 (2019).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedCounts {
    pub made: Option<i64>,
    pub published: Option<i64>,
    pub total_published: Option<i64>,
}

/// 上一年项目数量, 本年增/减 (may be negative), 处理决定数量 (2019).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemCounts {
    pub previous_year: Option<i64>,
    pub change: Option<i64>,
    pub decisions: Option<i64>,
}

/// 上一年项目数量, 本年增/减 (2019 行政事业性收费).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeItems {
    pub previous_year: Option<i64>,
    pub change: Option<i64>,
}

/// 采购项目数量, 采购总金额 (2019 政府集中采购; the amount has no unit in the template).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procurement {
    pub projects: Option<i64>,
    pub amount: Option<String>,
}

/// The seven applicant columns of table 2, in template order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppColumn {
    NaturalPerson,
    CommercialEnterprise,
    ResearchInstitution,
    SocialWelfareOrganization,
    LegalServiceInstitution,
    OtherOrganization,
    Total,
}

impl AppColumn {
    pub const ALL: [AppColumn; 7] = [
        AppColumn::NaturalPerson,
        AppColumn::CommercialEnterprise,
        AppColumn::ResearchInstitution,
        AppColumn::SocialWelfareOrganization,
        AppColumn::LegalServiceInstitution,
        AppColumn::OtherOrganization,
        AppColumn::Total,
    ];

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The rows of table 2 (both templates), in template order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppRow {
    NewReceived,
    CarriedOver,
    Granted,
    PartiallyGranted,
    WithheldStateSecret,
    WithheldProhibitedByLaw,
    WithheldSecurityStability,
    WithheldThirdPartyRights,
    WithheldInternalAffairs,
    WithheldProcessInformation,
    WithheldEnforcementCaseFile,
    WithheldAdministrativeQuery,
    UnavailableNotHeld,
    UnavailableNeedsCreation,
    UnavailableUnclear,
    NotProcessedPetition,
    NotProcessedDuplicate,
    NotProcessedPublication,
    NotProcessedExcessive,
    NotProcessedConfirmation,
    OtherOverdueCorrection,
    OtherUnpaidFee,
    OtherOther,
    /// （六）其他处理 as one row: 2019 template only.
    OtherHandling,
    TotalHandled,
    CarriedForward,
}

impl AppRow {
    pub const ALL: [AppRow; 26] = [
        AppRow::NewReceived,
        AppRow::CarriedOver,
        AppRow::Granted,
        AppRow::PartiallyGranted,
        AppRow::WithheldStateSecret,
        AppRow::WithheldProhibitedByLaw,
        AppRow::WithheldSecurityStability,
        AppRow::WithheldThirdPartyRights,
        AppRow::WithheldInternalAffairs,
        AppRow::WithheldProcessInformation,
        AppRow::WithheldEnforcementCaseFile,
        AppRow::WithheldAdministrativeQuery,
        AppRow::UnavailableNotHeld,
        AppRow::UnavailableNeedsCreation,
        AppRow::UnavailableUnclear,
        AppRow::NotProcessedPetition,
        AppRow::NotProcessedDuplicate,
        AppRow::NotProcessedPublication,
        AppRow::NotProcessedExcessive,
        AppRow::NotProcessedConfirmation,
        AppRow::OtherOverdueCorrection,
        AppRow::OtherUnpaidFee,
        AppRow::OtherOther,
        AppRow::OtherHandling,
        AppRow::TotalHandled,
        AppRow::CarriedForward,
    ];

    /// The rows a report in `template` must have, in order.
    pub fn for_template(template: Template) -> impl Iterator<Item = AppRow> {
        AppRow::ALL.into_iter().filter(move |row| match template {
            Template::V2021 => *row != AppRow::OtherHandling,
            Template::V2019 => !matches!(
                row,
                AppRow::OtherOverdueCorrection | AppRow::OtherUnpaidFee | AppRow::OtherOther
            ),
        })
    }

    /// The outcome rows （一）…（六） whose sum is （七）总计.
    pub fn is_outcome(self) -> bool {
        !matches!(
            self,
            AppRow::NewReceived
                | AppRow::CarriedOver
                | AppRow::TotalHandled
                | AppRow::CarriedForward
        )
    }
}

/// One row of table 2: the seven columns, each `None` when not given.
pub type AppValues = [Option<i64>; 7];

/// Table 2: every row of the report's template, `None` where the row could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Applications {
    pub rows: BTreeMap<AppRow, Option<AppValues>>,
}

impl Applications {
    pub fn get(&self, row: AppRow) -> Option<&AppValues> {
        self.rows.get(&row).and_then(|v| v.as_ref())
    }
}

/// Table 3: three groups of five.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewsAndLitigation {
    pub review: ReviewGroup,
    pub litigation_direct: ReviewGroup,
    pub litigation_after_review: ReviewGroup,
}

impl ReviewsAndLitigation {
    pub fn groups(&self) -> [(&'static str, &ReviewGroup); 3] {
        [
            ("review", &self.review),
            ("litigation_direct", &self.litigation_direct),
            ("litigation_after_review", &self.litigation_after_review),
        ]
    }
}

/// 结果维持, 结果纠正, 其他结果, 尚未审结, 总计.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewGroup {
    pub upheld: Option<i64>,
    pub corrected: Option<i64>,
    pub other: Option<i64>,
    pub pending: Option<i64>,
    pub total: Option<i64>,
}

impl ReviewGroup {
    pub fn values(&self) -> [Option<i64>; 5] {
        [
            self.upheld,
            self.corrected,
            self.other,
            self.pending,
            self.total,
        ]
    }

    pub fn from_values(v: [Option<i64>; 5]) -> ReviewGroup {
        ReviewGroup {
            upheld: v[0],
            corrected: v[1],
            other: v[2],
            pending: v[3],
            total: v[4],
        }
    }
}
