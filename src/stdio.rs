//! Standard output and error that never panic: a write that fails (closed pipe, full disk) is remembered and ends the command with exit code 2.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Mutex;

/// The first failed write to stdout, if any.
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);
/// Whether a write to stderr failed.
static STDERR_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn failed_stdout(e: std::io::Error) {
    let mut first = STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner());
    first.get_or_insert_with(|| e.to_string());
}

pub fn failed_stderr(_: std::io::Error) {
    STDERR_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The command's exit code, made 2 when its output could not be written in full.
pub fn finish(code: ExitCode) -> ExitCode {
    if let Err(e) = std::io::stdout().lock().flush() {
        failed_stdout(e);
    }
    let out = STDOUT_ERROR
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(e) = out {
        let _ = writeln!(
            std::io::stderr().lock(),
            "error: cannot write to standard output: {e}; the output is incomplete"
        );
        return ExitCode::from(2);
    }
    if STDERR_FAILED.load(std::sync::atomic::Ordering::Relaxed) && code == ExitCode::SUCCESS {
        return ExitCode::from(2);
    }
    code
}
