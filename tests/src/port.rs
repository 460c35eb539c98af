//! Free loopback ports for daemons that must be told their port in
//! `master.cf` (a test cannot hand a config file a listener it bound).

use std::net::{Ipv4Addr, TcpListener};

/// A TCP port on 127.0.0.1 that was free a moment ago: the kernel picks
/// it, and we release it for the daemon to bind. Another process may take
/// it in between; the kernel hands out ephemeral ports in turn, so that
/// is rare, and a daemon that cannot bind fails loudly.
///
/// # Panics
/// If no port can be bound on 127.0.0.1 at all.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("cannot bind any port on 127.0.0.1: is loopback up?");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_can_be_bound_again() {
        let port = free_port();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
    }
}
