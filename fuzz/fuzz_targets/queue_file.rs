//! The queue-file reader on arbitrary bytes: a damaged or hostile file
//! must give an error, never a panic or a hang, and whatever it accepts
//! must read back through the content iterator without error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = queue::QueueFile::parse(data.to_vec()) {
        for record in file.content() {
            record.expect("content of an accepted file reads back");
        }
    }
});
