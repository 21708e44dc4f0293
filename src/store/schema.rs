//! Schema migrations, applied in order at start (`PRAGMA user_version` counts them).
//! Never edit a migration that has shipped: add a new one.

use rusqlite_migration::{M, Migrations};

pub fn migrations() -> Migrations<'static> {
    // Over 80 lines on purpose: the list of migrations, in order, each with the reason for its
    // change: one long list is how the schema's history reads (a migration is never changed once
    // shipped).
    Migrations::new(vec![
        M::up(
            "
        CREATE TABLE submissions (
            id              INTEGER PRIMARY KEY,
            receipt         TEXT NOT NULL UNIQUE,      -- NB-2026-000123
            agency_folder   TEXT,                      -- NULL: top level or unknown folder
            agency_name     TEXT,
            original_name   TEXT NOT NULL,             -- path relative to the inbox
            size            INTEGER NOT NULL,
            sha256          TEXT NOT NULL,             -- also the archive file name
            source_identity TEXT,                      -- dev:ino:mtime:size of the inbox file
            received_at     TEXT NOT NULL,             -- UTC, when archived
            state           TEXT NOT NULL,             -- archived | checked | duplicate
            duplicate_of    INTEGER REFERENCES submissions(id),
            format          TEXT,
            encoding        TEXT,
            template        TEXT,
            year            INTEGER,
            verdict         TEXT,                      -- accepted | rejected
            errors          INTEGER,
            warnings        INTEGER,
            superseded_by   INTEGER REFERENCES submissions(id),
            report_json     TEXT,
            checked_at      TEXT,
            check_ms        INTEGER
        );
        CREATE INDEX submissions_agency_year ON submissions(agency_folder, year);
        CREATE INDEX submissions_sha256 ON submissions(sha256);
        CREATE INDEX submissions_state ON submissions(state);
        CREATE UNIQUE INDEX submissions_source ON submissions(source_identity);

        CREATE TABLE cells (
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            tbl           INTEGER NOT NULL,            -- 1, 2, 3
            row           TEXT NOT NULL,               -- row id of check-json.md
            col           TEXT NOT NULL,               -- column id
            value         INTEGER,                     -- counts; NULL when not given
            amount        TEXT,                        -- decimal amounts as written
            PRIMARY KEY (submission_id, tbl, row, col)
        );

        CREATE TABLE findings (
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            seq           INTEGER NOT NULL,
            rule          TEXT NOT NULL,
            severity      TEXT NOT NULL,
            section       INTEGER,
            tbl           INTEGER,
            row           TEXT,
            col           TEXT,
            line          INTEGER,
            cell          TEXT,
            expected      TEXT,
            actual        TEXT,
            message       TEXT NOT NULL,
            PRIMARY KEY (submission_id, seq)
        );
        CREATE INDEX findings_rule ON findings(rule);

        CREATE TABLE outbox (
            id              INTEGER PRIMARY KEY,
            submission_id   INTEGER REFERENCES submissions(id),
            kind            TEXT NOT NULL,             -- feedback | duplicate | admin | digest
            recipient       TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            subject         TEXT NOT NULL,
            body_text       TEXT NOT NULL,
            body_html       TEXT,
            state           TEXT NOT NULL,             -- pending | sent | failed
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error      TEXT,
            created_at      TEXT NOT NULL,
            sent_at         TEXT
        );
        CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
        ",
        ),
        // State `failed`: a submission that cannot be checked at all (its archived copy is
        // missing or no longer matches its sha256). `failure` says why, for the admin; the
        // submission is never taken again by itself, so one bad file cannot stop a start.
        M::up("ALTER TABLE submissions ADD COLUMN failure TEXT;"),
        // Published reports of past years brought in by `nianbao import`: the cross-year
        // rules' previous report in nianbao's first season. Never submissions: no receipt,
        // no mail, not in status, export or digest.
        M::up(
            "
        CREATE TABLE history (
            id            INTEGER PRIMARY KEY,
            agency_folder TEXT NOT NULL,               -- the agency's inbox folder
            agency_name   TEXT,
            year          INTEGER NOT NULL,
            sha256        TEXT NOT NULL,
            original_name TEXT NOT NULL,               -- path relative to the imported folder
            size          INTEGER NOT NULL,
            format        TEXT,
            report_json   TEXT NOT NULL,
            imported_at   TEXT NOT NULL,               -- UTC
            UNIQUE (agency_folder, year, sha256)
        );
        ",
        ),
        // Users of the web console (`nianbao user add`) when `[http] users_file` is not set.
        M::up(
            "
        CREATE TABLE users (
            name       TEXT PRIMARY KEY,
            role       TEXT NOT NULL,                  -- viewer | admin
            hash       TEXT NOT NULL,                  -- argon2id, PHC string
            created_at TEXT NOT NULL                   -- UTC
        );
        ",
        ),
        // Officer review (人工复核, issue 16): one row per action on a submission, never
        // updated: `hold` (the daemon held its feedback, `[review] hold`), `release`,
        // `accept` / `return` (the verdict overruled; `verdict` is the new one),
        // `not_applicable` (finding `finding_seq` does not apply), `resend`.
        M::up(
            "
        CREATE TABLE reviews (
            id            INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            action        TEXT NOT NULL,
            verdict       TEXT,                        -- accepted | rejected (accept, return)
            finding_seq   INTEGER,                     -- not_applicable: findings.seq
            reason        TEXT NOT NULL,
            reviewer      TEXT NOT NULL,               -- console user, or who acted
            decided_at    TEXT NOT NULL                -- UTC
        );
        CREATE INDEX reviews_submission ON reviews(submission_id, id);
        ",
        ),
        // The HTML part of a feedback rendered when it is sent, not when it is queued
        // (issue 17): `html_from` holds what the renderer needs beside the submission's
        // stored report and findings (JSON `{"agency": …, "file": …}`), `body_html` stays
        // NULL. Rows queued before keep their `body_html`.
        M::up("ALTER TABLE outbox ADD COLUMN html_from TEXT;"),
        // Compact cells and findings (issue 17): one row per table of a report instead of
        // one per cell (≈200), and the findings of a submission serialised once, as JSON.
        // `cells` and `findings` stay queryable under their old names and columns, as views
        // (`cells.seq` is the cell's place in its table, `findings.seq` the finding's).
        // Existing rows are converted in place.
        M::up(
            "
        CREATE TABLE cell_tables (
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            tbl           INTEGER NOT NULL,            -- 1, 2, 3
            cells         TEXT NOT NULL,               -- JSON [[row, col, value, amount], …]
            PRIMARY KEY (submission_id, tbl)
        ) WITHOUT ROWID;
        INSERT INTO cell_tables (submission_id, tbl, cells)
            SELECT submission_id, tbl,
                   json_group_array(json_array(row, col, value, amount) ORDER BY rowid)
            FROM cells GROUP BY submission_id, tbl;
        DROP TABLE cells;
        CREATE VIEW cells AS
            SELECT c.submission_id AS submission_id, c.tbl AS tbl,
                   j.value ->> 0 AS row, j.value ->> 1 AS col,
                   j.value ->> 2 AS value, j.value ->> 3 AS amount, j.key AS seq
            FROM cell_tables c, json_each(c.cells) j;

        CREATE TABLE finding_lists (
            submission_id INTEGER PRIMARY KEY REFERENCES submissions(id),
            findings      TEXT NOT NULL                -- JSON array of check-json.md findings
        );
        INSERT INTO finding_lists (submission_id, findings)
            SELECT submission_id,
                   json_group_array(json_object(
                       'rule', rule, 'severity', severity,
                       'location', json_object('section', section, 'table', tbl, 'row', row,
                                               'column', col, 'line', line, 'cell', cell),
                       'expected', expected, 'actual', actual, 'message', message)
                     ORDER BY seq)
            FROM findings GROUP BY submission_id;
        DROP TABLE findings;
        CREATE VIEW findings AS
            SELECT f.submission_id AS submission_id, j.key AS seq,
                   j.value ->> '$.rule' AS rule, j.value ->> '$.severity' AS severity,
                   j.value ->> '$.location.section' AS section,
                   j.value ->> '$.location.table' AS tbl,
                   j.value ->> '$.location.row' AS row,
                   j.value ->> '$.location.column' AS col,
                   j.value ->> '$.location.line' AS line,
                   j.value ->> '$.location.cell' AS cell,
                   j.value ->> '$.expected' AS expected, j.value ->> '$.actual' AS actual,
                   j.value ->> '$.message' AS message
            FROM finding_lists f, json_each(f.findings) j;
        ",
        ),
        // Who dropped the file (issue 23): the inbox file's owner, its uid and the user
        // name the system knew for it when it was taken (NULL for submissions before); and
        // when `[retention] archive_years` removed its archived original (NULL: kept).
        M::up(
            "ALTER TABLE submissions ADD COLUMN owner_uid INTEGER;
             ALTER TABLE submissions ADD COLUMN owner_name TEXT;
             ALTER TABLE submissions ADD COLUMN archive_removed_at TEXT;",
        ),
        // The versions of an agency's report not yet superseded: superseding the older
        // ones when a new version is stored looks at these only. Through the (agency, year)
        // index it read every earlier version (5,000 files into one folder: 286 files/s).
        M::up(
            "CREATE INDEX submissions_current ON submissions(agency_folder, year)
                 WHERE superseded_by IS NULL;",
        ),
        // Regions and bundles (issue 28): a console user may be limited to a region
        // (`users.region`, NULL: everything); a submission brought in by `nianbao import
        // --bundle` names the office it came from (`origin`, NULL: this office's own) and
        // keeps that office's receipt (`origin_receipt`); the region each imported agency
        // was put in (`agency_regions`).
        M::up(
            "ALTER TABLE users ADD COLUMN region TEXT;
             ALTER TABLE submissions ADD COLUMN origin TEXT;
             ALTER TABLE submissions ADD COLUMN origin_receipt TEXT;
             CREATE UNIQUE INDEX submissions_origin
                 ON submissions(origin, origin_receipt) WHERE origin IS NOT NULL;
             CREATE TABLE agency_regions (
                 folder TEXT PRIMARY KEY,                  -- the agency's folder at its office
                 region TEXT NOT NULL,                     -- [[region]] name here
                 origin TEXT NOT NULL                      -- the office it came from
             );",
        ),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
