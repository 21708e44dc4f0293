//! Delivery over SMTP with lettre's tokio connection, on the daemon's runtime.
//!
//! An attempt has two parts, timed separately:
//! - everything up to the server's go-ahead for the message (connect, greeting, EHLO,
//!   STARTTLS, AUTH, MAIL, RCPT, DATA) runs under `timeout_s`: a stalled step ends the
//!   attempt, nothing was handed over, and it is retried later like any transient failure;
//! - the message itself and the server's answer to it run under `reply_timeout_s` (longer):
//!   once the message was sent, a server that does not answer may well have taken it. A
//!   timeout (or a broken connection) there means the outcome is unknown: the message is
//!   [`SendError::Unconfirmed`], recorded as "sent, unconfirmed" and never sent again, so
//!   that a slow server does not receive the same mail again at every retry.
//!
//! lettre's connection (`AsyncSmtpConnection`) is used step by step for this; its transport
//! sends all steps in one call, so that a timeout could not tell them apart.

use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::config::{Security, Smtp};

/// Why a message was not delivered, or not known to be.
#[derive(Debug)]
pub enum SendError {
    /// The server refused it for good (5xx): retrying will not help.
    Permanent(String),
    /// Try again later (connection refused, timeout before the message was sent, 4xx).
    Transient(String),
    /// The message was sent, but the server's answer did not come (or the connection
    /// broke): it may have been delivered. Not retried.
    Unconfirmed(String),
}

pub struct SmtpSender {
    host: String,
    port: u16,
    security: Security,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
    /// The bound of an attempt up to the server's go-ahead for the message.
    timeout: Duration,
    /// The bound of sending the message and waiting for the server's answer.
    reply_timeout: Duration,
}

/// How long a QUIT may take after a delivered message (its answer changes nothing).
const QUIT_TIMEOUT: Duration = Duration::from_secs(2);

impl SmtpSender {
    /// A sender as configured; reads the password file now, so that a missing file is a
    /// start-up error, not a failure at the first message.
    pub fn from_config(smtp: &Smtp) -> anyhow::Result<SmtpSender> {
        let timeout = smtp.timeout_s.at_least_one();
        let reply_timeout = smtp.reply_timeout_s.max(smtp.timeout_s).at_least_one();
        let tls = match smtp.security {
            Security::Tls | Security::Starttls => Some(TlsParameters::new(smtp.host.clone())?),
            Security::None => None,
        };
        let credentials = match &smtp.username {
            Some(user) => {
                let password = match &smtp.password_file {
                    Some(path) => std::fs::read_to_string(path)
                        .map_err(|e| {
                            anyhow::anyhow!("[mail.smtp] password_file {}: {e}", path.display())
                        })?
                        .trim_end_matches(['\r', '\n'])
                        .to_string(),
                    None => String::new(),
                };
                Some(Credentials::new(user.clone(), password))
            }
            None => None,
        };
        Ok(SmtpSender {
            host: smtp.host.clone(),
            port: smtp.port,
            security: smtp.security,
            tls,
            credentials,
            hello: ClientId::default(),
            timeout,
            reply_timeout,
        })
    }

    /// Connects and gets the server's go-ahead for `message` (DATA answered 354).
    async fn ready_for(
        &self,
        envelope: &lettre::address::Envelope,
        ascii: bool,
    ) -> Result<AsyncSmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = match self.security {
            Security::Tls => self.tls.clone(),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &self.hello,
            wrapper,
            None,
        )
        .await?;
        if let (Security::Starttls, Some(tls)) = (self.security, &self.tls) {
            conn.starttls(tls.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        let mut options = Vec::new();
        let non_ascii = |a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii();
        if envelope.from().is_some_and(non_ascii) || envelope.to().iter().any(non_ascii) {
            options.push(MailParameter::SmtpUtfEight);
        }
        if !ascii && conn.server_info().supports_feature(Extension::EightBitMime) {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        conn.command(Mail::new(envelope.from().cloned(), options))
            .await?;
        for to in envelope.to() {
            conn.command(Rcpt::new(to.clone(), vec![])).await?;
        }
        conn.command(Data).await?;
        Ok(conn)
    }

    /// One delivery attempt, over within `timeout_s` + `reply_timeout_s` whatever the
    /// server does. Must run on a tokio runtime.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        let envelope = message.envelope().clone();
        let bytes = message.formatted();
        let ready = tokio::time::timeout(self.timeout, self.ready_for(&envelope, bytes.is_ascii()));
        let mut conn = match ready.await {
            Err(_) => {
                return Err(SendError::Transient(format!(
                    "the mail server did not answer within {} s (timeout_s)",
                    self.timeout.as_secs()
                )));
            }
            Ok(Err(e)) if e.is_permanent() => return Err(SendError::Permanent(e.to_string())),
            Ok(Err(e)) => return Err(SendError::Transient(e.to_string())),
            Ok(Ok(conn)) => conn,
        };
        // From here on the server may take the message whatever happens next.
        match tokio::time::timeout(self.reply_timeout, conn.message(&bytes)).await {
            Err(_) => {
                conn.abort().await;
                Err(SendError::Unconfirmed(format!(
                    "the message was sent, but the mail server did not confirm it within {} s \
                     (reply_timeout_s); it may have been delivered, so it is not sent again",
                    self.reply_timeout.as_secs()
                )))
            }
            Ok(Ok(_)) => {
                let _ = tokio::time::timeout(QUIT_TIMEOUT, conn.quit()).await;
                Ok(())
            }
            Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            // The server answered "try later" (4xx): it did not take the message.
            Ok(Err(e)) if e.is_transient() => Err(SendError::Transient(e.to_string())),
            Ok(Err(e)) => Err(SendError::Unconfirmed(format!(
                "the message was sent, but its confirmation was lost ({e}); it may have been \
                 delivered, so it is not sent again"
            ))),
        }
    }
}
