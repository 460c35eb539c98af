//! Running a short-lived command (our `postconf`, Postfix's `postmap`, a
//! client) to completion, where any complaint is a test failure.

use std::process::Command;

/// Runs `cmd` and returns its stdout.
///
/// # Panics
/// Unless it exits with status 0 and prints nothing on stderr (Postfix's
/// programs report problems as warnings on stderr and still exit 0).
pub fn run_clean(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{cmd:?}: {}\n{stderr}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn run_clean_returns_stdout() {
        assert_eq!(run_clean(&mut sh("echo hi")), "hi\n");
    }

    #[test]
    #[should_panic(expected = "warning: x")]
    fn a_warning_on_stderr_fails() {
        run_clean(&mut sh("echo 'warning: x' >&2"));
    }

    #[test]
    #[should_panic(expected = "exit status: 1")]
    fn a_failure_status_fails() {
        run_clean(&mut sh("exit 1"));
    }
}
