//! Results that name files (`postmap -F`, Postfix `src_rhs_is_file`): the
//! files' contents, base64-encoded, become the value. Used for TLS keys
//! and certificates in lookup tables (Postfix `dict_file_to_b64`).

/// Read the files named in `pathnames` (separated by commas or white
/// space), join their contents with a newline between files, and encode
/// the result. The error is Postfix's text.
pub(crate) fn to_base64(pathnames: &str) -> Result<String, String> {
    let names: Vec<&str> = pathnames
        .split([',', ' ', '\t', '\r', '\n'])
        .filter(|name| !name.is_empty())
        .collect();
    if names.is_empty() {
        // Postfix's message has this stray quote too.
        return Err(format!("empty pathname list: >>{pathnames}<<'"));
    }
    let mut content = Vec::new();
    for (index, name) in names.iter().enumerate() {
        match std::fs::read(name) {
            Ok(bytes) => content.extend_from_slice(&bytes),
            Err(err) if err.kind() == std::io::ErrorKind::IsADirectory => {
                return Err(format!("read {name}: {}", super::source::strerror(&err)));
            }
            Err(err) => return Err(format!("open {name}: {}", super::source::strerror(&err))),
        }
        if index + 1 < names.len() {
            content.push(b'\n');
        }
    }
    Ok(encode(&content))
}

/// Standard base64 with padding (RFC 4648 §4), as Postfix's
/// `base64_encode` writes it.
pub(crate) fn encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(encode(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn files_are_joined_with_a_newline() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one");
        let two = dir.path().join("two");
        std::fs::write(&one, "this-is-file1\n").unwrap();
        std::fs::write(&two, "this-is-file2\n").unwrap();
        let list = format!("{}, {}", one.display(), two.display());
        assert_eq!(
            to_base64(&list).unwrap(),
            "dGhpcy1pcy1maWxlMQoKdGhpcy1pcy1maWxlMgo="
        );
    }

    #[test]
    fn errors_use_postfix_words() {
        assert_eq!(
            to_base64(" , ").unwrap_err(),
            "empty pathname list: >> , <<'"
        );
        assert_eq!(
            to_base64("/nonexistent/x").unwrap_err(),
            "open /nonexistent/x: No such file or directory"
        );
    }
}
