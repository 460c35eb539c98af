//! A writer's wait for its commit: a [`Slot`] the committing thread
//! fills, seen by the writer as a [`Pending`] it can `.await` (smtpd) or
//! [`Pending::wait`] for (blocking callers).

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::Committed;
use crate::error::Error;

/// Where the committing thread puts a writer's result.
#[derive(Debug, Default)]
pub(super) struct Slot {
    state: Mutex<SlotState>,
    /// A blocking waiter waits here.
    done: Condvar,
}

#[derive(Debug, Default)]
struct SlotState {
    result: Option<Result<Committed, Error>>,
    /// The result was set (and maybe taken already).
    completed: bool,
    /// An async waiter to wake.
    waker: Option<Waker>,
    /// A blocking waiter waits on `done` (else no wake-up is needed:
    /// notifying a condvar is a system call even when nobody waits).
    blocked: bool,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Set the result, the first time only, and wake the waiter.
    pub(super) fn complete(&self, result: Result<Committed, Error>) {
        let mut state = self.lock();
        if state.completed {
            return;
        }
        state.completed = true;
        state.result = Some(result);
        let waker = state.waker.take();
        let blocked = state.blocked;
        drop(state);
        if blocked {
            self.done.notify_one();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The outcome of a commit, once the committer has it: `.await` it,
/// or [`Pending::wait`] on a thread that may block.
#[derive(Debug)]
pub struct Pending {
    slot: Arc<Slot>,
}

impl Pending {
    /// The writer's side of `slot`.
    pub(super) fn of(slot: &Arc<Slot>) -> Pending {
        Pending {
            slot: Arc::clone(slot),
        }
    }

    /// A commit that failed before it reached the committer.
    pub(super) fn failed(error: Error) -> Pending {
        let slot = Arc::new(Slot::default());
        slot.complete(Err(error));
        Pending { slot }
    }

    /// Block until the commit is done.
    pub fn wait(self) -> Result<Committed, Error> {
        let mut state = self.slot.lock();
        loop {
            if let Some(result) = state.result.take() {
                return result;
            }
            if state.completed {
                return Err(taken());
            }
            state.blocked = true;
            state = self
                .slot
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Polling again after `Ready`: a caller bug, reported as an error.
pub(super) fn taken() -> Error {
    Error::io(
        "commit",
        Path::new(""),
        io::Error::other("commit result already taken"),
    )
}

impl Future for Pending {
    type Output = Result<Committed, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.lock();
        if let Some(result) = state.result.take() {
            return Poll::Ready(result);
        }
        if state.completed {
            return Poll::Ready(Err(taken()));
        }
        match &mut state.waker {
            Some(waker) => waker.clone_from(cx.waker()),
            None => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_result_reaches_async_and_blocking_waiters() {
        let slot = Arc::new(Slot::default());
        let pending = Pending {
            slot: Arc::clone(&slot),
        };
        let waiter = std::thread::spawn(move || pending.wait());
        let id: crate::QueueId = "4ZzCqG0yB3z12".parse().expect("id");
        slot.complete(Ok(Committed {
            id: id.clone(),
            size: 7,
        }));
        // A second completion (a dropped job) changes nothing.
        slot.complete(Err(taken()));
        let committed = waiter.join().expect("no panic").expect("ok");
        assert_eq!(committed, Committed { id, size: 7 });

        let failed = Pending::failed(taken());
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut failed = std::pin::pin!(failed);
        assert!(matches!(
            failed.as_mut().poll(&mut cx),
            Poll::Ready(Err(Error::Io { .. }))
        ));
    }
}
