//! Fuzz main.cf reading, `$name` expansion and `postconf -e` editing:
//! whatever the bytes, parsing returns a value or an error, expansion
//! terminates, and nothing panics.
#![no_main]

use std::path::Path;

use conf::Config;
use conf::main_cf::{self, EditMode, MainCf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = main_cf::edit_text("./main.cf", &text, EditMode::Set, &["a=b".to_string()]);
    let _ = main_cf::edit_text("./main.cf", &text, EditMode::CommentOut, &["a".to_string()]);
    let Ok(main) = MainCf::parse("./main.cf".to_string(), &text) else {
        return;
    };
    let names: Vec<String> = main.entries().iter().map(|e| e.name.clone()).collect();
    let cfg = Config::with_main(Path::new("."), main, &[]);
    for name in names {
        let _ = cfg.get(&name);
        let _ = conf::list::split(&cfg.expand(&format!("${name}")));
    }
});
