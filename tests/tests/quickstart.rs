//! The quick-start example (`examples/quickstart/`, set up by
//! `scripts/start`) is a configuration real Postfix accepts without a
//! warning, with the services the suite runs, and our `postconf` reads it
//! as Postfix does.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::{our_binary, require_peer, run_clean, workspace_root};

fn example() -> PathBuf {
    workspace_root().join("examples/quickstart")
}

/// `postconf -c dir args`, which must not complain.
fn postconf(program: &Path, dir: &Path, args: &[&str]) -> String {
    run_clean(Command::new(program).arg("-c").arg(dir).args(args))
}

#[test]
fn real_postfix_accepts_the_quickstart_example() {
    let real = require_peer!("postconf");
    let main = postconf(&real, &example(), &["-nx"]);
    let spool = "\nqueue_directory = /path/to/checkout/run/spool\n";
    assert!(main.contains(spool), "{main}");
    let services = postconf(&real, &example(), &["-M"]);
    assert!(
        services
            .lines()
            .any(|l| l.starts_with("127.0.0.1:2525 inet ")),
        "{services}"
    );
    for service in ["pickup", "cleanup", "qmgr", "local", "smtp"] {
        assert!(
            services
                .lines()
                .any(|l| l.starts_with(&format!("{service} "))),
            "no {service} in {services}"
        );
    }
}

#[test]
fn our_postconf_agrees_with_postfix_on_the_quickstart_example() {
    let real = require_peer!("postconf");
    let ours = our_binary("postconf");
    for args in [&["-n"][..], &["-nx"], &["-M"], &["-F"], &["-P"]] {
        assert_eq!(
            postconf(&ours, &example(), args),
            postconf(&real, &example(), args),
            "postconf {args:?}"
        );
    }
}
