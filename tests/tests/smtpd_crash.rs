//! Crash safety: smtpd is killed with SIGKILL at random moments while
//! clients send thousands of messages. Every message whose `250` a client
//! saw must be complete in `incoming/`, and no file with a queue-file name
//! may be incomplete: half-written files exist only under temporary names.

use std::collections::HashMap;
use std::fs;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use e2e::daemon::Signal;
use e2e::{Instance, smtp_client};
use queue::{QueueFile, QueueName};

const CLIENTS: usize = 8;
const MESSAGES_PER_CLIENT: usize = 300;

/// A message that names itself, so the queue can be checked against it.
fn message(client: usize, n: usize) -> String {
    let mut text = format!(
        "Subject: crash test {client}/{n}\nMessage-ID: <{client}.{n}@crash.test>\n\
             From: a@crash.test\nDate: Sat, 21 Nov 2026 08:00:00 +0000\n\n"
    );
    for line in 0..40 {
        text.push_str(&format!(
            "client {client} message {n} line {line} ..........................\n"
        ));
    }
    text.push_str(&format!("end of {client}/{n}\n"));
    text
}

/// One client: sends its messages, each until it is acknowledged (a
/// connection refused or cut by a kill is retried, as a real client
/// would), and records the acknowledged ones.
fn client(inst: &Instance, client: usize, acked: &Mutex<HashMap<String, String>>) {
    for n in 0..MESSAGES_PER_CLIENT {
        let text = message(client, n);
        for _attempt in 0..1000 {
            let sent = smtp_client::send(
                &inst.smtp_addr(),
                "crash.test",
                "a@crash.test",
                &["b@crash.test"],
                text.as_bytes(),
            );
            if let Ok(t) = sent
                && let Some(id) = t
                    .end_of_data
                    .trim_end()
                    .strip_prefix("250 2.0.0 Ok: queued as ")
            {
                acked.lock().unwrap().insert(id.to_owned(), text);
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Content without smtpd's `Received:` header, `\n` line ends.
fn body(file: &QueueFile) -> String {
    let mut out = Vec::new();
    file.content().write_to(&mut out, b"\n").unwrap();
    let text = String::from_utf8(out).unwrap();
    let start = text.find("\nSubject: ").expect("the Subject header") + 1;
    text[start..].to_owned()
}

#[test]
fn acknowledged_mail_survives_kill_9() {
    let inst = Instance::new();
    let smtpd = Mutex::new(inst.start_smtpd());
    let acked = Mutex::new(HashMap::new());
    let done = AtomicBool::new(false);
    let mut kills = 0;

    thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (inst, acked) = (&inst, &acked);
                s.spawn(move || client(inst, c, acked))
            })
            .collect();
        let killer = s.spawn(|| {
            let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
            while !done.load(Ordering::Relaxed) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                thread::sleep(Duration::from_millis(20 + seed % 200));
                let mut daemon = smtpd.lock().unwrap();
                daemon.signal(Signal::SIGKILL).unwrap();
                let _ = daemon.wait_exit(Duration::from_secs(10));
                *daemon = inst.start_smtpd();
                kills += 1;
            }
        });
        for c in clients {
            c.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        killer.join().unwrap();
    });

    let acked = acked.into_inner().unwrap();
    assert!(kills >= 5, "only {kills} kills");
    assert!(
        acked.len() > 100,
        "only {} messages acknowledged",
        acked.len()
    );
    let incoming = inst.queue_dir().join(QueueName::Incoming.as_str());
    let mut seen = 0;
    for entry in fs::read_dir(&incoming).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temporary name, left by a killed smtpd
        }
        let file = QueueFile::read(&path).unwrap_or_else(|e| panic!("{name} is incomplete: {e}"));
        if let Some(text) = acked.get(&name) {
            assert_eq!(&body(&file), text, "{name}");
            seen += 1;
        }
    }
    assert_eq!(
        seen,
        acked.len(),
        "acknowledged messages missing from incoming/"
    );
    eprintln!(
        "{kills} kills, {} messages acknowledged and found complete",
        acked.len()
    );
}
