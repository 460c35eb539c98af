//! The harness's `Instance` and its templates, which real Postfix and our
//! `postconf` must both read without a warning, and alike.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use e2e::instance::KEEP_ENV;
use e2e::{Instance, our_binary, require_peer, run_clean};

#[test]
fn instance_has_the_layout_and_filled_in_files() {
    let inst = Instance::builder()
        .param("mydestination", "localhost")
        .param("home_mailbox", "Maildir/")
        .file("etc/access", "{root} OK\n${user} stays\n")
        .build();
    for dir in ["etc", "spool", "mail", "data", "log"] {
        assert!(inst.path(dir).is_dir(), "{dir}/ missing");
    }
    let root = inst.root().display().to_string();
    let main_cf = fs::read_to_string(inst.config_dir().join("main.cf")).unwrap();
    assert!(main_cf.contains(&format!("\nqueue_directory = {root}/spool\n")));
    assert_eq!(main_cf.matches("\nmydestination = ").count(), 1);
    assert!(main_cf.contains("\nmydestination = localhost\n"));
    assert!(main_cf.ends_with("home_mailbox = Maildir/\n"));
    assert!(!main_cf.contains("{spool}") && !main_cf.contains("{user}"));
    let master_cf = fs::read_to_string(inst.config_dir().join("master.cf")).unwrap();
    let smtpd = format!("\n127.0.0.1:{} inet ", inst.port());
    assert!(master_cf.contains(&smtpd), "{master_cf}");
    let access = fs::read_to_string(inst.config_dir().join("access")).unwrap();
    assert_eq!(access, format!("{root} OK\n${{user}} stays\n"));
}

#[test]
fn set_param_rewrites_main_cf_of_a_built_instance() {
    let inst = Instance::new();
    inst.set_param("mynetworks", "127.0.0.1/32 {root}/extra");
    let main_cf = fs::read_to_string(inst.config_dir().join("main.cf")).unwrap();
    let expected = format!(
        "\nmynetworks = 127.0.0.1/32 {}/extra\n",
        inst.root().display()
    );
    assert!(main_cf.contains(&expected), "{main_cf}");
    assert_eq!(main_cf.matches("\nmynetworks = ").count(), 1);
}

#[test]
fn a_passing_test_removes_the_instance() {
    if std::env::var_os(KEEP_ENV).is_some() {
        eprintln!("skipped: {KEEP_ENV} is set");
        return;
    }
    let inst = Instance::new();
    let root = inst.root().to_path_buf();
    assert!(root.is_dir());
    drop(inst);
    assert!(!root.exists(), "{} was not removed", root.display());
}

#[test]
fn a_failing_test_keeps_the_instance() {
    let root = Mutex::new(None);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let inst = Instance::new();
        *root.lock().unwrap() = Some(inst.root().to_path_buf());
        panic!("the test failed");
    }));
    assert!(result.is_err());
    let root = root
        .lock()
        .unwrap()
        .take()
        .expect("recorded before the panic");
    let kept = root.join("etc/main.cf").is_file();
    fs::remove_dir_all(&root).unwrap();
    assert!(kept, "{} was not kept", root.display());
}

#[test]
fn our_postconf_reads_the_instance_config_through_mail_config() {
    let inst = Instance::new();
    let main = run_clean(inst.command("postconf").arg("-n"));
    let spool = format!("\nqueue_directory = {}/spool\n", inst.root().display());
    assert!(main.contains(&spool), "{main}");
}

/// `postconf -c dir args`, which must not complain.
fn postconf(program: &Path, dir: &Path, args: &[&str]) -> String {
    run_clean(Command::new(program).arg("-c").arg(dir).args(args))
}

#[test]
fn real_postfix_accepts_the_instance_templates() {
    let real = require_peer!("postconf");
    let inst = Instance::new();
    let main = postconf(&real, &inst.config_dir(), &["-n"]);
    let spool = format!("queue_directory = {}/spool\n", inst.root().display());
    assert!(main.contains(&spool), "{main}");
    let services = postconf(&real, &inst.config_dir(), &["-M"]);
    let smtpd = format!("127.0.0.1:{} inet ", inst.port());
    assert!(
        services.lines().any(|l| l.starts_with(&smtpd)),
        "{services}"
    );
}

#[test]
fn our_postconf_agrees_with_postfix_on_the_instance_templates() {
    let real = require_peer!("postconf");
    let ours = our_binary("postconf");
    let inst = Instance::new();
    for args in [&["-n"][..], &["-M"], &["-nx"]] {
        assert_eq!(
            postconf(&ours, &inst.config_dir(), args),
            postconf(&real, &inst.config_dir(), args),
            "postconf {args:?}"
        );
    }
}
