//! Keeping services running: one process per listening socket (or named
//! pipe), started with the master and on reload, restarted when it
//! crashes (after `service_throttle_time` when it failed right after
//! starting), replaced on reload while the old one drains, and told to
//! stop at shutdown. Log lines are Postfix's. A process of a stream
//! listener without a `wakeup` time that exits with status 0 (smtpd
//! after `max_idle` or `max_use`) left of its own accord: nothing is
//! logged, and the next one starts on demand, when a client waits on the
//! socket (Postfix's master(8) model).

use std::collections::{BTreeMap, HashMap};
use std::os::fd::BorrowedFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tracing::{info, warn};

use crate::listeners::{self, Endpoint, Listener};
use crate::services::{Plan, Service};
use crate::spawn::{self, Credentials};
use crate::wakeup;

/// A child that fails within this time of its start failed to start:
/// the service is throttled instead of restarted at once (Postfix's
/// "bad command startup").
const STARTUP_TIME: Duration = Duration::from_secs(2);

/// The signal that tells a service to stop accepting work and exit once
/// the work in progress is done (smtpd(8): SIGUSR1).
const DRAIN: Signal = Signal::SIGUSR1;

/// Listen backlog, as Postfix's default for inet listeners.
const BACKLOG: i32 = 100;

/// What every child of one configuration has in common.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `service_throttle_time`.
    pub(crate) throttle: Duration,
    /// `mail_owner`, when the master runs as root.
    pub(crate) credentials: Option<Credentials>,
}

/// One listening socket of a service and the process serving it.
#[derive(Debug)]
struct Slot {
    service: Service,
    endpoint: Endpoint,
    listener: Listener,
    child: Option<Pid>,
    /// Throttled: do not start before this.
    not_before: Option<Instant>,
    /// The child exited by itself (status 0) and the service runs on
    /// demand: start one when a client waits on the listener.
    idle: bool,
    /// When to wake the service up next (`wakeup` column).
    next_wakeup: Option<Instant>,
}

/// A running child.
#[derive(Debug)]
struct Child {
    program: PathBuf,
    started: Instant,
    /// The slot it serves; None once it was told to drain or stop.
    slot: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Supervisor {
    settings: Settings,
    slots: BTreeMap<u64, Slot>,
    next_slot: u64,
    children: HashMap<Pid, Child>,
    /// Children replaced by the last `apply`, with the signal they get.
    retiring: Vec<(Pid, Signal)>,
}

impl Supervisor {
    pub(crate) fn new(settings: Settings) -> Supervisor {
        Supervisor {
            settings,
            slots: BTreeMap::new(),
            next_slot: 0,
            children: HashMap::new(),
            retiring: Vec::new(),
        }
    }

    /// Make the services those of `plans`: keep the listeners of
    /// endpoints that stay, bind new ones, close those that go. Nothing
    /// is started or signalled until [`Supervisor::commit`]. Returns the
    /// bind errors, as `(service, message)`; those endpoints are left out.
    pub(crate) fn apply(&mut self, settings: Settings, plans: &[Plan]) -> Vec<(String, String)> {
        self.settings = settings;
        let mut old: HashMap<Endpoint, Slot> = std::mem::take(&mut self.slots)
            .into_values()
            .map(|slot| (slot.endpoint.clone(), slot))
            .collect();
        let mut draining = Vec::new();
        let mut errors = Vec::new();
        for plan in plans {
            let service = match plan {
                Plan::Run(service) => service,
                Plan::Skip { id, reason } => {
                    info!(target: "master", "service {id}: {reason}: not started");
                    continue;
                }
            };
            for endpoint in &service.endpoints {
                let listener = match old.remove(endpoint) {
                    Some(slot) => {
                        draining.extend(slot.child);
                        slot.listener
                    }
                    None => match bind(endpoint) {
                        Ok(listener) => listener,
                        Err(e) => {
                            errors.push((service.id.clone(), format!("bind {endpoint}: {e}")));
                            continue;
                        }
                    },
                };
                self.add(service.clone(), endpoint.clone(), listener);
            }
        }
        self.retiring
            .extend(draining.into_iter().map(|pid| (pid, DRAIN)));
        for slot in old.into_values() {
            if let Some(pid) = slot.child {
                self.retiring.push((pid, Signal::SIGTERM));
            }
            if let Some(path) = slot.endpoint.path() {
                let _ = std::fs::remove_file(path);
            }
        }
        errors
    }

    /// After [`Supervisor::apply`]: start the new children, then tell the
    /// ones they replace to drain (or stop, when their service is gone).
    pub(crate) fn commit(&mut self) {
        self.start_due(Instant::now());
        for (pid, signal) in std::mem::take(&mut self.retiring) {
            self.retire(pid, signal);
        }
    }

