//! Console users: a name, a role and an argon2id hash of the password. They live in the
//! database (table `users`), or, when `[http] users_file` is set, in that file, one user a
//! line: `name<TAB>role<TAB>hash` (`#` starts a comment). `nianbao user add|list|remove`
//! manages either; the console reads them at every login and request, so a change takes
//! effect at once, without a restart.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rusqlite::Connection;

/// What a user may do: `viewer` reads, `admin` also acts (resend, review: later slices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// As shown in the console.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "只读",
            Role::Admin => "管理员",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// argon2id, PHC string (`$argon2id$v=19$...`).
    pub hash: String,
    /// The region (`[[region]]`) the user sees and acts on, its subtree included;
    /// `None`: everything.
    pub region: Option<String>,
}

/// Where the users are: the database or the configured file.
pub enum Users<'a> {
    Db(&'a Connection),
    File(&'a Path),
}

impl Users<'_> {
    /// Where, as said to the admin (in Chinese, with the file's path).
    pub fn describe(&self) -> String {
        match self {
            Users::Db(conn) => format!("数据库 {}", conn.path().unwrap_or("（内存）")),
            Users::File(p) => format!("用户文件 {}", p.display()),
        }
    }

    pub fn list(&self) -> anyhow::Result<Vec<User>> {
        match self {
            Users::Db(conn) => crate::store::users(conn)?
                .into_iter()
                .map(|u| {
                    let role = Role::parse(&u.role).with_context(|| {
                        format!(
                            "user {:?} has an unknown role {:?} in the database",
                            u.name, u.role
                        )
                    })?;
                    Ok(User {
                        name: u.name,
                        role,
                        hash: u.hash,
                        region: u.region,
                    })
                })
                .collect(),
            Users::File(path) => read_file(path),
        }
    }

    pub fn find(&self, name: &str) -> anyhow::Result<Option<User>> {
        match self {
            Users::Db(conn) => match crate::store::user(conn, name)? {
                None => Ok(None),
                Some(u) => Ok(Role::parse(&u.role).map(|role| User {
                    name: u.name,
                    role,
                    hash: u.hash,
                    region: u.region,
                })),
            },
            Users::File(_) => Ok(self.list()?.into_iter().find(|u| u.name == name)),
        }
    }

    /// Whether any user is configured (login is then required).
    pub fn any(&self) -> anyhow::Result<bool> {
        match self {
            Users::Db(conn) => Ok(crate::store::count_users(conn)? > 0),
            Users::File(_) => Ok(!self.list()?.is_empty()),
        }
    }

    /// Adds the user, or replaces the role and password of an existing one; `true` when new.
    pub fn put(&self, user: &User) -> anyhow::Result<bool> {
        check_name(&user.name)?;
        match self {
            Users::Db(conn) => Ok(crate::store::put_user(
                conn,
                &crate::store::StoredUser {
                    name: user.name.clone(),
                    role: user.role.as_str().to_string(),
                    hash: user.hash.clone(),
                    region: user.region.clone(),
                },
                &crate::time::now_utc(),
            )?),
            Users::File(path) => {
                let mut users = read_file(path)?;
                let new = match users.iter_mut().find(|u| u.name == user.name) {
                    Some(u) => {
                        *u = user.clone();
                        false
                    }
                    None => {
                        users.push(user.clone());
                        true
                    }
                };
                write_file(path, &users)?;
                Ok(new)
            }
        }
    }

    /// `false` when there was no such user.
    pub fn remove(&self, name: &str) -> anyhow::Result<bool> {
        match self {
            Users::Db(conn) => Ok(crate::store::remove_user(conn, name)?),
            Users::File(path) => {
                let mut users = read_file(path)?;
                let before = users.len();
                users.retain(|u| u.name != name);
                if users.len() == before {
                    return Ok(false);
                }
                write_file(path, &users)?;
                Ok(true)
            }
        }
    }
}

