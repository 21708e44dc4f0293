//! Bounded helper processes: `pdftotext` for PDF, LibreOffice for legacy Word/WPS.
//!
//! A hostile file must not hang or exhaust the daemon, and a well-kept external reader is
//! safer than a hand-written one only if it is fenced in. Every run here has a wall-clock
//! timeout, an address-space limit (RLIMIT_AS), a cap on what it may print, and its own
//! process group, so that a timeout kills the converter and everything it started.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The fences of one run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    /// Bytes of standard output kept; more is an error.
    pub max_output: usize,
    /// Address space of the helper, in bytes.
    pub max_memory: u64,
}

/// Why a helper produced nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0} is not installed")]
    NotFound(String),
    #[error("{program} did not finish within {secs} s")]
    Timeout { program: String, secs: u64 },
    #[error("{program} printed more than {limit} bytes")]
    OutputTooLarge { program: String, limit: usize },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("{program}: {source}")]
    Io {
        program: String,
        source: std::io::Error,
    },
}

/// Runs `program args…`, feeding `stdin`, and returns its standard output.
pub fn run(
    program: &str,
    args: &[&OsStr],
    stdin: Option<&[u8]>,
    limits: Limits,
) -> Result<Vec<u8>, RunError> {
    run_env(program, args, stdin, limits, &[])
}

/// [`run`] with extra environment variables for the helper (Tesseract's
/// `OMP_THREAD_LIMIT=1`: its OpenMP threads cost five times the CPU on two cores).
pub fn run_env(
    program: &str,
    args: &[&OsStr],
    stdin: Option<&[u8]>,
    limits: Limits,
    env: &[(&str, &str)],
) -> Result<Vec<u8>, RunError> {
    let io = |source| RunError::Io {
        program: program.to_string(),
        source,
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let max_memory = limits.max_memory;
    // SAFETY: only setrlimit, which is async-signal-safe, runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: max_memory,
                rlim_max: max_memory,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RunError::NotFound(program.to_string()));
        }
        Err(e) => return Err(io(e)),
    };
    let pgid = child.id() as libc::pid_t;
    let kill_group = || {
        // SAFETY: kill(2) with a negative pid signals the helper's own process group only.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    };
    let overflow = AtomicBool::new(false);
    let mut child_stdin = child.stdin.take();
    let mut child_stdout = child.stdout.take();
    let mut child_stderr = child.stderr.take();
    let deadline = Instant::now() + limits.timeout;
    let (status, out, err) = std::thread::scope(|s| {
        if let (Some(mut pipe), Some(data)) = (child_stdin.take(), stdin) {
            // A helper that stops reading early closes the pipe: the write error is expected.
            s.spawn(move || {
                let _ = pipe.write_all(data);
            });
        }
        let reader = s.spawn(|| {
            let mut buf = Vec::new();
            if let Some(pipe) = child_stdout.take() {
                // A read error on the pipe (none expected) counts as no output at all.
                buf = super::read_bounded(pipe, 0, limits.max_output as u64).unwrap_or_default();
            }
            if buf.len() > limits.max_output {
                overflow.store(true, Ordering::SeqCst);
            }
            buf
        });
        let err_reader = s.spawn(|| {
            let mut buf = Vec::new();
            if let Some(pipe) = child_stderr.take() {
                let _ = pipe.take(64 * 1024).read_to_end(&mut buf);
            }
            buf
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => break Err(e),
            }
            if overflow.load(Ordering::SeqCst) || Instant::now() >= deadline {
                kill_group();
                let _ = child.wait();
                break Err(std::io::Error::from(std::io::ErrorKind::TimedOut));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // The group may outlive the leader (LibreOffice forks): end it before joining the
        // readers, which otherwise wait for pipes a grandchild still holds.
        kill_group();
        let out = reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        (status, out, err)
    });
    if overflow.load(Ordering::SeqCst) {
        return Err(RunError::OutputTooLarge {
            program: program.to_string(),
            limit: limits.max_output,
        });
    }
    let status = match status {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            return Err(RunError::Timeout {
                program: program.to_string(),
                secs: limits.timeout.as_secs(),
            });
        }
        Err(e) => return Err(io(e)),
    };
    if !status.success() {
        return Err(RunError::Failed {
            program: program.to_string(),
            status: status.to_string(),
            stderr: String::from_utf8_lossy(&err).trim().to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        timeout: Duration::from_secs(5),
        max_output: 1024,
        max_memory: 1 << 30,
    };

    #[test]
    fn output_and_stdin() {
        let out = run("cat", &[], Some(b"hello"), LIMITS).expect("cat runs");
        assert_eq!(out, b"hello");
    }

    #[test]
    fn missing_program_is_not_found() {
        let e = run("nianbao-no-such-program", &[], None, LIMITS).unwrap_err();
        assert!(matches!(e, RunError::NotFound(_)), "{e:?}");
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let limits = Limits {
            timeout: Duration::from_millis(300),
            ..LIMITS
        };
        let started = Instant::now();
        // The shell's child sleeps on with the stdout pipe: only a group kill ends it.
        let e = run(
            "sh",
            &["-c".as_ref(), "sleep 30 & sleep 30".as_ref()],
            None,
            limits,
        )
        .unwrap_err();
        assert!(matches!(e, RunError::Timeout { .. }), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn endless_output_is_cut() {
        let e = run("yes", &[], None, LIMITS).unwrap_err();
        assert!(matches!(e, RunError::OutputTooLarge { .. }), "{e:?}");
    }

    #[test]
    fn failure_carries_stderr() {
        let e = run(
            "sh",
            &["-c".as_ref(), "echo bad >&2; exit 3".as_ref()],
            None,
            LIMITS,
        )
        .unwrap_err();
        match e {
            RunError::Failed { stderr, .. } => assert_eq!(stderr, "bad"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn memory_limit_applies() {
        let limits = Limits {
            max_memory: 64 << 20,
            ..LIMITS
        };
        // The helper sees the limit as its own (ulimit -v counts KiB).
        let out = run("sh", &["-c".as_ref(), "ulimit -v".as_ref()], None, limits).expect("sh");
        assert_eq!(String::from_utf8_lossy(&out).trim(), "65536");
    }
}
