//! `nianbao user add|list|remove`: the users of the web console (see `nianbao::console`).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use nianbao::console::users::{Role, User, Users, check_name, hash_password};

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a console user, or give an existing one a new password and role (which ends
    /// their console sessions). Asks for the password twice on a terminal; otherwise reads
    /// one line from standard input.
    Add {
        name: String,
        /// viewer reads; admin also acts (resend, review).
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
        /// Limit the user to this `[[region]]` and the regions below it (pages, exports,
        /// downloads, actions). Without it: everything.
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        #[arg(long, value_name = "FILE")]
        config: Option<std::path::PathBuf>,
    },
    /// List the console users and their roles.
    List {
        #[arg(long, value_name = "FILE")]
        config: Option<std::path::PathBuf>,
    },
    /// Remove a console user (their sessions end at their next request).
    Remove {
        name: String,
        #[arg(long, value_name = "FILE")]
        config: Option<std::path::PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Viewer,
    Admin,
}

/// Shortest password accepted.
const MIN_PASSWORD_CHARS: usize = 8;

pub fn user(command: UserCommand) -> ExitCode {
    let config_path = match &command {
        UserCommand::Add { config, .. }
        | UserCommand::List { config }
        | UserCommand::Remove { config, .. } => config.clone(),
    };
    let config = match super::load_config(config_path.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Users in the database need it open (created, as `run` would, when it is not there yet).
    let store = match &config.http.users_file {
        Some(_) => None,
        None => match super::open_store(&config) {
            Ok(s) => Some(s),
            Err(code) => return code,
        },
    };
    let users = match (&config.http.users_file, &store) {
        (Some(path), _) => Users::File(path),
        (None, Some(store)) => Users::Db(store.connection()),
        (None, None) => return ExitCode::from(2),
    };
    let result = match command {
        UserCommand::Add {
            name, role, region, ..
        } => match region
            .as_deref()
            .map(|r| nianbao::region::check_user_region(&config, &name, r))
        {
            Some(Err(why)) => Err(anyhow::anyhow!("{why}")),
            _ => add(&users, &name, role, region),
        },
        UserCommand::List { .. } => list(&users),
        UserCommand::Remove { name, .. } => match users.remove(&name) {
            Ok(true) => {
                println!("已从{}中删除用户 {name}。", users.describe());
                Ok(())
            }
            Ok(false) => Err(anyhow::anyhow!("{}中没有用户 {name}", users.describe())),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn add(users: &Users<'_>, name: &str, role: RoleArg, region: Option<String>) -> anyhow::Result<()> {
    check_name(name)?;
    let password = read_password()?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        anyhow::bail!(
            "密码至少 {MIN_PASSWORD_CHARS} 个字符 / the password needs at least \
             {MIN_PASSWORD_CHARS} characters"
        );
    }
    let role = match role {
        RoleArg::Viewer => Role::Viewer,
        RoleArg::Admin => Role::Admin,
    };
    let new = users.put(&User {
        name: name.to_string(),
        role,
        hash: hash_password(&password)?,
        region: region.clone(),
    })?;
    println!(
        "{} {name}：{}（{}）{}，保存在{}中。{}",
        if new {
            "已添加用户"
        } else {
            "已更新用户"
        },
        role.label(),
        role.as_str(),
        region
            .as_deref()
            .map(|r| format!("，限于地区 {r} 及其下级"))
            .unwrap_or_default(),
        users.describe(),
        if new {
            ""
        } else {
            "该用户已登录的会话在下次访问时结束，需重新登录。"
        }
    );
    Ok(())
}

fn list(users: &Users<'_>) -> anyhow::Result<()> {
    let all = users.list()?;
    if all.is_empty() {
        println!(
            "没有控制台用户（{}）。添加：nianbao user add NAME --role admin",
            users.describe()
        );
    }
    for u in all {
        match &u.region {
            Some(r) => println!(
                "{}\t{}\t{}",
                nianbao::escape::controls(&u.name),
                u.role.as_str(),
                nianbao::escape::controls(r)
            ),
            None => println!(
                "{}\t{}",
                nianbao::escape::controls(&u.name),
                u.role.as_str()
            ),
        }
    }
    Ok(())
}

/// The new password: asked twice without echo on a terminal, else one line of stdin.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = prompt("密码 / password: ")?;
    let second = prompt("再输一次 / again: ")?;
    if first != second {
        anyhow::bail!("两次输入的密码不一致 / the passwords differ");
    }
    Ok(first)
}

/// Reads one line from the terminal with echo off (restored afterwards, also on error).
fn prompt(text: &str) -> anyhow::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    // Echo off before the prompt shows: whatever is typed after it is never echoed.
    tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
    eprint!("{text}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let restored = tcsetattr(&stdin, OptionalActions::Now, &saved);
    eprintln!();
    read?;
    restored?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
