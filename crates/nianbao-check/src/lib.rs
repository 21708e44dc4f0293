//! The checker of nianbao: a government information-disclosure annual report's file
//! (政府信息公开工作年度报告) in, its typed report and the findings about it out, against the
//! national template and its arithmetic. Pure: no daemon, store, mail or configuration; what
//! a check needs to know besides the file (last year's report, the filing year, other
//! agencies' sentences) is handed in as a value ([`validate::Context`]).
//!
//! The modules follow the data's path: [`extract`] (file bytes -> blocks), [`report`]
//! (blocks -> the typed [`report::Report`]), [`validate`] (report -> findings), and [`check`],
//! which runs them on one file.

pub mod check;
pub mod clock;
pub mod extract;
pub mod finding;
pub mod overlap;
pub mod report;
pub mod rules;
pub mod shared_text;
pub mod validate;
