//! `nianbao mail ...`: the outbox seen and handled from the command line.

use std::process::ExitCode;

use super::args::MailCommand;
use super::{existing_db, whoami};

pub(super) fn mail(command: MailCommand) -> ExitCode {
    // Over 80 lines on purpose: one arm per `mail` subcommand, each a short query and its printing.
    let (config_path, json, receipt) = match &command {
        MailCommand::Queue { config, json } => (config.as_deref(), *json, None),
        MailCommand::Resend { receipt, config } => {
            (config.as_deref(), false, Some(receipt.clone()))
        }
    };
    let db = match existing_db(config_path) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let store = match nianbao::store::Store::open(&db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            return ExitCode::from(2);
        }
    };
    match receipt {
        None => match store.outbox_overview() {
            Ok(rows) if json => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Ok(rows) => {
                let of = |state| rows.iter().filter(|r| r.state == state).count();
                let (pending, failed) = (of(OutboxState::Pending), of(OutboxState::Failed));
                let held = of(OutboxState::Held);
                let unconfirmed = of(OutboxState::Unconfirmed);
                println!(
                    "待发送 {pending}，失败 {failed}，暂缓（待复核）{held}，已发出未确认送达 {unconfirmed}，共 {} 条",
                    rows.len()
                );
                // Recipients (receipt-file paths) and server replies come from outside:
                // their control characters are shown escaped, never sent to the terminal.
                use nianbao::escape::controls;
                use nianbao::store::OutboxState;
                for r in rows.iter().filter(|r| r.state != OutboxState::Sent) {
                    println!(
                        "  {:<8} {:<15} {:<9} {} 次  {}  {}",
                        r.state.as_str(),
                        controls(&r.receipt),
                        r.kind.as_str(),
                        r.attempts,
                        controls(&r.recipient),
                        controls(r.last_error.as_deref().unwrap_or(""))
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nianbao: {e}");
                ExitCode::from(2)
            }
        },
        Some(receipt) => {
            // A database error fails the command: "queued" must mean queued.
            let submission = match store.by_receipt(&receipt) {
                Ok(Some(s)) => s.id,
                Ok(None) => {
                    eprintln!(
                        "nianbao: no submission with receipt {receipt} (see `nianbao status --json`)"
                    );
                    return ExitCode::from(1);
                }
                Err(e) => {
                    eprintln!("nianbao: cannot read the submission {receipt}: {e}");
                    return ExitCode::from(1);
                }
            };
            use nianbao::store::review;
            let conn = store.connection();
            let who = format!("nianbao mail resend ({})", whoami());
            let queued = match review::resend(conn, submission, &who, &nianbao::ingest::now_utc()) {
                Ok(n) => n,
                Err(e) => {
                    eprintln!("nianbao: cannot queue the messages of {receipt}: {e}; try again");
                    return ExitCode::from(1);
                }
            };
            if queued == 0 {
                let held = review::is_held(conn, submission).unwrap_or(false);
                eprintln!(
                    "nianbao: no messages to resend for receipt {receipt}{}",
                    if held {
                        ": its feedback is held for review; release it on the console (发出审核意见)"
                    } else {
                        " (see `nianbao mail queue`)"
                    }
                );
                return ExitCode::from(1);
            }
            println!("{receipt}: {queued} 条消息已重新排队，运行中的守护进程会发送。");
            ExitCode::SUCCESS
        }
    }
}
