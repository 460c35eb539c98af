//! postconf's command-line contract beyond Postfix's own fixtures: the
//! config directory comes from `-c`, else `$MAIL_CONFIG`; unknown names
//! are warnings with exit status 0.

use std::fs;
use std::process::{Command, Output};

fn postconf(args: &[&str], mail_config: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postconf"));
    cmd.args(args).env_remove("MAIL_CONFIG");
    if let Some(dir) = mail_config {
        cmd.env("MAIL_CONFIG", dir);
    }
    cmd.output().expect("run postconf")
}

fn config_dir(main_cf: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("main.cf"), main_cf).expect("main.cf");
    fs::write(dir.path().join("master.cf"), "").expect("master.cf");
    dir
}

#[test]
fn grep_database_type_finds_the_default() {
    let dir = config_dir("");
    let out = postconf(&[], Some(dir.path()));
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("database_type"))
        .collect();
    assert_eq!(lines, ["default_database_type = hash"]);
}

#[test]
fn mail_config_selects_and_dash_c_overrides() {
    let env_dir = config_dir("relayhost = from-env\n");
    let arg_dir = config_dir("relayhost = from-arg\n");
    let out = postconf(&["-h", "relayhost"], Some(env_dir.path()));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from-env\n");
    let c = arg_dir.path().to_str().expect("utf-8 path");
    let out = postconf(&["-c", c, "-h", "relayhost"], Some(env_dir.path()));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from-arg\n");
}

#[test]
fn unknown_parameter_is_a_warning_not_an_error() {
    let dir = config_dir("");
    let c = dir.path().to_str().expect("utf-8 path");
    let out = postconf(&["-c", c, "no_such_parameter", "mail_name"], None);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "mail_name = Postfix\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "postconf: warning: no_such_parameter: unknown parameter\n"
    );
}

#[test]
fn missing_config_directory_is_fatal() {
    let out = postconf(&["-c", "/nonexistent/postfix"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "postconf: fatal: open /nonexistent/postfix/main.cf: No such file or directory\n"
    );
}
