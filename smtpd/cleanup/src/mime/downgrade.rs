//! 8-bit to quoted-printable conversion of body lines (RFC 2045 §6.7), as
//! Postfix `mime_state` does it when a 7-bit-only peer gets 8-bit
//! content: soft line breaks keep encoded lines at most 76 characters,
//! and trailing white space before a hard line break is encoded.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Past this many encoded bytes a soft line break (`=`) is inserted
/// before the next character, so a line never exceeds 76 characters.
const SOFT_BREAK_AFTER: usize = 72;

/// The encoder's pending output line.
#[derive(Debug, Default)]
pub(crate) struct QuotedPrintable {
    line: Vec<u8>,
}

impl QuotedPrintable {
    fn push_escaped(&mut self, c: u8) {
        self.line
            .extend_from_slice(&[b'=', HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]]);
    }

    /// Encode one body record. Finished output lines go to `emit`; the
    /// rest of a record that continues (`complete` false) waits for the
    /// next one.
    pub(crate) fn encode(&mut self, text: &[u8], complete: bool, emit: &mut dyn FnMut(&[u8])) {
        for &c in text {
            if self.line.len() > SOFT_BREAK_AFTER {
                self.line.push(b'=');
                emit(&self.line);
                self.line.clear();
            }
            if (c < 32 && c != b'\t') || c == b'=' || c > 126 {
                self.push_escaped(c);
            } else {
                self.line.push(c);
            }
        }
        if complete {
            if let Some(&last @ (b' ' | b'\t')) = self.line.last() {
                self.line.pop();
                self.push_escaped(last);
            }
            emit(&self.line);
            self.line.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(records: &[(&[u8], bool)]) -> Vec<String> {
        let mut qp = QuotedPrintable::default();
        let mut out = Vec::new();
        for (text, complete) in records {
            qp.encode(text, *complete, &mut |line| {
                out.push(String::from_utf8(line.to_vec()).unwrap())
            });
        }
        out
    }

    #[test]
    fn eight_bit_and_equals_are_escaped() {
        assert_eq!(encode(&[(b"caf\xe9 = ok", true)]), ["caf=E9 =3D ok"]);
        assert_eq!(encode(&[(b"x\x01\ty", true)]), ["x=01\ty"]);
        assert_eq!(encode(&[(b"", true)]), [""]);
    }

    #[test]
    fn trailing_white_space_is_escaped() {
        assert_eq!(encode(&[(b"a ", true)]), ["a=20"]);
        assert_eq!(encode(&[(b"a\t", true)]), ["a=09"]);
    }

    #[test]
    fn long_lines_get_soft_breaks_across_records() {
        let line = [b'x'; 80];
        let out = encode(&[(&line[..40], false), (&line[40..], true)]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), 74);
        assert!(out[0].ends_with('='));
        assert_eq!(out[1], "x".repeat(7));
    }
}
