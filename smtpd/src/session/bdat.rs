//! BDAT (RFC 3030 CHUNKING). The driver reads exactly `size` bytes after
//! the command; the reply follows the chunk. As Postfix: a BDAT without
//! recipients fails the whole sequence (`503 need RCPT`), and later chunks
//! are read and dropped (`551 ... Discarded`) until RSET; a BDAT whose size
//! cannot be read ends the session (`521`), since the byte stream can no
//! longer be followed.

use super::{Next, Response, Session, State};
use crate::command::Verb;
use crate::reply::{self, Reply};

pub(super) fn bdat(s: &mut Session, arg: Result<(u64, bool), Reply>) -> Response {
    let (size, last) = match arg {
        Ok(arg) => arg,
        Err(r) => return s.respond(Verb::Bdat, r, Next::Close),
    };
    match &s.state {
        State::ChunkingFailed => Response::silent(Next::DiscardChunk {
            size,
            then: reply::bdat_discarded(size),
        }),
        State::Idle => fail_sequence(s, size),
        State::Mail(t) if t.recipients.is_empty() => fail_sequence(s, size),
        State::Mail(_) => {
            // The first chunk stands for DATA: smtpd_data_restrictions.
            if let Some(r) = s.restrict(|e, st| e.check_data(st)) {
                s.state = State::ChunkingFailed;
                return Response::silent(Next::DiscardChunk { size, then: r });
            }
            // Move the transaction into the chunking state.
            if let State::Mail(t) = std::mem::take(&mut s.state) {
                s.state = State::Chunking(t);
            }
            Response::silent(Next::ReadChunk { size, last })
        }
        State::Chunking(_) => Response::silent(Next::ReadChunk { size, last }),
    }
}

fn fail_sequence(s: &mut Session, size: u64) -> Response {
    s.state = State::ChunkingFailed;
    Response::silent(Next::DiscardChunk {
        size,
        then: reply::need_rcpt(),
    })
}

impl Session {
    /// A chunk other than the last was read: `250 2.0.0 Ok: N bytes`.
    pub fn chunk_ok(&mut self, size: u64) -> Response {
        self.respond(Verb::Bdat, reply::chunk_ok(size), Next::Continue)
    }

    /// A chunk was read and dropped: its deferred reply.
    pub fn chunk_discarded(&mut self, then: Reply) -> Response {
        self.respond(Verb::Bdat, then, Next::Continue)
    }

    /// In a BDAT sequence (the driver keeps the open message meanwhile).
    pub fn is_chunking(&self) -> bool {
        matches!(self.state, State::Chunking(_))
    }
}
