//! Standard output as Postfix's VSTREAM buffers it, so that when stdout
//! and stderr share a file the two interleave as they do with the real
//! postconf: output leaves in 4096-byte blocks and in full only when
//! flushed, while diagnostics go out at once.

use std::io::Write;

/// Buffered standard output: an "unknown parameter" or "unmatched
/// request" warning lands before the output, as with the real postconf.
#[derive(Debug, Default)]
pub(crate) struct Output {
    buf: Vec<u8>,
}

impl Output {
    const BLOCK: usize = 4096;

    pub(crate) fn write(&mut self, text: &str) -> Result<(), String> {
        // Give back master.cf bytes that are not UTF-8 unchanged.
        self.buf.extend_from_slice(&conf::master_cf::bytes_of(text));
        while self.buf.len() >= Self::BLOCK {
            let rest = self.buf.split_off(Self::BLOCK);
            let block = std::mem::replace(&mut self.buf, rest);
            emit(&block)?;
        }
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> Result<(), String> {
        let all = std::mem::take(&mut self.buf);
        emit(&all)
    }
}

fn emit(bytes: &[u8]) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("write standard output: {}", conf::io_reason(&e)))
}
