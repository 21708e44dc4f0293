//! What `nianbao run` refuses at start beyond the configuration file's own checks
//! ([`Config::check`]), asked without starting: `config check` calls the same function, so
//! it refuses whatever `run` would refuse, in the same words.

use std::net::ToSocketAddrs as _;

use anyhow::Context as _;

use crate::config::Config;

/// The SMTP settings build a transport (the password file reads); a console on an address
/// other than loopback has a user. Blocking (reads the users and the password file).
pub fn check(config: &Config) -> anyhow::Result<()> {
    if let Some(smtp) = &config.mail.smtp {
        crate::mail::smtp::SmtpSender::from_config(smtp)?;
    }
    if let Some(listen) = config.http_listen()
        && config.http.console
    {
        let addrs: Vec<_> = listen
            .as_str()
            .to_socket_addrs()
            .with_context(|| format!("[http] listen = {:?}: cannot listen there", listen.as_str()))?
            .collect();
        if let Some(open) = addrs.into_iter().find(|a| !a.ip().is_loopback()) {
            crate::console::refuse_unguarded(open, crate::console::any_user(config)?)?;
        }
    }
    let wrong: Vec<String> = crate::console::user_regions(config)?
        .into_iter()
        .filter_map(|(user, region)| crate::region::check_user_region(config, &user, &region).err())
        .collect();
    if !wrong.is_empty() {
        anyhow::bail!("{}", wrong.join("\n"));
    }
    Ok(())
}
