//! `/export/{year}.csv|xlsx|json`: `nianbao export` from the console.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::Console;
use super::auth::Visitor;
use super::layout::{blocking, not_found};
use super::scope::scoped_region;
use super::submission::attachment;

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    /// Only this region's subtree (within the visitor's).
    region: Option<String>,
}

/// `/export/2025.csv|xlsx|json`: `nianbao export` of that report year (`?region=`: one
/// region's subtree; a user of a region gets its own).
pub async fn export(
    State(console): State<Arc<Console>>,
    Extension(v): Extension<Visitor>,
    Path(file): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let (year, format) = match file.split_once('.') {
        Some((y, f)) if ["csv", "xlsx", "json"].contains(&f) => match y.parse::<i32>() {
            Ok(y) if (1990..=9999).contains(&y) => (y, f.to_string()),
            _ => {
                return not_found(
                    &v,
                    "没有这个导出文件：请用总览页“导出本年度”的链接（CSV、Excel 或 JSON）。",
                );
            }
        },
        _ => {
            return not_found(
                &v,
                "没有这个导出文件：请用总览页“导出本年度”的链接（CSV、Excel 或 JSON）。",
            );
        }
    };
    let content_type = match format.as_str() {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "json" => "application/json",
        _ => "text/csv; charset=utf-8",
    };
    let region = match scoped_region(&console, &v, query.region).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let bytes = blocking(&console, move |c, store| {
        let e = crate::export::export_in(store, &c.config(), year, region.as_deref())?;
        match format.as_str() {
            "xlsx" => crate::export::to_xlsx(&e),
            "json" => crate::export::to_json(&e),
            _ => crate::export::to_csv(&e),
        }
    })
    .await;
    match bytes {
        Ok(b) => {
            let name = format!("nianbao-{file}");
            attachment(b, content_type, &name, &name)
        }
        Err(r) => r,
    }
}
