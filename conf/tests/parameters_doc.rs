//! `docs/parameters.md` is generated from the parameter registry; this
//! test fails when the file is stale. `UPDATE_FIXTURES=1 cargo test -p
//! conf --test parameters_doc` rewrites it.

use std::fmt::Write;
use std::path::Path;

use conf::param::{self, Computed, Default, Kind};

/// Text safe inside an HTML `<code>` element in a Markdown table cell.
fn code(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "&#124;");
    format!("<code>{escaped}</code>")
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn kind(kind: Kind) -> String {
    match kind {
        Kind::Bool => "boolean".to_string(),
        Kind::Int => "integer".to_string(),
        Kind::Time(unit) => format!("time ({unit})"),
        Kind::Str => "string".to_string(),
    }
}

fn default(p: &param::Param) -> String {
    match p.default {
        Default::Text("") => "(empty)".to_string(),
        Default::Text(text) => code(text),
        Default::Computed(Computed::MyHostname) => {
            "computed: the system host name, with `.$mydomain` (or `.localdomain`) appended when it has no dot".to_string()
        }
        Default::Computed(Computed::MyDomain) => {
            "computed: `$myhostname` without its first label".to_string()
        }
        Default::Computed(Computed::MyNetworks) => {
            "computed: the networks of `$inet_interfaces`, per `$mynetworks_style`".to_string()
        }
        Default::Computed(Computed::ProcessId) => "computed: the process ID".to_string(),
        Default::Computed(Computed::ProcessName) => "computed: the program name".to_string(),
    }
}

fn generate() -> String {
    let mut out = String::new();
    out.push_str("# Configuration parameters\n\n");
    out.push_str(
        "Every `main.cf` parameter the suite knows, with its type and its default\n\
         (as `postconf -d` prints it). Time values take a unit suffix (s, m, h, d,\n\
         w); the unit in the type column is used when a value has none. Raw\n\
         parameters keep `$name` for later, per-message expansion.\n\n\
         Generated from the registry in `conf/src/param/table.rs` by\n\
         `UPDATE_FIXTURES=1 cargo test -p conf --test parameters_doc`; do not\n\
         edit by hand.\n\n",
    );
    out.push_str("| parameter | type | default | description |\n|---|---|---|---|\n");
    for p in param::all() {
        let mut flags = String::new();
        if p.raw {
            flags.push_str(" (raw)");
        }
        if p.read_only {
            flags.push_str(" (read-only)");
        }
        writeln!(
            out,
            "| `{}` | {}{flags} | {} | {} |",
            p.name,
            kind(p.kind),
            default(p),
            cell(p.doc)
        )
        .expect("write to String");
    }
    out
}

#[test]
fn parameters_md_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/parameters.md");
    let wanted = generate();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &wanted).expect("write docs/parameters.md");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == wanted,
        "docs/parameters.md is stale: run UPDATE_FIXTURES=1 cargo test -p conf --test parameters_doc"
    );
}
