//! The likely culprit: one cell whose correction would satisfy every failed sum.
//!
//! One wrong number usually breaks several relations at once: a wrong （七）总计 in the 总计
//! column breaks its row total, its column's outcome total and the column's balance, and the
//! clerk gets three errors to untangle. The tables' relations are linear equations over the
//! cells, so this module asks them directly: is there exactly one cell that lies in every
//! failed equation and in no satisfied one, such that one value for it satisfies all the
//! failed ones? Then that cell is almost surely the typo, and the message says so first.
//!
//! It names a cell only when exactly one exists. Two wrong cells, or one wrong cell of table
//! 3 (each of its groups has a single relation, so any of its five cells would do), name none:
//! a guess would send the clerk to change a correct number.

use crate::report::schema::{T3_COLUMNS, column_printed, row_printed};
use crate::report::{AppColumn, AppRow, Report};

/// A cell of table 2 or 3, by the ids of check-json.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub table: u8,
    pub row: &'static str,
    pub column: &'static str,
}

/// `Σ left = Σ right`, over cells that were all read.
#[derive(Debug, Clone)]
struct Equation {
    left: Vec<(Cell, i64)>,
    right: Vec<(Cell, i64)>,
}

impl Equation {
    fn imbalance(&self) -> i64 {
        let sum = |side: &[(Cell, i64)]| side.iter().map(|(_, v)| *v).sum::<i64>();
        sum(&self.left) - sum(&self.right)
    }

    fn holds(&self) -> bool {
        self.imbalance() == 0
    }

    fn contains(&self, cell: Cell) -> bool {
        self.left.iter().chain(&self.right).any(|(c, _)| *c == cell)
    }

    /// The value `cell` must have for the equation to hold, the other cells as they are.
    fn solve_for(&self, cell: Cell) -> Option<i64> {
        let d = self.imbalance();
        if let Some((_, v)) = self.left.iter().find(|(c, _)| *c == cell) {
            return Some(v - d);
        }
        self.right
            .iter()
            .find(|(c, _)| *c == cell)
            .map(|(_, v)| v + d)
    }
}

/// The cell to correct, what it holds and what it should hold. In `check --json` as one
/// object of `likely_culprits` (see docs/check-json.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Culprit {
    pub cell: Cell,
    pub actual: i64,
    pub expected: i64,
    /// How many failed relations (each one error) the correction removes.
    pub explains: usize,
}

impl serde::Serialize for Culprit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut o = s.serialize_struct("Culprit", 7)?;
        o.serialize_field("table", &self.cell.table)?;
        o.serialize_field("row", self.cell.row)?;
        o.serialize_field("column", self.cell.column)?;
        o.serialize_field("actual", &self.actual)?;
        o.serialize_field("expected", &self.expected)?;
        o.serialize_field("explains", &self.explains)?;
        o.serialize_field("message", &self.message())?;
        o.end()
    }
}

impl Culprit {
    /// Whether `table`, `row`, `column` is this cell.
    pub fn is(&self, table: u8, row: &str, column: &str) -> bool {
        self.cell.table == table && self.cell.row == row && self.cell.column == column
    }

    /// The first item of the list a clerk reads, after its label 【最可能的原因】.
    pub fn message(&self) -> String {
        // A total is checked against its parts; a part against the totals it belongs to.
        let basis = if self.cell.column == "total" || self.cell.row == "total_handled" {
            "按各项之和应为"
        } else {
            "按表内合计关系应为"
        };
        format!(
            "{}填的是 {}，{basis} {}；改正这一格即可消除下列 {} 处合计不符的错误。",
            describe(self.cell),
            self.actual,
            self.expected,
            self.explains
        )
    }
}

/// `表二“（七）总计”行“总计”列`, `表三“行政复议”的“总计”`.
pub fn describe(cell: Cell) -> String {
    let row = row_printed(cell.table, cell.row).unwrap_or(cell.row);
    let column = column_printed(cell.table, cell.column).unwrap_or(cell.column);
    match cell.table {
        2 => format!("表二“{row}”行“{column}”列"),
        _ => format!("表三“{}”的“{column}”", row.replace('·', "—")),
    }
}

