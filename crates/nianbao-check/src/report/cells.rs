//! The template's cells as flat lists: every value of a report ([`report_cells`], what the
//! store keeps and the export and the comparison of two reports read), and every value
//! column of a template with its printed header ([`columns`]).

use serde::Serialize;

use crate::report::schema::{
    T1Value, T3_COLUMNS, T3_GROUPS, Want, app_column_printed, app_row, t1_rows,
};
use crate::report::{AppColumn, AppRow, Report, Template};

/// One value of the three tables, as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellValue {
    pub table: u8,
    pub row: &'static str,
    pub column: &'static str,
    pub value: Option<i64>,
    /// Decimal amounts (fees, procurement) as written.
    pub amount: Option<String>,
}

/// Every template cell of a report (missing values as `None`), in template order.
pub fn report_cells(report: &Report) -> Vec<CellValue> {
    let mut out = Vec::new();
    let mut int = |table, row, column, value: Option<i64>| {
        out.push(CellValue {
            table,
            row,
            column,
            value,
            amount: None,
        });
    };
    let mut amounts = Vec::new();
    if let Some(t1) = &report.active_disclosure {
        for (row, column, value) in t1.cells() {
            match column.want {
                Want::Amount => amounts.push((row.label.id, column.id, T1Value::amount(&value))),
                Want::Count | Want::Signed => int(1, row.label.id, column.id, T1Value::int(&value)),
            }
        }
    }
    if let Some(apps) = &report.applications {
        for (&row, values) in &apps.rows {
            for c in AppColumn::ALL {
                int(
                    2,
                    row.id(),
                    c.id(),
                    values.as_ref().and_then(|v| v[c.index()]),
                );
            }
        }
    }
    if let Some(t3) = &report.reviews_and_litigation {
        for (group, g) in t3.groups() {
            for ((column, _), value) in T3_COLUMNS.iter().zip(g.values()) {
                int(3, group, column, value);
            }
        }
    }
    for (row, column, amount) in amounts {
        out.push(CellValue {
            table: 1,
            row,
            column,
            value: None,
            amount,
        });
    }
    out
}

/// One exported value column: where it is in the store, and its header.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub table: u8,
    pub row: &'static str,
    pub column: &'static str,
    pub header: String,
    /// A decimal amount (万元) rather than a count.
    pub amount: bool,
}

/// The value columns of a template, in the order the template prints them.
pub fn columns(template: Template) -> Vec<Column> {
    let mut out = Vec::new();
    let mut col = |table, row, column, header: String, amount| {
        out.push(Column {
            table,
            row,
            column,
            header,
            amount,
        });
    };
    for row in t1_rows(template) {
        for c in row.columns {
            col(
                1,
                row.label.id,
                c.id,
                format!("表一 {} {}", row.label.printed, c.printed),
                c.want == Want::Amount,
            );
        }
    }
    for row in AppRow::for_template(template) {
        for c in AppColumn::ALL {
            col(
                2,
                row.id(),
                c.id(),
                format!("表二 {} {}", app_row(row).printed, app_column_printed(c)),
                false,
            );
        }
    }
    for (group, group_label) in T3_GROUPS {
        for (column, label) in T3_COLUMNS {
            col(
                3,
                group,
                column,
                format!("表三 {} {label}", group_label.replace('·', " ")),
                false,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_cover_every_cell() {
        assert_eq!(columns(Template::V2021).len(), 10 + 25 * 7 + 15);
        assert_eq!(columns(Template::V2019).len(), 6 + 12 + 4 + 23 * 7 + 15);
    }
}
