//! nianbao reads government information-disclosure annual reports (政府信息公开工作年度报告),
//! checks them against the national template and its arithmetic, and tells the submitting
//! agency what to fix.
//!
//! The modules follow the data's path: [`extract`] (file bytes -> blocks), [`report`]
//! (blocks -> the typed [`report::Report`]), [`validate`] (report -> findings), and the
//! daemon's stages built on them. The first ones, the checker, are the crate `nianbao_check`
//! (crates/nianbao-check), re-exported here under their names.

pub use nianbao_check::{check, extract, finding, report, rules, shared_text, validate};

pub mod backup;
pub mod bundle;
pub mod compare;
pub mod config;
pub mod console;
pub mod deadlines;
pub mod escape;
pub mod export;
pub mod files;
pub mod folders;
pub mod http;
pub mod http_serve;
pub mod import;
pub mod ingest;
pub mod mail;
pub mod metrics;
pub mod preflight;
pub mod recovery;
pub mod region;
pub mod retention;
pub mod review;
pub mod safe_fs;
pub mod season;
pub mod shared_config;
pub mod status;
pub mod store;
pub mod summary;
pub mod time;
pub mod watch;
pub mod width;
