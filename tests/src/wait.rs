//! Waiting for something a daemon does, such as a delivered message
//! appearing in a mailbox, without sleeping and hoping: poll a check
//! until it holds or a deadline passes.

use std::thread;
use std::time::{Duration, Instant};

/// How often [`wait_until`] runs its check.
const POLL: Duration = Duration::from_millis(20);

/// Runs `check` until it returns `Some`, and returns that value.
///
/// # Panics
/// After `timeout`, naming `what` was awaited.
pub fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_until_returns_the_first_some() {
        let mut calls = 0;
        let got = wait_until("the third call", Duration::from_secs(5), || {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(got, 3);
    }

    #[test]
    #[should_panic(expected = "timed out after 50ms waiting for nothing")]
    fn wait_until_panics_at_the_deadline() {
        wait_until("nothing", Duration::from_millis(50), || None::<()>);
    }
}
