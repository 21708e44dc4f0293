//! `nianbao db check`, `nianbao db backup FILE` and `nianbao db restore FILE` (see
//! `nianbao::backup`).

use std::path::Path;
use std::process::ExitCode;

use super::existing_db;

pub fn backup(file: &Path, config: Option<&Path>) -> ExitCode {
    let db = match existing_db(config) {
        Ok(db) => db,
        Err(code) => return code,
    };
    match nianbao::backup::backup(&db, file) {
        Ok(size) => {
            println!(
                "已备份数据库到 {}（{size} 字节，完整性检查：ok）。请同时备份 {}。",
                file.display(),
                db.with_file_name("archive").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nianbao: 备份失败 / backup failed: {e:#}");
            ExitCode::from(1)
        }
    }
}

pub fn restore(file: &Path, config: Option<&Path>) -> ExitCode {
    let config = match super::load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Err(e) = std::fs::create_dir_all(&config.data_dir) {
        eprintln!("nianbao: cannot create {}: {e}", config.data_dir.display());
        return ExitCode::from(2);
    }
    match nianbao::backup::restore(&config.data_dir, file) {
        Ok(kept) => {
            println!(
                "已从 {} 恢复数据库{}。启动服务后，用 nianbao db check 和 nianbao status 核对。",
                file.display(),
                kept.map(|k| format!("；原数据库已保留为 {}", k.display()))
                    .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `nianbao db check`: the thorough check, for the admin after a crash, a disk error or a
/// refused start (the daemon itself runs the quick one at every start).
pub(super) fn db_check(config: Option<&std::path::Path>) -> ExitCode {
    let db = match existing_db(config) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let verdict = nianbao::store::Store::open_read(&db).map(|store| store.integrity_check(20));
    match verdict {
        Ok(None) => {
            println!(
                "{}: ok, the database is sound (PRAGMA integrity_check)",
                db.display()
            );
            ExitCode::SUCCESS
        }
        Ok(Some(problems)) => {
            println!(
                "{}: damaged: {problems}\nRestore it from the last backup (stop the service first); \
                 the daemon refuses to start on it.",
                db.display()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            println!("{}: damaged or unreadable: {e:#}", db.display());
            ExitCode::from(1)
        }
    }
}
