//! Base64 as Postfix's `base64_code.c` writes and reads it, for
//! `postmap -F` values (file contents stored base64-encoded, e.g. TLS
//! certificates in `tls_server_sni_maps`). Twenty lines do not justify a
//! dependency.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Append the base64 encoding of `data` (with `=` padding) to `out`.
pub fn encode_into(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| ALPHABET[((n >> shift) & 63) as usize];
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { b'=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { b'=' });
    }
}

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Decode base64 the way Postfix's `base64_decode` does: the length must
/// be a multiple of four, `=` may only pad the last quantum. `None` means
/// malformed (Postfix: `malformed BASE64 value: %.30s`).
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let quanta = text.len() / 4;
    for (i, q) in text.chunks_exact(4).enumerate() {
        let last = i + 1 == quanta;
        let a = value_of(q[0])?;
        let b = value_of(q[1])?;
        out.push(((a << 2) | (b >> 4)) as u8);
        if q[2] == b'=' {
            if !last || q[3] != b'=' {
                return None;
            }
            break;
        }
        let c = value_of(q[2])?;
        out.push((((b & 15) << 4) | (c >> 2)) as u8);
        if q[3] == b'=' {
            if !last {
                return None;
            }
            break;
        }
        let d = value_of(q[3])?;
        out.push((((c & 3) << 6) | d) as u8);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(data: &[u8]) -> String {
        let mut out = Vec::new();
        encode_into(data, &mut out);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn encodes_like_postfix_fixtures() {
        // postmap/file_test.ref: file contents without a trailing newline.
        assert_eq!(enc(b"this-is-file1"), "dGhpcy1pcy1maWxlMQ==");
        assert_eq!(enc(b"one\ntwo\n"), "b25lCnR3bwo=");
        assert_eq!(enc(b""), "");
        assert_eq!(enc(b"abc"), "YWJj");
    }

    #[test]
    fn decodes_round_trip_and_rejects_garbage() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"\xff\x00\x10binary"] {
            assert_eq!(decode(enc(data).as_bytes()).as_deref(), Some(data));
        }
        assert_eq!(decode(b"postmap-entry-4"), None);
        assert_eq!(decode(b"ab=c"), None);
        assert_eq!(decode(b"YQ==YWJj"), None);
        assert_eq!(decode(b"YW*j"), None);
    }
}