    fn add(&mut self, service: Service, endpoint: Endpoint, listener: Listener) {
        let id = self.next_slot;
        self.next_slot += 1;
        self.slots.insert(
            id,
            Slot {
                next_wakeup: service.wakeup.map(|every| Instant::now() + every),
                service,
                endpoint,
                listener,
                child: None,
                not_before: None,
                idle: false,
            },
        );
    }

    /// Tell `pid` to drain (or stop) and forget its slot.
    fn retire(&mut self, pid: Pid, signal: Signal) {
        if let Some(child) = self.children.get_mut(&pid) {
            child.slot = None;
            let _ = kill(pid, signal);
        }
    }

    /// Start a child for every slot that has none, is not throttled and
    /// does not wait for a client.
    pub(crate) fn start_due(&mut self, now: Instant) {
        let due: Vec<u64> = self
            .slots
            .iter()
            .filter(|(_, s)| s.child.is_none() && !s.idle && s.not_before.is_none_or(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.start(id, now);
        }
    }

    /// The listeners to watch: those of the slots that wait for a client
    /// to start a child (and are not throttled), with their slot ids.
    pub(crate) fn watched(&self, now: Instant) -> Vec<(u64, BorrowedFd<'_>)> {
        self.slots
            .iter()
            .filter(|(_, s)| s.child.is_none() && s.idle && s.not_before.is_none_or(|t| t <= now))
            .map(|(id, s)| (*id, s.listener.fd()))
            .collect()
    }

    /// A client waits on the listener of each of `ids` (from
    /// [`Supervisor::watched`]): start its child, unless one runs by now
    /// or the slot went in a reload meanwhile.
    pub(crate) fn start_ready(&mut self, ids: &[u64], now: Instant) {
        for id in ids {
            if self
                .slots
                .get(id)
                .is_some_and(|s| s.child.is_none() && s.idle)
            {
                self.start(*id, now);
            }
        }
    }

    fn start(&mut self, id: u64, now: Instant) {
        let Some(slot) = self.slots.get_mut(&id) else {
            return;
        };
        slot.not_before = None;
        let service = &slot.service;
        let mut cmd = Command::new(&service.program);
        cmd.args(&service.args).stdin(Stdio::null());
        // A chrooted service must be root to chroot: it drops to
        // mail_owner itself, afterwards (`-C -u`).
        let credentials = if service.unprivileged && !service.chroot {
            self.settings.credentials.clone()
        } else {
            None
        };
        match spawn::service(cmd, slot.listener.raw_fd(), credentials) {
            Ok(child) => {
                let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
                slot.child = Some(pid);
                slot.idle = false;
                self.children.insert(
                    pid,
                    Child {
                        program: service.program.clone(),
                        started: now,
                        slot: Some(id),
                    },
                );
            }
            Err(e) => {
                warn!(target: "master",
                    "spawn command {}: {e}", service.program.display());
                self.throttle(id, now);
            }
        }
    }

    fn throttle(&mut self, id: u64, now: Instant) {
        if let Some(slot) = self.slots.get_mut(&id) {
            warn!(target: "master",
                "{}: bad command startup -- throttling", slot.service.program.display());
            slot.not_before = Some(now + self.settings.throttle);
        }
    }

    /// Collect every exited child; log abnormal ends; schedule restarts.
    pub(crate) fn reap(&mut self, now: Instant) {
        loop {
            let status = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(status) => status,
            };
            let Some(pid) = status.pid() else { continue };
            // Not ours (init mode reaps orphans too).
            let Some(child) = self.children.remove(&pid) else {
                continue;
            };
            let program = child.program.display();
            match status {
                WaitStatus::Exited(_, code) if code != 0 => {
                    warn!(target: "master", "process {program} pid {pid} exit status {code}");
                }
                WaitStatus::Signaled(_, signal, _) => {
                    warn!(target: "master",
                        "process {program} pid {pid} killed by signal {}", signal as i32);
                }
                _ => {}
            }
            let Some(id) = child.slot else { continue };
            if let Some(slot) = self.slots.get_mut(&id) {
                slot.child = None;
                // Left of its own accord (max_idle, max_use): the next
                // one when a client comes, as Postfix. A crash or a kill
                // restarts at once, so a process is ready for the next
                // client as it was before.
                slot.idle = matches!(status, WaitStatus::Exited(_, 0)) && is_on_demand(slot);
            }
            if is_bad_startup(status, now.duration_since(child.started)) {
                self.throttle(id, now);
            }
        }
        self.start_due(now);
    }