/// The relations of tables 2 and 3 that `validate::arithmetic` checks, as equations over the
/// cells that were read (a relation with an unread cell is left out, as there).
fn equations(report: &Report) -> Vec<Equation> {
    let mut out = Vec::new();
    if let Some(apps) = &report.applications {
        let cell = |row: AppRow, c: AppColumn| -> Option<(Cell, i64)> {
            let v = apps.get(row)?[c.index()]?;
            Some((
                Cell {
                    table: 2,
                    row: row.id(),
                    column: c.id(),
                },
                v,
            ))
        };
        let all = |cells: Vec<Option<(Cell, i64)>>| cells.into_iter().collect::<Option<Vec<_>>>();
        let parts = &AppColumn::ALL[..AppColumn::Total.index()];
        for &row in apps.rows.keys() {
            if let (Some(left), Some(total)) = (
                all(parts.iter().map(|&c| cell(row, c)).collect()),
                cell(row, AppColumn::Total),
            ) {
                out.push(Equation {
                    left,
                    right: vec![total],
                });
            }
        }
        let outcomes: Vec<AppRow> = apps
            .rows
            .keys()
            .copied()
            .filter(|r| r.is_outcome())
            .collect();
        for c in AppColumn::ALL {
            if let (Some(left), Some(total)) = (
                all(outcomes.iter().map(|&r| cell(r, c)).collect()),
                cell(AppRow::TotalHandled, c),
            ) {
                out.push(Equation {
                    left,
                    right: vec![total],
                });
            }
            if let (Some(left), Some(right)) = (
                all(vec![
                    cell(AppRow::NewReceived, c),
                    cell(AppRow::CarriedOver, c),
                ]),
                all(vec![
                    cell(AppRow::TotalHandled, c),
                    cell(AppRow::CarriedForward, c),
                ]),
            ) {
                out.push(Equation { left, right });
            }
        }
    }
    if let Some(t3) = &report.reviews_and_litigation {
        for (group, values) in t3.groups() {
            let cells: Option<Vec<(Cell, i64)>> = values
                .values()
                .iter()
                .zip(T3_COLUMNS)
                .map(|(v, (column, _))| {
                    v.map(|v| {
                        (
                            Cell {
                                table: 3,
                                row: group,
                                column,
                            },
                            v,
                        )
                    })
                })
                .collect();
            if let Some(mut cells) = cells
                && let Some(total) = cells.pop()
            {
                out.push(Equation {
                    left: cells,
                    right: vec![total],
                });
            }
        }
    }
    out
}

/// For each table's failed relations, the one cell whose correction satisfies all of them and breaks no
/// relation that holds, where there is exactly one.
pub fn find(report: &Report) -> Vec<Culprit> {
    let equations = equations(report);
    let (failed, held): (Vec<&Equation>, Vec<&Equation>) =
        equations.iter().partition(|e| !e.holds());
    components(&failed)
        .into_iter()
        .filter_map(|component| unique_fix(&component, &held))
        .collect()
}

/// Failed relations grouped by table: a mistake in table 2 and one in table 3 are two
/// questions, each with its own answer. Within table 2 every relation is tied to the others
/// (each row meets each column), so two mistakes there are one question with no one-cell
/// answer, as they should be.
fn components<'a>(failed: &[&'a Equation]) -> Vec<Vec<&'a Equation>> {
    let table = |e: &Equation| e.left.first().map(|(c, _)| c.table);
    let mut out: Vec<Vec<&Equation>> = Vec::new();
    for &e in failed {
        match out.iter_mut().find(|comp| table(comp[0]) == table(e)) {
            Some(comp) => comp.push(e),
            None => out.push(vec![e]),
        }
    }
    out
}

