//! `check_policy_service` against an in-process policy server (a
//! loopback listener thread), and the sender-login restrictions.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use super::tests::{outsider, reply_text};
use super::*;

type Attrs = Vec<(String, String)>;

/// A policy server on 127.0.0.1: each request is recorded; `answer`
/// gives the action, or `None` to never reply.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Attrs>>>,
    connections: Arc<Mutex<usize>>,
}

impl Server {
    fn start(answer: fn(&HashMap<String, String>) -> Option<String>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (reqs, conns) = (Arc::clone(&requests), Arc::clone(&connections));
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                *conns.lock().expect("lock") += 1;
                let reqs = Arc::clone(&reqs);
                std::thread::spawn(move || serve(stream, &reqs, answer));
            }
        });
        Server {
            port,
            requests,
            connections,
        }
    }

    fn spec(&self) -> String {
        format!("inet:127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Attrs> {
        self.requests.lock().expect("lock").clone()
    }

    fn connections(&self) -> usize {
        *self.connections.lock().expect("lock")
    }
}

fn serve(
    stream: TcpStream,
    requests: &Mutex<Vec<Attrs>>,
    answer: fn(&HashMap<String, String>) -> Option<String>,
) {
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    let mut attrs = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        let text = line.trim_end().to_string();
        line.clear();
        if let Some((name, value)) = text.split_once('=') {
            attrs.push((name.to_string(), value.to_string()));
            continue;
        }
        let map: HashMap<_, _> = attrs.iter().cloned().collect();
        requests
            .lock()
            .expect("lock")
            .push(std::mem::take(&mut attrs));
        if let Some(action) = answer(&map) {
            let reply = format!("action={action}\n\n");
            if writer.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// The action is the recipient's local part, `~` for spaces: `REJECT~go~away@x`.
fn by_recipient(attrs: &HashMap<String, String>) -> Option<String> {
    let rcpt = attrs.get("recipient")?;
    let local = rcpt.split('@').next()?;
    match local {
        "hang" => None,
        _ => Some(local.replace('~', " ")),
    }
}

fn engine(settings: &[(&str, &str)]) -> Engine {
    let mut overrides: Vec<(String, String)> = [
        ("smtpd_delay_reject", "no"),
        ("mynetworks", "127.0.0.0/8"),
        ("mydestination", "example.com"),
        ("inet_interfaces", "127.0.0.1"),
        ("local_recipient_maps", ""),
        ("smtpd_policy_service_retry_delay", "0s"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    for (n, v) in settings {
        overrides.retain(|(name, _)| name != n);
        overrides.push((n.to_string(), v.to_string()));
    }
    let config = conf::Config::with_main(&std::env::temp_dir(), Default::default(), &overrides);
    let engine =
        Engine::from_config(&config, Box::new(NoDns { temporary: false })).expect("engine");
    assert_eq!(engine.warnings(), &[] as &[String]);
    engine
}

fn policy_engine(server: &Server, options: &str) -> Engine {
    let service = match options {
        "" => server.spec(),
        _ => format!("{{ {}, {options} }}", server.spec()),
    };
    let list = format!("check_policy_service {service}, permit");
    engine(&[("smtpd_recipient_restrictions", list.as_str())])
}

fn log_text(outcome: &Outcome) -> Vec<String> {
    outcome.log.iter().map(ToString::to_string).collect()
}

#[test]
fn policy_actions_apply_like_access_map_values() {
    let server = Server::start(by_recipient);
    let e = policy_engine(&server, "");
    let mut state = outsider();
    e.check_mail(&mut state, "a@outside.test");
    let mut rcpt = |r: &str| reply_text(&e.check_rcpt(&mut state, r));
    assert_eq!(rcpt("OK@example.com"), "accept");
    assert_eq!(rcpt("DUNNO@example.com"), "accept");
    assert_eq!(
        rcpt("REJECT~go~away@example.com"),
        "554 5.7.1 <REJECT~go~away@example.com>: Recipient address rejected: go away"
    );
    assert_eq!(
        rcpt("DEFER_IF_PERMIT~4.2.0~Greylisted@example.com"),
        "450 4.2.0 <DEFER_IF_PERMIT~4.2.0~Greylisted@example.com>: \
         Recipient address rejected: Greylisted"
    );
    assert_eq!(
        rcpt("451~4.7.1~later@example.com"),
        "451 4.7.1 <451~4.7.1~later@example.com>: Recipient address rejected: later"
    );
    assert_eq!(
        rcpt("reject@example.com"),
        "554 5.7.1 <reject@example.com>: Recipient address rejected: Access denied"
    );
    assert_eq!(rcpt("PREPEND~X-Policy:~seen@example.com"), "accept");
    assert_eq!(state.actions.prepend, ["X-Policy: seen"]);
    // One connection served every request.
    assert_eq!(server.connections(), 1);
    assert_eq!(server.requests().len(), 7);
}

#[test]
fn policy_requests_carry_the_session_facts() {
    let server = Server::start(|_| Some("DUNNO".to_string()));
    let e = policy_engine(&server, "policy_context=submission");
    let mut state = outsider();
    state.client_port = Some(54321);
    state.server = Some("192.0.2.25:25".parse().expect("address"));
    // The session names each transaction (`instance`) at MAIL.
    state.size = 1234;
    state.instance = "first".to_string();
    state.encryption = Some(Encryption {
        protocol: "TLSv1.3".to_string(),
        cipher: "TLS_AES_256_GCM_SHA384".to_string(),
        keysize: 256,
    });
    e.check_mail(&mut state, "a@outside.test");
    e.check_rcpt(&mut state, "one@example.com");
    e.check_rcpt(&mut state, "two@example.com");
    state.instance = "second".to_string();
    e.check_mail(&mut state, "b@outside.test");
    e.check_rcpt(&mut state, "one@example.com");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let first = &requests[0];
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "request",
            "protocol_state",
            "protocol_name",
            "client_address",
            "client_name",
            "client_port",
            "reverse_client_name",
            "server_address",
            "server_port",
            "helo_name",
            "sender",
            "recipient",
            "recipient_count",
            "queue_id",
            "instance",
            "size",
            "etrn_domain",
            "stress",
            "sasl_method",
            "sasl_username",
            "sasl_sender",
            "ccert_subject",
            "ccert_issuer",
            "ccert_fingerprint",
            "ccert_pubkey_fingerprint",
            "encryption_protocol",
            "encryption_cipher",
            "encryption_keysize",
            "policy_context",
            "compatibility_level",
            "mail_version",
        ]
    );
    let get = |r: &Attrs, name: &str| {
        r.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    for (name, value) in [
        ("request", "smtpd_access_policy"),
        ("protocol_state", "RCPT"),
        ("protocol_name", "ESMTP"),
        ("client_address", "192.0.2.9"),
        ("client_name", "mail.outside.test"),
        ("helo_name", "mail.outside.test"),
        ("sender", "a@outside.test"),
        ("recipient", "one@example.com"),
        ("recipient_count", "0"),
        ("queue_id", ""),
        ("client_port", "54321"),
        ("server_address", "192.0.2.25"),
        ("server_port", "25"),
        ("size", "1234"),
        ("instance", "first"),
        ("encryption_protocol", "TLSv1.3"),
        ("encryption_cipher", "TLS_AES_256_GCM_SHA384"),
        ("encryption_keysize", "256"),
        ("policy_context", "submission"),
    ] {
        assert_eq!(get(first, name), value, "{name}");
    }
    assert!(!get(first, "mail_version").is_empty());
    assert_eq!(get(&requests[2], "instance"), "second");
}

#[test]
fn policy_connections_are_reused_up_to_the_request_limit() {
    let server = Server::start(|_| Some("DUNNO".to_string()));
    let e = policy_engine(&server, "");
    let mut state = outsider();
    e.check_mail(&mut state, "a@outside.test");
    for _ in 0..3 {
        e.check_rcpt(&mut state, "u@example.com");
    }
    assert_eq!(server.connections(), 1);
    assert_eq!(e.settings.policy.idle_count(&server.spec()), 1);

    let limited = Server::start(|_| Some("DUNNO".to_string()));
    let e = policy_engine(&limited, "request_limit=2");
    for _ in 0..4 {
        e.check_rcpt(&mut state, "u@example.com");
    }
    assert_eq!(limited.connections(), 2);
    assert_eq!(limited.requests().len(), 4);
}

#[test]
fn policy_server_down_gives_the_default_action_and_warnings() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let list = format!("check_policy_service inet:127.0.0.1:{port}, permit");
    let e = engine(&[("smtpd_recipient_restrictions", list.as_str())]);
    let mut state = outsider();
    e.check_mail(&mut state, "a@outside.test");
    let out = e.check_rcpt(&mut state, "u@example.com");
    assert_eq!(
        reply_text(&out),
        "451 4.3.5 <u@example.com>: Recipient address rejected: Server configuration problem"
    );
    let refused = format!("127.0.0.1:{port}: Connection refused");
    let log = log_text(&out);
    assert_eq!(
        log[..4],
        [
            format!("warning: connect to {refused}"),
            format!("warning: problem talking to server {refused}"),
            format!("warning: connect to {refused}"),
            format!("warning: problem talking to server {refused}"),
        ],
        "{log:?}"
    );
    assert!(
        log[4].starts_with("NOQUEUE: reject: RCPT from mail.outside.test[192.0.2.9]: 451 4.3.5")
    );
}

#[test]
fn policy_timeout_gives_the_overridden_default_action() {
    let server = Server::start(by_recipient);
    let e = policy_engine(
        &server,
        "timeout=1s, try_limit=1, { default_action = DEFER no policy }",
    );
    let mut state = outsider();
    e.check_mail(&mut state, "a@outside.test");
    let out = e.check_rcpt(&mut state, "hang@example.com");
    assert_eq!(
        reply_text(&out),
        "450 4.7.1 <hang@example.com>: Recipient address rejected: no policy"
    );
    assert_eq!(
        log_text(&out)[0],
        format!(
            "warning: problem talking to server 127.0.0.1:{}: Connection timed out",
            server.port
        )
    );
    // The timed-out connection is not kept; the next request works.
    assert_eq!(
        reply_text(&e.check_rcpt(&mut state, "OK@example.com")),
        "accept"
    );
    assert_eq!(server.connections(), 2);
}

#[test]
fn a_dead_kept_connection_is_replaced_quietly() {
    // The server closes the connection after each reply.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut writer = stream.try_clone().expect("clone");
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\n" {
                line.clear();
            }
            let _ = writer.write_all(b"action=DUNNO\n\n");
        }
    });
    let list = format!("check_policy_service inet:127.0.0.1:{port}, permit");
    let e = engine(&[("smtpd_recipient_restrictions", list.as_str())]);
    let mut state = outsider();
    e.check_mail(&mut state, "a@outside.test");
    for _ in 0..3 {
        let out = e.check_rcpt(&mut state, "u@example.com");
        assert_eq!(reply_text(&out), "accept");
        assert!(out.log.is_empty(), "{:?}", log_text(&out));
    }
}

