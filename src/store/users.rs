//! Users of the web console (table `users`): name, role, argon2id hash. Used when
//! `[http] users_file` is not set (see the `console::users` module).

use rusqlite::{Connection, OptionalExtension, params};

/// One user as stored; the role is checked by the console (`viewer` or `admin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    pub name: String,
    pub role: String,
    pub hash: String,
    /// The region the user is limited to (`None`: everything).
    pub region: Option<String>,
}

fn stored_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredUser> {
    Ok(StoredUser {
        name: r.get(0)?,
        role: r.get(1)?,
        hash: r.get(2)?,
        region: r.get(3)?,
    })
}

/// Every user, by name.
pub fn users(conn: &Connection) -> rusqlite::Result<Vec<StoredUser>> {
    let mut stmt = conn.prepare("SELECT name, role, hash, region FROM users ORDER BY name")?;
    stmt.query_map([], stored_user)?.collect()
}

/// The user called `name`, if any.
pub fn user(conn: &Connection, name: &str) -> rusqlite::Result<Option<StoredUser>> {
    conn.query_row(
        "SELECT name, role, hash, region FROM users WHERE name = ?1",
        [name],
        stored_user,
    )
    .optional()
}

pub fn count_users(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
}

/// Adds the user, or gives an existing one this role and hash; `true` when it is new.
pub fn put_user(conn: &Connection, u: &StoredUser, at: &str) -> rusqlite::Result<bool> {
    let existed = user(conn, &u.name)?.is_some();
    conn.execute(
        "INSERT INTO users (name, role, hash, created_at, region) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET role = excluded.role, hash = excluded.hash,
             region = excluded.region",
        params![u.name, u.role, u.hash, at, u.region],
    )?;
    Ok(!existed)
}

/// Removes the user; `false` when there was none of that name.
pub fn remove_user(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM users WHERE name = ?1", [name])? == 1)
}

/// The region each imported agency was put in (`nianbao import --bundle`): (folder, region).
pub fn agency_regions(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT folder, region FROM agency_regions")?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}
