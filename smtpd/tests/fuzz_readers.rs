//! Fuzz-style property tests (a seeded generator, so failures replay):
//! random bytes, cut at random places, through the command reader and
//! parser, the session, the DATA and BDAT readers, and a whole connection.
//! Nothing may panic; the readers must give the same records however the
//! input is cut, and never a record longer than `line_length_limit`.

use std::sync::Arc;
use std::time::Duration;

use smtpd::bare_newline::Mode;
use smtpd::client::Client;
use smtpd::command::{self, CommandReader, Next};
use smtpd::config::Settings;
use smtpd::data_reader::{ChunkReader, DataReader};
use smtpd::enqueue::Memory;
use smtpd::session::Session;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// xorshift64*: small, seeded, good enough to shake parsers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&[u8]] = &[
    b"MAIL FROM:<",
    b"RCPT TO:<",
    b"a@b.example",
    b">",
    b"<>",
    b"<postmaster>",
    b" SIZE=",
    b" BODY=8BITMIME",
    b" SMTPUTF8",
    b" RET=HDRS",
    b" ENVID=x+2By",
    b" NOTIFY=SUCCESS,DELAY",
    b" ORCPT=rfc822;a+40b",
    b"EHLO x",
    b"HELO y",
    b"DATA",
    b"BDAT 3",
    b"BDAT 0 LAST",
    b"RSET",
    b"NOOP",
    b"VRFY a",
    b"ETRN #d",
    b"STARTTLS",
    b"AUTH PLAIN",
    b"QUIT",
    b"\r\n",
    b"\n",
    b"\r",
    b".",
    b"..",
    b"\r\n.\r\n",
    b"\n.\n",
    b"\0",
    b"\xff\xfe",
    b"\xc3\xbc",
    b" ",
    b"\"q u\"",
    b"@",
    b":",
    b"=",
    b"+",
    b"9999999999999999999999",
];

/// Random SMTP-flavoured input.
fn input(rng: &mut Rng, max_parts: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(max_parts) + 1 {
        if rng.below(4) == 0 {
            let n = rng.below(40);
            out.extend((0..n).map(|_| rng.next() as u8));
        } else {
            out.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        }
    }
    out
}

/// `bytes` cut into random pieces.
fn cuts<'a>(rng: &mut Rng, bytes: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = rng.below(rest.len().min(17)) + 1;
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
    }
    out
}

fn settings() -> Arc<Settings> {
    Arc::new(Settings::for_tests(&[("line_length_limit", "512")]).expect("settings"))
}

#[test]
fn command_reader_parser_and_session_never_panic() {
    let mut rng = Rng(0x5eed_0001);
    let settings = settings();
    for _ in 0..3000 {
        let bytes = input(&mut rng, 40);
        let mut session = Session::new(Arc::clone(&settings), Client::test(), false);
        let mut reader = CommandReader::new(512);
        let mut buf = Vec::new();
        for piece in cuts(&mut rng, &bytes) {
            buf.extend_from_slice(piece);
            loop {
                match reader.next(&buf) {
                    Next::NeedMore { used } => {
                        buf.drain(..used);
                        break;
                    }
                    Next::Line { line, used } => {
                        assert!(line.text.len() <= 512);
                        let parsed = command::parse(&line.text, true, false);
                        let pending = buf[used..].to_vec();
                        if session.screen(&line, parsed.verb, &pending).is_none() {
                            let _ = session.handle(parsed);
                        }
                        buf.drain(..used);
                    }
                }
            }
        }
        let _ = session.disconnect_line();
    }
}

fn records_of_data(mode: Mode, pieces: &[&[u8]]) -> (Vec<(Vec<u8>, bool)>, usize, bool) {
    let mut reader = DataReader::new(mode, 64, 0);
    let mut records = Vec::new();
    let mut used_total = 0;
    for piece in pieces {
        let p = reader.feed(piece, &mut |b: &[u8], c| records.push((b.to_vec(), c)));
        assert!(p.used <= piece.len());
        used_total += p.used;
        if p.done {
            return (records, used_total, true);
        }
        assert_eq!(p.used, piece.len(), "input is used up until the end");
    }
    (records, used_total, false)
}

#[test]
fn data_reader_is_cut_independent() {
    let mut rng = Rng(0x5eed_0002);
    for _ in 0..5000 {
        let bytes = input(&mut rng, 60);
        for mode in [Mode::Normalize, Mode::Reject, Mode::Lenient] {
            let whole = records_of_data(mode, &[&bytes]);
            let pieces = cuts(&mut rng, &bytes);
            let split = records_of_data(mode, &pieces);
            assert_eq!(whole, split, "{mode:?} {bytes:?}");
            assert!(whole.0.iter().all(|(r, _)| r.len() <= 64));
        }
    }
}

#[test]
fn chunk_reader_takes_exact_counts() {
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..3000 {
        let bytes = input(&mut rng, 40);
        let size = rng.below(bytes.len() + 1);
        let mut reader = ChunkReader::new(Mode::Normalize, 32, 100);
        reader.start_chunk(size as u64);
        let mut taken = 0;
        let mut lens = Vec::new();
        for piece in cuts(&mut rng, &bytes) {
            taken += reader.feed(piece, &mut |b: &[u8], _| lens.push(b.len()));
        }
        reader.finish(&mut |b: &[u8], _| lens.push(b.len()));
        assert_eq!(taken, size);
        assert_eq!(reader.remaining(), 0);
        assert!(lens.iter().all(|&n| n <= 32));
        let _ = reader.verdict();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn whole_connections_survive_garbage() {
    let mut rng = Rng(0x5eed_0004);
    let settings = settings();
    for _ in 0..300 {
        let bytes = input(&mut rng, 80);
        let (mut client, server) = tokio::io::duplex(4096);
        let backend = Arc::new(Memory::new());
        let token = CancellationToken::new();
        let task = tokio::spawn(smtpd::conn::serve(
            server,
            Client::test(),
            Arc::clone(&settings),
            backend,
            None,
            token.clone(),
        ));
        let drain = tokio::spawn(async move {
            let _ = client.write_all(&bytes).await;
            let _ = client.shutdown().await;
            let mut sink = Vec::new();
            let _ = client.read_to_end(&mut sink).await;
        });
        let ended = tokio::time::timeout(Duration::from_secs(10), task).await;
        assert!(matches!(ended, Ok(Ok(()))), "session did not end cleanly");
        token.cancel();
        let _ = drain.await;
    }
}