/// A user name: 1 to 64 characters, no spaces or control characters.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let n = name.chars().count();
    if n == 0 || n > 64 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        anyhow::bail!(
            "用户名须为 1 至 64 个字符，不含空格或控制字符 / a user name is 1 to 64 characters \
             without spaces or control characters: {name:?}"
        );
    }
    Ok(())
}

/// An argon2id hash (default parameters, random salt) of `password`.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Whether `password` matches `hash` (a malformed hash matches nothing).
pub fn verify_password(password: &str, hash: &str) -> bool {
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A hash to verify against when the name is unknown, so that an unknown name costs the
/// same time as a wrong password and does not give itself away.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("nianbao-no-such-user").unwrap_or_default())
}

/// The users of a users file; a missing file has none.
fn read_file(path: &Path) -> anyhow::Result<Vec<User>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(e).with_context(|| format!("[http] users_file {}", path.display()));
        }
    };
    parse_file(&text).with_context(|| format!("[http] users_file {}", path.display()))
}

pub fn parse_file(text: &str) -> anyhow::Result<Vec<User>> {
    let mut users = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split('\t').collect();
        let (name, role, hash, region) = match parts[..] {
            [name, role, hash] => (name, role, hash, None),
            [name, role, hash, region] if !region.is_empty() => {
                (name, role, hash, Some(region.to_string()))
            }
            _ => anyhow::bail!(
                "line {}: expected name<TAB>role<TAB>hash[<TAB>region] (use `nianbao user add`)",
                i + 1
            ),
        };
        let role = Role::parse(role)
            .with_context(|| format!("line {}: role {role:?} is not viewer or admin", i + 1))?;
        users.push(User {
            name: name.to_string(),
            role,
            hash: hash.to_string(),
            region,
        });
    }
    Ok(users)
}

pub fn format_file(users: &[User]) -> String {
    let mut out = String::from(
        "# nianbao console users: name<TAB>role<TAB>argon2id hash[<TAB>region]. Edit with `nianbao user`.\n",
    );
    for u in users {
        out.push_str(&format!("{}\t{}\t{}", u.name, u.role.as_str(), u.hash));
        if let Some(r) = &u.region {
            out.push_str(&format!("\t{r}"));
        }
        out.push('\n');
    }
    out
}

/// Replaces the file whole (temporary file, fsync, rename), readable by owner and group.
fn write_file(path: &Path, users: &[User]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "users".into()),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .open(&tmp)?;
        f.write_all(format_file(users).as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("cannot write [http] users_file {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct hors", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn users_file_round_trips_and_names_bad_lines() {
        let users = vec![
            User {
                name: "张三".into(),
                role: Role::Admin,
                hash: "$argon2id$x".into(),
                region: None,
            },
            User {
                name: "li".into(),
                role: Role::Viewer,
                hash: "$argon2id$y".into(),
                region: Some("西塞山区".into()),
            },
        ];
        assert_eq!(parse_file(&format_file(&users)).expect("parse"), users);
        let err = parse_file("a\tboss\th\n").expect_err("role");
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(parse_file("a b c\n").is_err());
    }

    #[test]
    fn file_users_are_added_replaced_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("users");
        let users = Users::File(&path);
        assert!(!users.any().expect("none yet"));
        let u = User {
            name: "wang".into(),
            role: Role::Viewer,
            hash: "h1".into(),
            region: None,
        };
        assert!(users.put(&u).expect("add"));
        let again = User {
            role: Role::Admin,
            ..u.clone()
        };
        assert!(!users.put(&again).expect("replace"));
        assert_eq!(users.find("wang").expect("find"), Some(again));
        assert!(users.remove("wang").expect("remove"));
        assert!(!users.remove("wang").expect("gone"));
        assert!(
            users
                .put(&User {
                    name: "a b".into(),
                    ..u
                })
                .is_err()
        );
    }
}