    /// How long until a throttled service may start (or be watched)
    /// again or a service is to be woken up.
    pub(crate) fn next_event(&self, now: Instant) -> Option<Duration> {
        let starts = self
            .slots
            .values()
            .filter(|s| s.child.is_none())
            // A past one of an idle slot is in `watched` already.
            .filter_map(|s| s.not_before.filter(|t| !s.idle || *t > now));
        let wakeups = self.slots.values().filter_map(|s| s.next_wakeup);
        starts
            .chain(wakeups)
            .map(|t| t.saturating_duration_since(now))
            .min()
    }

    /// Wake up the services whose time has come (a failure is only
    /// logged in verbose mode: the service may be restarting).
    pub(crate) fn wake_due(&mut self, now: Instant) {
        for slot in self.slots.values_mut() {
            let (Some(at), Some(every)) = (slot.next_wakeup, slot.service.wakeup) else {
                continue;
            };
            if at > now {
                continue;
            }
            slot.next_wakeup = Some(now + every);
            if let Err(e) = wakeup::wake(&slot.endpoint) {
                tracing::debug!(target: "master", "wakeup {}: {e}", slot.endpoint);
            }
        }
    }

    /// Send SIGTERM to every child, then wait up to `grace` for them.
    pub(crate) fn stop(&mut self, grace: Duration) {
        for pid in self.children.keys() {
            let _ = kill(*pid, Signal::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        while !self.children.is_empty() && Instant::now() < deadline {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(20)),
                Ok(status) => {
                    if let Some(pid) = status.pid() {
                        self.children.remove(&pid);
                    }
                }
                Err(_) => break,
            }
        }
        for slot in self.slots.values() {
            if let Some(path) = slot.endpoint.path() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Whether the slot's service runs on demand once its process has left:
/// a stream listener (a waiting client makes it readable) without a
/// `wakeup` time (those services run all the time, to be woken).
fn is_on_demand(slot: &Slot) -> bool {
    slot.service.wakeup.is_none() && slot.listener.is_stream()
}

/// Whether a child that ended with `status` after `uptime` failed to
/// start: it failed within [`STARTUP_TIME`]. SIGKILL does not count: only
/// someone else sends it (an admin, the OOM killer), and a crash loop
/// ends by SIGSEGV, SIGABRT or an exit status.
fn is_bad_startup(status: WaitStatus, uptime: Duration) -> bool {
    let failed = match status {
        WaitStatus::Exited(_, code) => code != 0,
        WaitStatus::Signaled(_, signal, _) => signal != Signal::SIGKILL,
        _ => false,
    };
    failed && uptime < STARTUP_TIME
}

fn bind(endpoint: &Endpoint) -> std::io::Result<Listener> {
    Ok(match endpoint {
        Endpoint::Tcp(addr) => Listener::Tcp(listeners::bind_tcp(*addr, BACKLOG)?),
        Endpoint::Unix(path) => Listener::Unix(listeners::bind_unix(path)?),
        Endpoint::UnixDgram(path) => Listener::UnixDgram(listeners::bind_unix_dgram(path)?),
        Endpoint::Fifo(path) => Listener::Fifo(listeners::open_fifo(path)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Serializes the tests that start children: [`Supervisor::reap`]
    /// takes any child of the process (waitpid(-1)).
    static CHILDREN: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn children_lock() -> std::sync::MutexGuard<'static, ()> {
        CHILDREN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for `pid` to be reaped by `sup` (tests that start children
    /// hold [`children_lock`], so waitpid(-1) takes only ours).
    fn reaped(sup: &mut Supervisor, pid: Pid) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            sup.reap(Instant::now());
            if !sup.children.contains_key(&pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn child_of(sup: &Supervisor) -> Pid {
        let mut pids = sup.slots.values().filter_map(|s| s.child);
        let pid = pids.next().expect("a child");
        assert!(pids.next().is_none());
        pid
    }

    /// A unix service with a wake-up time gets `W` on its socket when
    /// that time has come, and the next one is scheduled.
    #[test]
    fn due_wakeups_write_w_to_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("pickup");
        let every = Duration::from_secs(60);
        let plan = Plan::Run(Service {
            id: "pickup/unix".to_owned(),
            program: dir.path().join("pickup"),
            args: vec![],
            unprivileged: true,
            chroot: false,
            wakeup: Some(every),
            endpoints: vec![Endpoint::Unix(socket)],
        });
        let settings = Settings {
            throttle: Duration::from_secs(60),
            credentials: None,
        };
        let mut sup = Supervisor::new(settings.clone());
        // Applied but not committed: no child, only the socket.
        assert!(sup.apply(settings, &[plan]).is_empty());
        let now = Instant::now();
        let next = sup.next_event(now).unwrap();
        assert!(next <= every && next > every - Duration::from_secs(5));
        sup.wake_due(now);
        let later = now + every + Duration::from_secs(1);
        sup.wake_due(later);
        let Some(Slot {
            listener: Listener::Unix(listener),
            next_wakeup,
            ..
        }) = sup.slots.values().next()
        else {
            panic!("a unix slot")
        };
        assert_eq!(*next_wakeup, Some(later + every));
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut conn, &mut got).unwrap();
        assert_eq!(got, b"W");
        listener.set_nonblocking(true).unwrap();
        assert!(listener.accept().is_err(), "one wake-up only");
    }

    /// A unix service at `dir/svc` whose program is the shell `script`.
    fn unix_service(dir: &std::path::Path, script: &str) -> (Plan, PathBuf, Settings) {
        let program = dir.join("daemon");
        std::fs::write(&program, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let socket = dir.join("svc");
        let plan = Plan::Run(Service {
            id: "svc/unix".to_owned(),
            program,
            args: vec![],
            unprivileged: true,
            chroot: false,
            wakeup: None,
            endpoints: vec![Endpoint::Unix(socket.clone())],
        });
        let settings = Settings {
            throttle: Duration::from_secs(60),
            credentials: None,
        };
        (plan, socket, settings)
    }

    /// Reload keeps the socket, starts a new child and drains the old
    /// one; a service that goes has its child stopped and socket removed.
    #[test]
    fn reload_replaces_children_and_removed_services_stop() {
        let _children = children_lock();
        let dir = tempfile::tempdir().unwrap();
        let (plan, socket, settings) = unix_service(dir.path(), "exec sleep 30");
        let mut sup = Supervisor::new(settings.clone());
        assert!(
            sup.apply(settings.clone(), std::slice::from_ref(&plan))
                .is_empty()
        );
        sup.commit();
        let first = child_of(&sup);
        let inode = |p: &std::path::Path| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(p).unwrap().ino()
        };
        let before = inode(&socket);
        assert!(
            sup.apply(settings.clone(), std::slice::from_ref(&plan))
                .is_empty()
        );
        sup.commit();
        let second = child_of(&sup);
        assert_ne!(first, second);
        assert_eq!(inode(&socket), before, "the same socket");
        // sleep does not catch SIGUSR1, so the drain signal ends it.
        assert!(reaped(&mut sup, first));
        assert_eq!(child_of(&sup), second, "a drained child is not restarted");
        assert!(sup.apply(settings, &[]).is_empty());
        sup.commit();
        assert!(reaped(&mut sup, second));
        assert!(sup.slots.is_empty());
        assert!(!socket.exists());
    }

    /// A unix service whose process exits 0 (as smtpd after max_idle)
    /// is not started again until a client waits on its socket; then
    /// it is.
    #[test]
    fn a_service_that_left_starts_again_when_a_client_waits() {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let _children = children_lock();
        let dir = tempfile::tempdir().unwrap();
        let (plan, socket, settings) = unix_service(dir.path(), "exit 0");
        let mut sup = Supervisor::new(settings.clone());
        assert!(sup.apply(settings, &[plan]).is_empty());
        sup.commit();
        let first = child_of(&sup);
        assert!(reaped(&mut sup, first));
        let now = Instant::now();
        sup.start_due(now);
        assert!(sup.slots.values().all(|s| s.child.is_none() && s.idle));
        assert_eq!(sup.next_event(now), None, "nothing to do until a client");
        let ids: Vec<u64> = sup.watched(now).iter().map(|(id, _)| *id).collect();
        assert_eq!(ids.len(), 1);
        let _client = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        let mut fds = [PollFd::new(sup.watched(now)[0].1, PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::from(5000u16)).unwrap(), 1);
        sup.start_ready(&ids, Instant::now());
        let second = child_of(&sup);
        assert_ne!(first, second);
        assert!(sup.watched(Instant::now()).is_empty(), "served now");
        assert!(reaped(&mut sup, second));
    }

    #[test]
    fn only_early_failures_other_than_sigkill_are_bad_startups() {
        let pid = Pid::from_raw(42);
        let early = Duration::from_millis(100);
        let late = STARTUP_TIME + Duration::from_secs(1);
        assert!(is_bad_startup(WaitStatus::Exited(pid, 1), early));
        assert!(!is_bad_startup(WaitStatus::Exited(pid, 1), late));
        assert!(!is_bad_startup(WaitStatus::Exited(pid, 0), early));
        let segv = WaitStatus::Signaled(pid, Signal::SIGSEGV, true);
        assert!(is_bad_startup(segv, early));
        assert!(!is_bad_startup(segv, late));
        let killed = WaitStatus::Signaled(pid, Signal::SIGKILL, false);
        assert!(!is_bad_startup(killed, early));
    }
}
