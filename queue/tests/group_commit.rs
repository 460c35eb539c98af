//! Group commit: many sessions finishing at once all land in `incoming/`
//! with unique IDs, valid files, and shared directory fsyncs.

mod support;

use std::collections::HashSet;
use std::sync::Barrier;
use std::time::SystemTime;

use queue::{Committed, QueueFile, QueueName, Recipient};

use support::spool;

const THREADS: usize = 16;
const PER_THREAD: usize = 8;

#[test]
fn sixteen_threads_commit_concurrently() {
    let s = spool();
    let barrier = Barrier::new(THREADS);
    let committed: Vec<Committed> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (s, barrier) = (&s, &barrier);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    for n in 0..PER_THREAD {
                        let mut w = s.writer(SystemTime::now());
                        w.sender(&format!("t{t}@example.org")).expect("sender");
                        w.recipient(&Recipient::new(format!("r{n}@example.net")))
                            .expect("rcpt");
                        w.line(format!("Subject: {t}/{n}").as_bytes(), true)
                            .expect("line");
                        if n == 0 {
                            // Everyone's first commit at the same moment.
                            barrier.wait();
                        }
                        done.push(w.finish().expect("finish"));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    });
    let total = THREADS * PER_THREAD;
    assert_eq!(committed.len(), total);
    let ids: HashSet<String> = committed.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids.len(), total, "queue IDs are unique");
    let names: HashSet<String> = s.incoming_names().into_iter().collect();
    assert_eq!(names, ids, "every file landed under its ID, no temp left");
    for c in &committed {
        let q = QueueFile::read(s.incoming(c)).expect("valid");
        assert_eq!(q.recipients.len(), 1);
    }
    let syncs = s.committer.sync_count(&s.dirs.dir(QueueName::Incoming));
    assert!(
        (1..=total as u64).contains(&syncs),
        "{syncs} directory fsyncs for {total} commits"
    );
    eprintln!("{syncs} directory fsyncs for {total} commits");
}
