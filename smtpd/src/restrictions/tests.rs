//! Engine-level tests: whole lists evaluated against a configuration.

use super::*;

fn engine_with(dns: NoDns, settings: &[(&str, &str)]) -> Engine {
    let mut overrides: Vec<(String, String)> = [
        ("smtpd_delay_reject", "no"),
        ("mynetworks", "127.0.0.0/8"),
        ("mydestination", "example.com"),
        ("relay_domains", "relay.test"),
        ("inet_interfaces", "127.0.0.1"),
        ("local_recipient_maps", ""),
        ("virtual_alias_maps", ""),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    for (n, v) in settings {
        overrides.retain(|(name, _)| name != n);
        overrides.push((n.to_string(), v.to_string()));
    }
    let dir = std::env::temp_dir();
    let config = conf::Config::with_main(&dir, Default::default(), &overrides);
    Engine::from_config(&config, Box::new(dns)).expect("engine")
}

fn engine(settings: &[(&str, &str)]) -> Engine {
    engine_with(NoDns { temporary: false }, settings)
}

pub(super) fn outsider() -> State {
    let mut state = State::new(Client::new("mail.outside.test", "192.0.2.9"));
    state.helo = Some("mail.outside.test".to_string());
    state
}

pub(super) fn reply_text(outcome: &Outcome) -> String {
    match &outcome.verdict {
        Verdict::Accept => "accept".to_string(),
        Verdict::Reject(r) => r.to_string(),
    }
}

#[test]
fn strangers_may_not_relay() {
    let e = engine(&[(
        "smtpd_relay_restrictions",
        "permit_mynetworks, reject_unauth_destination",
    )]);
    let mut state = outsider();
    e.check_mail(&mut state, "a@outside.test");
    let out = e.check_rcpt(&mut state, "victim@elsewhere.test");
    assert_eq!(
        reply_text(&out),
        "554 5.7.1 <victim@elsewhere.test>: Relay access denied"
    );
    assert_eq!(
        out.log[0].to_string(),
        "NOQUEUE: reject: RCPT from mail.outside.test[192.0.2.9]: 554 5.7.1 \
         <victim@elsewhere.test>: Relay access denied; from=<a@outside.test> \
         to=<victim@elsewhere.test> proto=ESMTP helo=<mail.outside.test>"
    );
    for rcpt in [
        "u@example.com",
        "u@relay.test",
        "u@sub.relay.test",
        "postmaster",
    ] {
        assert_eq!(
            reply_text(&e.check_rcpt(&mut state, rcpt)),
            "accept",
            "{rcpt}"
        );
    }
    // Sender-specified routing is never an authorised destination.
    let routed = e.check_rcpt(&mut state, "victim%elsewhere.test@example.com");
    assert!(reply_text(&routed).starts_with("554 5.7.1"));
    let mut inside = State::new(Client::new("localhost", "127.0.0.1"));
    e.check_mail(&mut inside, "a@example.com");
    let out = e.check_rcpt(&mut inside, "victim@elsewhere.test");
    assert_eq!(reply_text(&out), "accept");
}

#[test]
fn delay_reject_moves_client_rejects_to_rcpt() {
    let e = engine(&[
        ("smtpd_delay_reject", "yes"),
        ("smtpd_client_restrictions", "reject"),
    ]);
    let mut state = outsider();
    assert_eq!(reply_text(&e.check_client(&mut state)), "accept");
    assert_eq!(reply_text(&e.check_mail(&mut state, "a@b.test")), "accept");
    let out = e.check_rcpt(&mut state, "u@example.com");
    assert_eq!(
        reply_text(&out),
        "554 5.7.1 <mail.outside.test[192.0.2.9]>: Client host rejected: Access denied"
    );
    assert!(out.log[0].text.contains("to=<u@example.com>"));
}

#[test]
fn warn_if_reject_only_logs_the_next_reject() {
    let e = engine(&[(
        "smtpd_sender_restrictions",
        "warn_if_reject reject_non_fqdn_sender, reject",
    )]);
    let mut state = outsider();
    let out = e.check_mail(&mut state, "user@localhost");
    assert!(out.log[0].text.contains("reject_warning: MAIL"));
    assert!(out.log[0].text.contains("need fully-qualified address"));
    assert_eq!(
        reply_text(&out),
        "554 5.7.1 <user@localhost>: Sender address rejected: Access denied"
    );
}

#[test]
fn restriction_classes_and_old_names() {
    let e = engine(&[
        ("smtpd_restriction_classes", "strict"),
        ("strict", "reject_invalid_hostname"),
        ("smtpd_helo_restrictions", "strict"),
        (
            "smtpd_recipient_restrictions",
            "check_relay_domains, reject",
        ),
    ]);
    let mut state = outsider();
    let out = e.check_helo(&mut state, "bad_host!");
    assert_eq!(
        reply_text(&out),
        "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name"
    );
    let out = e.check_helo(&mut state, "[1.2.3.256]");
    assert!(reply_text(&out).ends_with("invalid ip address"));
    let out = e.check_rcpt(&mut state, "u@elsewhere.test");
    assert_eq!(
        out.log[0].to_string(),
        "warning: support for restriction \"check_relay_domains\" will be removed \
         from Postfix; use \"reject_unauth_destination\" instead"
    );
    assert!(
        out.log
            .iter()
            .any(|l| l.text == "restriction `reject' after `check_relay_domains' is ignored")
    );
    assert!(reply_text(&out).ends_with("Recipient address rejected: Relay access denied"));
}

#[test]
fn dns_failures_defer_and_never_bounce() {
    let lists = [("smtpd_sender_restrictions", "reject_unknown_sender_domain")];
    let e = engine(&lists);
    let mut state = outsider();
    let out = e.check_mail(&mut state, "a@nowhere.test");
    assert_eq!(
        reply_text(&out),
        "450 4.1.8 <a@nowhere.test>: Sender address rejected: Domain not found"
    );
    // A temporary failure turns the eventual permit into a 450.
    let e = engine_with(NoDns { temporary: true }, &lists);
    let mut state = outsider();
    assert_eq!(
        reply_text(&e.check_mail(&mut state, "a@nowhere.test")),
        "accept"
    );
    let out = e.check_rcpt(&mut state, "u@example.com");
    assert_eq!(
        reply_text(&out),
        "450 4.1.8 <a@nowhere.test>: Sender address rejected: Domain not found"
    );
}

#[test]
fn defer_if_reject_softens_a_later_reject() {
    let e = engine(&[("smtpd_recipient_restrictions", "defer_if_reject, reject")]);
    let mut state = outsider();
    let out = e.check_rcpt(&mut state, "u@example.com");
    assert_eq!(
        reply_text(&out),
        "450 4.7.1 <u@example.com>: Recipient address rejected: defer_if_reject requested"
    );
}

#[test]
fn unknown_restrictions_are_configuration_errors() {
    let e = engine(&[("smtpd_recipient_restrictions", "no_such_restriction")]);
    let mut state = outsider();
    let out = e.check_rcpt(&mut state, "u@example.com");
    assert_eq!(
        out.log[0].to_string(),
        "warning: unknown smtpd restriction: \"no_such_restriction\""
    );
    assert_eq!(
        reply_text(&out),
        "451 4.3.5 <u@example.com>: Recipient address rejected: Server configuration error"
    );
}

#[test]
fn unlisted_local_recipients_are_rejected() {
    let e = engine(&[("local_recipient_maps", "inline:{known=1}")]);
    let mut state = outsider();
    assert_eq!(
        reply_text(&e.check_rcpt(&mut state, "known@example.com")),
        "accept"
    );
    assert_eq!(
        reply_text(&e.check_rcpt(&mut state, "nobody@example.com")),
        "550 5.1.1 <nobody@example.com>: Recipient address rejected: \
         User unknown in local recipient table"
    );
}

#[test]
fn access_actions_are_recorded() {
    let e = engine(&[(
        "smtpd_recipient_restrictions",
        "check_recipient_access inline:{{a@example.com=HOLD}, \
         {b@example.com=FILTER smtp:[127.0.0.1]:10025}, {c@example.com=DISCARD}}",
    )]);
    let mut state = outsider();
    e.check_mail(&mut state, "s@outside.test");
    e.check_rcpt(&mut state, "a@example.com");
    e.check_rcpt(&mut state, "b@example.com");
    assert!(state.actions.hold);
    assert_eq!(
        state.actions.filter.as_deref(),
        Some("smtp:[127.0.0.1]:10025")
    );
    let out = e.check_rcpt(&mut state, "c@example.com");
    assert_eq!(reply_text(&out), "accept");
    assert!(state.actions.discard);
    assert!(out.log[0].text.contains("discard: RCPT from"));
}

/// Answers MX and address lookups for one domain.
struct FixtureDns;

impl Dns for FixtureDns {
    fn reverse_names(&self, _addr: std::net::IpAddr) -> Lookup<Vec<String>> {
        Lookup::NotFound
    }
    fn a_records(&self, query: &str) -> Lookup<Vec<std::net::Ipv4Addr>> {
        match query {
            "9.2.0.192.bl.test" => Lookup::Found(vec![std::net::Ipv4Addr::new(127, 0, 0, 2)]),
            _ => Lookup::NotFound,
        }
    }
    fn txt_records(&self, _query: &str) -> Lookup<Vec<String>> {
        Lookup::Found(vec!["listed".to_string()])
    }
    fn mx_hosts(&self, domain: &str) -> Lookup<Vec<String>> {
        match domain {
            "spam.test" => Lookup::Found(vec!["mx.bad.test".to_string()]),
            _ => Lookup::NotFound,
        }
    }
    fn ns_hosts(&self, _domain: &str) -> Lookup<Vec<String>> {
        Lookup::NotFound
    }
    fn addresses(&self, host: &str) -> Lookup<Vec<std::net::IpAddr>> {
        match host {
            "mx.bad.test" => Lookup::Found(vec!["10.10.10.10".parse().expect("address")]),
            _ => Lookup::NotFound,
        }
    }
}

fn fixture_engine(settings: &[(&str, &str)]) -> Engine {
    let dir = std::env::temp_dir();
    let overrides: Vec<(String, String)> = settings
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let config = conf::Config::with_main(&dir, Default::default(), &overrides);
    Engine::from_config(&config, Box::new(FixtureDns)).expect("engine")
}

#[test]
fn mx_access_looks_at_the_mail_servers() {
    let e = fixture_engine(&[
        ("smtpd_delay_reject", "no"),
        (
            "smtpd_sender_restrictions",
            "check_sender_mx_access inline:{{10.10.10=REJECT bad mx}}",
        ),
    ]);
    let mut state = outsider();
    let out = e.check_mail(&mut state, "a@spam.test");
    assert_eq!(
        reply_text(&out),
        "554 5.7.1 <a@spam.test>: Sender address rejected: bad mx"
    );
    assert_eq!(
        reply_text(&e.check_mail(&mut state, "a@ham.test")),
        "accept"
    );
}

#[test]
fn rbl_listing_rejects_the_client() {
    let e = fixture_engine(&[
        ("smtpd_delay_reject", "no"),
        (
            "smtpd_client_restrictions",
            "reject_rbl_client bl.test=127.0.0.[2..3]",
        ),
    ]);
    let mut state = outsider();
    let out = e.check_client(&mut state);
    assert_eq!(
        reply_text(&out),
        "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using bl.test; listed"
    );
}

#[test]
fn message_actions_need_a_transaction() {
    let e = engine(&[("smtpd_client_restrictions", "inline:{192.0.2.9=HOLD}")]);
    let mut state = outsider();
    let out = e.check_client(&mut state);
    assert_eq!(reply_text(&out), "accept");
    assert!(out.log[0].text.contains("action HOLD is always skipped"));
    assert!(!state.actions.hold);
}

#[test]
fn rbl_reply_templates_expand_per_zone() {
    let dir = tempfile::tempdir().expect("scratch");
    let path = dir.path().join("rbl_reply");
    std::fs::write(
        &path,
        "bl.test $rbl_code 5.7.9 go away [$client_address] $rbl_class\n",
    )
    .expect("write template");
    let maps = format!("texthash:{}", path.display());
    let e = fixture_engine(&[
        ("smtpd_delay_reject", "no"),
        ("rbl_reply_maps", &maps),
        ("smtpd_client_restrictions", "reject_rbl_client bl.test"),
    ]);
    let mut state = outsider();
    let out = e.check_client(&mut state);
    assert_eq!(
        reply_text(&out),
        "554 5.7.9 go away [192.0.2.9] Client host"
    );
}

#[test]
fn relay_control_is_required_somewhere() {
    assert!(!engine(&[]).has_relay_control());
    let e = engine(&[(
        "smtpd_relay_restrictions",
        "permit_mynetworks reject_unauth_destination",
    )]);
    assert!(e.has_relay_control());
    let e = engine(&[
        ("smtpd_restriction_classes", "relay"),
        ("relay", "permit_mynetworks, reject_unauth_destination"),
        ("smtpd_recipient_restrictions", "relay"),
    ]);
    assert!(e.has_relay_control());
}

#[test]
fn session_facts_pipelining_sleep_and_sasl() {
    let e = engine(&[
        ("smtpd_data_restrictions", "reject_unauth_pipelining"),
        (
            "smtpd_sender_restrictions",
            "sleep 2, check_sasl_access inline:{{joe=REJECT no mail for you}}",
        ),
    ]);
    let mut state = outsider();
    state.pipelined = true;
    assert_eq!(
        reply_text(&e.check_data(&mut state)),
        "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining"
    );
    state.pipelined = false;
    assert_eq!(reply_text(&e.check_data(&mut state)), "accept");
    assert_eq!(reply_text(&e.check_mail(&mut state, "a@b.test")), "accept");
    assert_eq!(state.sleep, 2);
    state.sasl_username = Some("joe".to_string());
    assert_eq!(
        reply_text(&e.check_mail(&mut state, "a@b.test")),
        "554 5.7.1 <a@b.test>: Sender address rejected: no mail for you"
    );
}

/// MX lists with preferences: this host (127.0.0.1) backs up
/// `backup.test` and is the primary of `primary.test`; `nullmx.test`
/// has a null MX.
struct MxDns;

impl Dns for MxDns {
    fn reverse_names(&self, _addr: std::net::IpAddr) -> Lookup<Vec<String>> {
        Lookup::NotFound
    }
    fn a_records(&self, _query: &str) -> Lookup<Vec<std::net::Ipv4Addr>> {
        Lookup::NotFound
    }
    fn txt_records(&self, _query: &str) -> Lookup<Vec<String>> {
        Lookup::NotFound
    }
    fn mx_hosts(&self, domain: &str) -> Lookup<Vec<String>> {
        match self.mx_records(domain) {
            Lookup::Found(r) => Lookup::Found(r.into_iter().map(|(_, h)| h).collect()),
            _ => Lookup::NotFound,
        }
    }
    fn mx_records(&self, domain: &str) -> Lookup<Vec<(u16, String)>> {
        let list: &[(u16, &str)] = match domain {
            "backup.test" => &[(10, "mx.backup.test"), (20, "me.test")],
            "primary.test" => &[(10, "me.test"), (20, "mx.backup.test")],
            "nullmx.test" => &[(0, "")],
            _ => return Lookup::NotFound,
        };
        Lookup::Found(list.iter().map(|(p, h)| (*p, h.to_string())).collect())
    }
    fn ns_hosts(&self, _domain: &str) -> Lookup<Vec<String>> {
        Lookup::NotFound
    }
    fn addresses(&self, host: &str) -> Lookup<Vec<std::net::IpAddr>> {
        match host {
            "me.test" => Lookup::Found(vec!["127.0.0.1".parse().expect("address")]),
            "mx.backup.test" => Lookup::Found(vec!["192.0.2.1".parse().expect("address")]),
            _ => Lookup::NotFound,
        }
    }
}

fn mx_engine(settings: &[(&str, &str)]) -> Engine {
    let mut overrides = vec![
        ("smtpd_delay_reject".to_string(), "no".to_string()),
        ("inet_interfaces".to_string(), "127.0.0.1".to_string()),
        ("mydestination".to_string(), String::new()),
    ];
    overrides.extend(settings.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    let config = conf::Config::with_main(&std::env::temp_dir(), Default::default(), &overrides);
    Engine::from_config(&config, Box::new(MxDns)).expect("engine")
}

#[test]
fn permit_mx_backup_needs_a_backup_not_primary_listing() {
    let list = ("smtpd_recipient_restrictions", "permit_mx_backup, reject");
    let e = mx_engine(&[list]);
    let mut state = outsider();
    assert_eq!(
        reply_text(&e.check_rcpt(&mut state, "a@backup.test")),
        "accept"
    );
    let primary = e.check_rcpt(&mut state, "a@primary.test");
    assert!(reply_text(&primary).ends_with("Recipient address rejected: Access denied"));
    let e = mx_engine(&[list, ("permit_mx_backup_networks", "192.0.2.0/24")]);
    assert_eq!(
        reply_text(&e.check_rcpt(&mut state, "a@backup.test")),
        "accept"
    );
    let e = mx_engine(&[list, ("permit_mx_backup_networks", "198.51.100.0/24")]);
    let out = e.check_rcpt(&mut state, "a@backup.test");
    assert!(reply_text(&out).ends_with("Access denied"));
}

#[test]
fn null_mx_domains_are_refused_with_rfc_7505_codes() {
    let e = mx_engine(&[
        ("smtpd_sender_restrictions", "reject_unknown_sender_domain"),
        (
            "smtpd_recipient_restrictions",
            "reject_unknown_recipient_domain",
        ),
    ]);
    let mut state = outsider();
    assert_eq!(
        reply_text(&e.check_mail(&mut state, "a@nullmx.test")),
        "550 5.7.27 <a@nullmx.test>: Sender address rejected: \
         Domain nullmx.test does not accept mail (nullMX)"
    );
    assert_eq!(
        reply_text(&e.check_rcpt(&mut state, "a@nullmx.test")),
        "556 5.1.10 <a@nullmx.test>: Recipient address rejected: \
         Domain nullmx.test does not accept mail (nullMX)"
    );
}

#[test]
fn helo_access_in_the_recipient_list_names_the_helo() {
    let e = engine(&[(
        "smtpd_recipient_restrictions",
        "check_helo_access inline:{{mail.outside.test=REJECT bad helo}}",
    )]);
    let mut state = outsider();
    assert_eq!(
        reply_text(&e.check_rcpt(&mut state, "a@example.com")),
        "554 5.7.1 <mail.outside.test>: Helo command rejected: bad helo"
    );
}
