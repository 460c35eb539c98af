//! The RFC 822 address parser on arbitrary text (header values come from
//! the network): parsing, both external forms and header rewriting must
//! never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let tree = address::tok822::Tree::parse_limited(text, Some(100));
    let _ = tree.to_internal();
    let _ = tree.externalize(address::tok822::Style::HEADER);
    let _ = address::tok822::rewrite_header("To", text, Some(100), |a| {
        Ok::<_, ()>(Some(format!("{a}.x")))
    });
});