#[test]
fn sender_login_restrictions_need_sasl_enabled() {
    let e = engine(&[("smtpd_sender_restrictions", "reject_sender_login_mismatch")]);
    let mut state = outsider();
    let out = e.check_mail(&mut state, "a@outside.test");
    assert_eq!(reply_text(&out), "accept");
    assert_eq!(
        log_text(&out),
        [
            "warning: restriction `reject_authenticated_sender_login_mismatch' ignored: \
             no SASL support",
            "warning: restriction `reject_unauthenticated_sender_login_mismatch' ignored: \
             no SASL support",
        ]
    );
}

#[test]
fn owned_senders_need_their_login() {
    let logins = "inline:{ joe@example.com=joe, { @owned.test = ann, bob } }";
    let with = |list: &str| {
        engine(&[
            ("smtpd_sasl_auth_enable", "yes"),
            ("recipient_delimiter", "+"),
            ("smtpd_sender_login_maps", logins),
            ("smtpd_sender_restrictions", list),
        ])
    };
    let e = with("reject_unauthenticated_sender_login_mismatch");
    let mut state = outsider();
    let mail = |e: &Engine, state: &mut State, s: &str| reply_text(&e.check_mail(state, s));
    assert_eq!(
        mail(&e, &mut state, "joe@example.com"),
        "553 5.7.1 <joe@example.com>: Sender address rejected: not logged in"
    );
    assert_eq!(
        mail(&e, &mut state, "joe+ext@example.com"),
        "553 5.7.1 <joe+ext@example.com>: Sender address rejected: not logged in"
    );
    assert!(mail(&e, &mut state, "x@owned.test").starts_with("553 5.7.1"));
    assert_eq!(mail(&e, &mut state, "free@outside.test"), "accept");
    assert_eq!(mail(&e, &mut state, ""), "accept");

    let e = with("reject_sender_login_mismatch");
    state.sasl_username = Some("bob".to_string());
    assert_eq!(mail(&e, &mut state, "x@owned.test"), "accept");
    assert_eq!(
        mail(&e, &mut state, "joe@example.com"),
        "553 5.7.1 <joe@example.com>: Sender address rejected: not owned by user bob"
    );
    assert_eq!(
        mail(&e, &mut state, "free@outside.test"),
        "553 5.7.1 <free@outside.test>: Sender address rejected: not owned by user bob"
    );
    let e = with("reject_known_sender_login_mismatch");
    assert_eq!(mail(&e, &mut state, "free@outside.test"), "accept");
    assert!(mail(&e, &mut state, "joe@example.com").starts_with("553 5.7.1"));
    state.sasl_username = None;
    assert!(mail(&e, &mut state, "joe@example.com").ends_with("not logged in"));
}
