//! Delivery over SMTP with lettre's tokio transport, on the daemon's runtime.
//!
//! lettre bounds only the connect with its own timeout; a server that accepts the
//! connection and then never answers (or stalls after any command) would hold an attempt
//! forever. So every attempt, all its steps together (connect, greeting, EHLO, STARTTLS,
//! AUTH, MAIL, RCPT, DATA, QUIT), runs under a tokio timeout of `timeout_s`: a stalled step
//! ends the attempt, which is retried later like any transient failure.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Security, Smtp};

/// Why a message was not delivered.
#[derive(Debug)]
pub enum SendError {
    /// The server refused it for good (5xx): retrying will not help.
    Permanent(String),
    /// Try again later (connection refused, timeout, 4xx).
    Transient(String),
}

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The bound of one whole attempt.
    timeout: Duration,
}

impl SmtpSender {
    /// A transport as configured; reads the password file now, so that a missing file is a
    /// start-up error, not a failure at the first message.
    pub fn from_config(smtp: &Smtp) -> anyhow::Result<SmtpSender> {
        type Transport = AsyncSmtpTransport<Tokio1Executor>;
        let timeout = Duration::from_secs(smtp.timeout_s.max(1));
        let builder = match smtp.security {
            Security::Tls => Transport::relay(&smtp.host)?,
            Security::Starttls => Transport::starttls_relay(&smtp.host)?,
            Security::None => Transport::builder_dangerous(&smtp.host),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(timeout));
        if let Some(user) = &smtp.username {
            let password = match &smtp.password_file {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| {
                        anyhow::anyhow!("[mail.smtp] password_file {}: {e}", path.display())
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
                None => String::new(),
            };
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            timeout,
        })
    }

    /// One delivery attempt, over within `timeout_s` whatever the server does. Must run on
    /// a tokio runtime.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_) => Err(SendError::Transient(format!(
                "the mail server did not answer within {} s (timeout_s)",
                self.timeout.as_secs()
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
        }
    }
}