fn unique_fix(failed: &[&Equation], held: &[&Equation]) -> Option<Culprit> {
    let first = failed.first()?;
    let mut found: Option<Culprit> = None;
    for &(cell, actual) in first.left.iter().chain(&first.right) {
        if !failed.iter().all(|e| e.contains(cell)) || held.iter().any(|e| e.contains(cell)) {
            continue;
        }
        let mut values = failed.iter().map(|e| e.solve_for(cell));
        let Some(Some(expected)) = values.next() else {
            continue;
        };
        if expected < 0 || !values.all(|v| v == Some(expected)) {
            continue;
        }
        if found.is_some() {
            return None; // two cells would do: do not guess
        }
        found = Some(Culprit {
            cell,
            actual,
            expected,
            explains: failed.len(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Applications, ReviewGroup, ReviewsAndLitigation};

    /// A balanced table 2 (three outcome rows) and table 3.
    fn balanced() -> Report {
        let mut apps = Applications::default();
        let row = |v: [i64; 6]| {
            let mut out = [None; 7];
            for (o, x) in out.iter_mut().zip(v) {
                *o = Some(x);
            }
            out[6] = Some(v.iter().sum());
            Some(out)
        };
        apps.rows
            .insert(AppRow::NewReceived, row([10, 2, 0, 0, 0, 1]));
        apps.rows
            .insert(AppRow::CarriedOver, row([1, 0, 0, 0, 0, 0]));
        apps.rows.insert(AppRow::Granted, row([6, 1, 0, 0, 0, 1]));
        apps.rows
            .insert(AppRow::PartiallyGranted, row([3, 1, 0, 0, 0, 0]));
        apps.rows
            .insert(AppRow::TotalHandled, row([9, 2, 0, 0, 0, 1]));
        apps.rows
            .insert(AppRow::CarriedForward, row([2, 0, 0, 0, 0, 0]));
        let g = ReviewGroup::from_values([Some(1), Some(2), Some(0), Some(0), Some(3)]);
        Report {
            applications: Some(apps),
            reviews_and_litigation: Some(ReviewsAndLitigation {
                review: g,
                litigation_direct: g,
                litigation_after_review: g,
            }),
            ..Report::default()
        }
    }

    fn set(r: &mut Report, row: AppRow, c: AppColumn, v: i64) {
        if let Some(Some(values)) = r.applications.as_mut().and_then(|a| a.rows.get_mut(&row)) {
            values[c.index()] = Some(v);
        }
    }

    #[test]
    fn balanced_tables_have_no_culprit() {
        assert_eq!(find(&balanced()), vec![]);
    }

    #[test]
    fn a_wrong_grand_total_is_named_with_its_value() {
        let mut r = balanced();
        set(&mut r, AppRow::TotalHandled, AppColumn::Total, 14);
        let found = find(&r);
        assert_eq!(found.len(), 1, "{found:?}");
        let c = &found[0];
        assert_eq!(c.cell.row, "total_handled");
        assert_eq!(c.cell.column, "total");
        assert_eq!((c.actual, c.expected, c.explains), (14, 12, 3));
        assert!(
            c.message().contains("“（七）总计”行“总计”列填的是 14"),
            "{}",
            c.message()
        );
    }

    #[test]
    fn two_wrong_cells_name_none() {
        let mut r = balanced();
        set(&mut r, AppRow::Granted, AppColumn::NaturalPerson, 7);
        set(
            &mut r,
            AppRow::CarriedForward,
            AppColumn::CommercialEnterprise,
            5,
        );
        assert_eq!(find(&r), vec![]);
    }

    #[test]
    fn a_wrong_table_3_cell_is_ambiguous() {
        let mut r = balanced();
        if let Some(t3) = r.reviews_and_litigation.as_mut() {
            t3.review.corrected = Some(5);
        }
        assert_eq!(find(&r), vec![]);
    }

    #[test]
    fn a_table_2_culprit_is_named_beside_an_independent_table_3_mistake() {
        let mut r = balanced();
        set(&mut r, AppRow::Granted, AppColumn::NaturalPerson, 9);
        if let Some(t3) = r.reviews_and_litigation.as_mut() {
            t3.review.total = Some(4);
        }
        let found = find(&r);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].cell.row, found[0].expected), ("granted", 6));
    }
}
