//! A minimal SMTP client for tests that need exact control of what goes
//! on the wire (real clients are used elsewhere): one transaction, and
//! every reply as the server sent it.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The replies of one transaction, each a full (possibly multi-line)
/// reply with its CRLFs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    pub banner: String,
    pub ehlo: String,
    pub mail: String,
    pub rcpts: Vec<String>,
    pub data: String,
    /// The reply after the final dot; empty if DATA was refused.
    pub end_of_data: String,
}

/// Sends `message` (lines ended by `\n` or `\r\n`; dot-stuffed here) from
/// `sender` to `recipients` over one connection to `addr`, then QUIT.
pub fn send(
    addr: &str,
    helo: &str,
    sender: &str,
    recipients: &[&str],
    message: &[u8],
) -> io::Result<Transcript> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut t = Transcript {
        banner: reply(&mut input)?,
        ..Transcript::default()
    };
    t.ehlo = command(&mut out, &mut input, &format!("EHLO {helo}"))?;
    t.mail = command(&mut out, &mut input, &format!("MAIL FROM:<{sender}>"))?;
    for rcpt in recipients {
        t.rcpts
            .push(command(&mut out, &mut input, &format!("RCPT TO:<{rcpt}>"))?);
    }
    t.data = command(&mut out, &mut input, "DATA")?;
    if t.data.starts_with("354") {
        out.write_all(&stuffed(message))?;
        t.end_of_data = reply(&mut input)?;
    }
    command(&mut out, &mut input, "QUIT")?;
    Ok(t)
}

/// `message` with CRLF line ends, leading dots doubled, and the final dot.
pub fn stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let body = message.strip_suffix(b"\n").unwrap_or(message);
    for line in body.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

fn command(out: &mut TcpStream, input: &mut impl BufRead, line: &str) -> io::Result<String> {
    out.write_all(format!("{line}\r\n").as_bytes())?;
    reply(input)
}

/// One reply: lines until one whose fourth byte is a space.
fn reply(input: &mut impl BufRead) -> io::Result<String> {
    let mut text = String::new();
    loop {
        let start = text.len();
        if input.read_line(&mut text)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        if text.as_bytes().get(start + 3) != Some(&b'-') {
            return Ok(text);
        }
    }
}

/// An open session driven line by line, for tests that interleave it
/// with other events (a reload, a second session). Panics on I/O errors:
/// they are test failures.
#[derive(Debug)]
pub struct Dialogue {
    out: TcpStream,
    input: BufReader<TcpStream>,
    /// The server's banner.
    pub banner: String,
}

impl Dialogue {
    /// Connect to `addr` and read the banner.
    pub fn open(addr: &str) -> Dialogue {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("set a read timeout");
        let out = stream.try_clone().expect("clone the stream");
        let mut input = BufReader::new(stream);
        let banner = reply(&mut input).expect("banner");
        Dialogue { out, input, banner }
    }

    /// Send `line` (CRLF added) and return the reply.
    pub fn say(&mut self, line: &str) -> String {
        command(&mut self.out, &mut self.input, line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    /// Send `message` as DATA content (stuffed, with the final dot) and
    /// return the reply after the dot.
    pub fn content(&mut self, message: &[u8]) -> String {
        self.out.write_all(&stuffed(message)).expect("send content");
        reply(&mut self.input).expect("reply after the content")
    }
}
