//! Delivery over SMTP with lettre's synchronous transport (no async runtime needed: one
//! delivery thread sends one message at a time).

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

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
    transport: SmtpTransport,
}

impl SmtpSender {
    /// A transport as configured; reads the password file now, so that a missing file is a
    /// start-up error, not a failure at the first message.
    pub fn from_config(smtp: &Smtp) -> anyhow::Result<SmtpSender> {
        let builder = match smtp.security {
            Security::Tls => SmtpTransport::relay(&smtp.host)?,
            Security::Starttls => SmtpTransport::starttls_relay(&smtp.host)?,
            Security::None => SmtpTransport::builder_dangerous(&smtp.host),
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(smtp.timeout_s.max(1))));
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
        })
    }

    pub fn send(&self, message: &Message) -> Result<(), SendError> {
        match self.transport.send(message) {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
