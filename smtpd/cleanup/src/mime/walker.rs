//! The walker's state machine: header blocks (primary, after a multipart
//! boundary, at the start of an attached message) and body text, with a
//! stack of multipart boundaries. Kept deliberately simple, as Postfix's
//! is: it recovers from missing boundaries by matching any boundary on
//! the stack, and treats what does not look like a header as body.

use super::content::{ContentType, Encoding, MediaType, SubType, parse_encoding};
use super::downgrade::QuotedPrintable;
use super::header;
use super::{Defect, Defects, Event, HeaderClass, HeaderKind, Limits, Options};

/// Where in the content the walker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Headers(HeaderClass),
    Body,
}

/// A multipart boundary on the stack, with the default type of its parts.
#[derive(Debug)]
struct Boundary {
    text: Vec<u8>,
    part_media: MediaType,
    part_subtype: SubType,
}

/// The last or default content description of the current entity.
#[derive(Debug, Clone, Copy)]
struct Content {
    media: MediaType,
    subtype: SubType,
    encoding: Encoding,
}

impl Content {
    fn new(media: MediaType, subtype: SubType) -> Content {
        Content {
            media,
            subtype,
            encoding: Encoding::SevenBit,
        }
    }

    fn is_8bit(&self) -> bool {
        self.encoding.domain() != Encoding::SevenBit
    }
}

type Sink<'s> = dyn FnMut(Event<'_>) + 's;

/// Report `defect` once: the first time, with `text` as evidence.
fn report(defects: &mut Defects, defect: Defect, text: &[u8], sink: &mut Sink<'_>) {
    if !defects.contains(defect) {
        defects.insert(defect);
        sink(Event::Defect { defect, text });
    }
}

/// Append bytes up to the first NUL: headers are C strings in Postfix.
fn extend_text(buf: &mut Vec<u8>, text: &[u8]) {
    let end = memchr::memchr(0, text).unwrap_or(text.len());
    buf.extend_from_slice(&text[..end]);
}

/// What follows the colon of a header, as the tokenizer should see it.
fn after_colon(header: &[u8]) -> &[u8] {
    match memchr::memchr(b':', header) {
        Some(colon) => &header[colon + 1..],
        None => &[],
    }
}

/// Offset advance for a record of `len` bytes plus its line break.
fn advance(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX).saturating_add(1)
}

/// A MIME walker for one message. Feed records with [`Walker::update`],
/// then call [`Walker::finish`].
#[derive(Debug)]
pub struct Walker {
    options: Options,
    limits: Limits,
    state: State,
    content: Content,
    /// The logical header being collected.
    header: Vec<u8>,
    downgrade: QuotedPrintable,
    /// The previous record was an incomplete line.
    prev_continues: bool,
    stack: Vec<Boundary>,
    defects: Defects,
    head_offset: u64,
    body_offset: u64,
    finished: bool,
}

impl Walker {
    /// A walker at the start of a message: primary headers, text/plain,
    /// 7bit.
    pub fn new(options: Options, limits: Limits) -> Walker {
        Walker {
            options,
            limits,
            state: State::Headers(HeaderClass::Primary),
            content: Content::new(MediaType::Text, SubType::Plain),
            header: Vec::new(),
            downgrade: QuotedPrintable::default(),
            prev_continues: false,
            stack: Vec::new(),
            defects: Defects::default(),
            head_offset: 0,
            body_offset: 0,
            finished: false,
        }
    }

    /// The defects found so far (only the kinds the options report).
    pub fn defects(&self) -> Defects {
        self.defects
    }

    /// Process one record: a line without its terminator (`complete`), or
    /// a piece of a longer line that continues in the next record.
    /// Ignored after [`Walker::finish`].
    pub fn update(&mut self, text: &[u8], complete: bool, sink: &mut Sink<'_>) {
        if self.finished {
            return;
        }
        if let State::Headers(class) = self.state
            && self.header_record(class, text, sink)
        {
            self.prev_continues = !complete;
            return;
        }
        self.body_record(text, complete, sink);
        self.prev_continues = !complete;
    }

    /// End of content: flush a pending header or line, end the header
    /// block if still in one, and report [`Event::BodyEnd`]. A line that
    /// did not end is ended. Returns the defects found. Later calls do
    /// nothing.
    pub fn finish(&mut self, sink: &mut Sink<'_>) -> Defects {
        if self.finished {
            return self.defects;
        }
        if self.prev_continues {
            self.update(b"", true, sink);
        }
        if let State::Headers(class) = self.state {
            if !self.header.is_empty() {
                self.flush_header(class, 0, sink);
            }
            self.end_headers(class, None, sink);
        }
        sink(Event::BodyEnd);
        self.finished = true;
        self.defects
    }

    /// A text record in a header block. True when it was taken as (part
    /// of) a header; false when it ended the block and is body text.
    fn header_record(&mut self, class: HeaderClass, text: &[u8], sink: &mut Sink<'_>) -> bool {
        if !self.header.is_empty() {
            if self.prev_continues {
                self.append_header(text, false, sink);
                return true;
            }
            if matches!(text.first(), Some(b' ' | b'\t')) {
                self.append_header(text, true, sink);
                return true;
            }
            self.flush_header(class, text.len(), sink);
        }
        if let Some(name_len) = header::name_len(text) {
            // Normalize the obsolete "name :" to "name:".
            self.header.extend_from_slice(&text[..name_len]);
            let rest = &text[name_len..];
            let colon = rest
                .iter()
                .position(|c| !matches!(c, b' ' | b'\t'))
                .unwrap_or(rest.len());
            extend_text(&mut self.header, &rest[colon..]);
            return true;
        }
        self.end_headers(class, Some(text), sink);
        false
    }

    /// Add a folded line (`newline`) or the rest of a long line to the
    /// header, unless it has reached the size limit.
    fn append_header(&mut self, text: &[u8], newline: bool, sink: &mut Sink<'_>) {
        if self.header.len() < self.limits.header_size {
            if newline {
                self.header.push(b'\n');
            }
            extend_text(&mut self.header, text);
        } else if self.options.report_truncated_header {
            report(
                &mut self.defects,
                Defect::TruncatedHeader,
                &self.header,
                sink,
            );
        }
    }

    /// Act on and report the collected header. `record_len` is the length
    /// of the record that ended it (Postfix advances the header offset by
    /// that, not by the header's length).
    fn flush_header(&mut self, class: HeaderClass, record_len: usize, sink: &mut Sink<'_>) {
        let info = header::find(&self.header);
        let kind = info.map(|i| i.kind);
        if !self.options.disable_mime {
            match kind {
                Some(HeaderKind::ContentType) => self.content_type(sink),
                Some(HeaderKind::ContentTransferEncoding) => {
                    if let Some(encoding) = parse_encoding(after_colon(&self.header)) {
                        self.content.encoding = encoding;
                    }
                }
                _ => {}
            }
        }
        if self.options.report_8bit_in_header && !self.header.is_ascii() {
            report(
                &mut self.defects,
                Defect::EightBitInHeader,
                &self.header,
                sink,
            );
        }
        // With downgrade, the encoding header of 8-bit content is replaced
        // at the end of the block, when the content type is known.
        let held = self.options.downgrade
            && kind == Some(HeaderKind::ContentTransferEncoding)
            && self.content.is_8bit();
        if !held {
            sink(Event::Header {
                class,
                info,
                text: &self.header,
                offset: self.head_offset,
            });
            self.head_offset += advance(record_len);
        }
        self.prev_continues = false;
        self.header.clear();
    }

    /// Take the media type and boundaries from the collected
    /// `Content-Type` header.
    fn content_type(&mut self, sink: &mut Sink<'_>) {
        let Some(parsed) = ContentType::parse(after_colon(&self.header)) else {
            return;
        };
        match parsed {
            ContentType::Text { plain } => {
                self.content.media = MediaType::Text;
                self.content.subtype = if plain {
                    SubType::Plain
                } else {
                    SubType::Other
                };
            }
            ContentType::Message(subtype) => {
                self.content.media = MediaType::Message;
                self.content.subtype = subtype;
            }
            ContentType::Other => self.content.media = MediaType::Other,
            ContentType::Multipart { digest, boundaries } => {
                self.content.media = MediaType::Multipart;
                let (part_media, part_subtype) = if digest {
                    (MediaType::Message, SubType::Rfc822)
                } else {
                    (MediaType::Text, SubType::Plain)
                };
                // Postfix's depth counter starts at -1 (mymalloc fills new
                // memory with 0xff and mime_state never sets it), so it
                // holds up to `nesting + 2` boundaries; we keep that limit.
                let max_depth = self.limits.nesting.saturating_add(1);
                for mut text in boundaries {
                    if self.stack.len() > max_depth {
                        if self.options.report_nesting {
                            report(&mut self.defects, Defect::Nesting, &self.header, sink);
                        }
                        continue;
                    }
                    text.truncate(self.limits.boundary_length);
                    self.stack.push(Boundary {
                        text,
                        part_media,
                        part_subtype,
                    });
                }
            }
        }
    }

    /// A header block ends, at `text` (a blank or non-header line) or at
    /// the end of input (`None`).
    fn end_headers(&mut self, class: HeaderClass, text: Option<&[u8]>, sink: &mut Sink<'_>) {
        if self.options.downgrade && self.content.is_8bit() {
            let encoding = match self.content.media {
                MediaType::Message | MediaType::Multipart => "7bit",
                _ => "quoted-printable",
            };
            let line = format!("Content-Transfer-Encoding: {encoding}");
            sink(Event::Header {
                class,
                info: None,
                text: line.as_bytes(),
                offset: self.head_offset,
            });
            self.head_offset += advance(text.map_or(0, <[u8]>::len));
        }
        if class == HeaderClass::Primary {
            sink(Event::HeaderEnd);
        }
        if self.options.report_encoding_domain {
            self.check_encoding_domain(sink);
        }
        match text {
            None => self.set_state(State::Body),
            Some([]) => {
                self.body_offset = 0;
                self.enter_part_body();
            }
            Some(_) => {
                // Garbage where a header should be. Only the primary block
                // gets a separating blank line; attachments are left alone
                // so as not to break signatures.
                if class == HeaderClass::Primary {
                    self.body_out(b"", true, sink);
                }
                self.set_state(State::Body);
            }
        }
    }

    /// Message and multipart entities need an identity encoding
    /// (RFC 2046 §5.1.1, §5.2.1); partial and external-body need 7bit.
    fn check_encoding_domain(&mut self, sink: &mut Sink<'_>) {
        let Content {
            media,
            subtype,
            encoding,
        } = self.content;
        let invalid = match media {
            MediaType::Message if matches!(subtype, SubType::Partial | SubType::ExternalBody) => {
                encoding.domain() != Encoding::SevenBit
            }
            MediaType::Message | MediaType::Multipart => encoding != encoding.domain(),
            _ => false,
        };
        if invalid {
            let name = encoding.name().as_bytes();
            report(&mut self.defects, Defect::EncodingDomain, name, sink);
        }
    }

    /// After the blank line that ends a header block: an attached message
    /// starts with its own headers; other content is body.
    fn enter_part_body(&mut self) {
        let Content { media, subtype, .. } = self.content;
        match media {
            MediaType::Message
                if subtype == SubType::Rfc822 || self.options.recurse_all_message =>
            {
                self.content = Content::new(MediaType::Text, SubType::Plain);
                self.set_state(State::Headers(HeaderClass::Nested));
            }
            MediaType::Multipart => {
                // The prolog before the first boundary.
                self.content = Content::new(MediaType::Other, SubType::Other);
                self.set_state(State::Body);
            }
            _ => self.set_state(State::Body),
        }
    }

    fn set_state(&mut self, state: State) {
        self.state = state;
        match state {
            State::Body => self.body_offset = 0,
            State::Headers(_) => self.head_offset = 0,
        }
    }

    /// A body record: check for 8-bit data and boundaries, then report it
    /// (quoted-printable encoded when downgrading 8-bit content).
    fn body_record(&mut self, text: &[u8], complete: bool, sink: &mut Sink<'_>) {
        if self.options.report_8bit_in_7bit_body
            && self.content.encoding == Encoding::SevenBit
            && !text.is_ascii()
        {
            report(&mut self.defects, Defect::EightBitInBody, text, sink);
        }
        // A boundary never starts inside a long line.
        if !self.stack.is_empty()
            && !self.prev_continues
            && text.len() > 2
            && text.starts_with(b"--")
        {
            self.match_boundary(text);
        }
        if self.options.downgrade && self.content.is_8bit() {
            let offset = &mut self.body_offset;
            self.downgrade.encode(text, complete, &mut |line| {
                sink(Event::Body {
                    text: line,
                    complete: true,
                    offset: *offset,
                });
                *offset += advance(line.len());
            });
        } else {
            self.body_out(text, complete, sink);
        }
    }

    /// `--boundary` starts a part, `--boundary--` ends the multipart. Any
    /// boundary on the stack matches (innermost first), which recovers
    /// from missing closing boundaries; trailing text is ignored, as the
    /// stored boundary may be truncated.
    fn match_boundary(&mut self, text: &[u8]) {
        let Some(rest) = text.get(2..) else {
            return;
        };
        let Some(index) = self.stack.iter().rposition(|b| rest.starts_with(&b.text)) else {
            return;
        };
        self.stack.truncate(index + 1);
        let Some(boundary) = self.stack.last() else {
            return;
        };
        if rest[boundary.text.len()..].starts_with(b"--") {
            self.stack.pop();
            self.content = Content::new(MediaType::Other, SubType::Other);
            self.set_state(State::Body);
        } else {
            self.content = Content::new(boundary.part_media, boundary.part_subtype);
            self.set_state(State::Headers(HeaderClass::Multipart));
        }
    }

    fn body_out(&mut self, text: &[u8], complete: bool, sink: &mut Sink<'_>) {
        sink(Event::Body {
            text,
            complete,
            offset: self.body_offset,
        });
        self.body_offset += advance(text.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walk `records` and describe each event on one line.
    fn walk(options: Options, limits: Limits, records: &[(&[u8], bool)]) -> Vec<String> {
        let mut walker = Walker::new(options, limits);
        let mut out = Vec::new();
        let mut describe = |event: Event<'_>| {
            let text = |t: &[u8]| String::from_utf8_lossy(t).into_owned();
            out.push(match event {
                Event::Header { class, text: t, .. } => format!("{} {}", class.label(), text(t)),
                Event::HeaderEnd => "END".to_string(),
                Event::Body {
                    text: t, complete, ..
                } => format!("{} {}", if complete { "N" } else { "L" }, text(t)),
                Event::BodyEnd => "BODY END".to_string(),
                Event::Defect { defect, text: t } => format!("! {defect:?} {}", text(t)),
            });
        };
        for (text, complete) in records {
            walker.update(text, *complete, &mut describe);
        }
        walker.finish(&mut describe);
        walker.update(b"late", true, &mut describe);
        assert_eq!(walker.finish(&mut describe), walker.defects());
        out
    }

    fn lines<'a>(text: &[&'a str]) -> Vec<(&'a [u8], bool)> {
        text.iter().map(|l| (l.as_bytes(), true)).collect()
    }

    #[test]
    fn long_and_folded_headers_are_joined() {
        let records: [(&[u8], bool); 4] = [
            (b"Subject: a long", false),
            (b" line", true),
            (b"\tfolded", true),
            (b"Subject : normalized", true),
        ];
        let out = walk(Options::default(), Limits::default(), &records);
        assert_eq!(
            out,
            [
                "MAIN Subject: a long line\n\tfolded",
                "MAIN Subject: normalized",
                "END",
                "BODY END"
            ]
        );
    }

    #[test]
    fn boundaries_are_not_found_inside_long_lines() {
        let records: [(&[u8], bool); 6] = [
            (b"Content-Type: multipart/mixed; boundary=b", true),
            (b"", true),
            (b"xx", false),
            (b"--b", true),
            (b"--b", true),
            (b"X: part", true),
        ];
        let out = walk(Options::default(), Limits::default(), &records);
        assert_eq!(
            out,
            [
                "MAIN Content-Type: multipart/mixed; boundary=b",
                "END",
                "N ",
                "L xx",
                "N --b",
                "N --b",
                "MULT X: part",
                "BODY END"
            ]
        );
    }

    #[test]
    fn disabled_mime_ignores_content_headers() {
        let message = lines(&["Content-Type: message/rfc822", "", "Subject: inner"]);
        let options = Options {
            disable_mime: true,
            ..Options::default()
        };
        let out = walk(options, Limits::default(), &message);
        assert_eq!(out[3], "N Subject: inner");
        let out = walk(Options::default(), Limits::default(), &message);
        assert_eq!(out[3], "NEST Subject: inner");
    }

    #[test]
    fn only_rfc822_is_walked_into_unless_asked() {
        let message = lines(&["Content-Type: message/partial", "", "Subject: inner"]);
        let out = walk(Options::default(), Limits::default(), &message);
        assert_eq!(out[3], "N Subject: inner");
        let options = Options {
            recurse_all_message: true,
            ..Options::default()
        };
        let out = walk(options, Limits::default(), &message);
        assert_eq!(out[3], "NEST Subject: inner");
    }

    #[test]
    fn eight_bit_is_fine_in_declared_parts_only() {
        let options = Options {
            report_8bit_in_7bit_body: true,
            ..Options::default()
        };
        let qp = lines(&["Content-Transfer-Encoding: 8bit", "", "caf\u{e9}"]);
        assert!(
            !walk(options, Limits::default(), &qp)
                .iter()
                .any(|l| l.starts_with('!'))
        );
        let plain = lines(&["Subject: x", "", "caf\u{e9}"]);
        let out = walk(options, Limits::default(), &plain);
        assert!(out.contains(&"! EightBitInBody caf\u{e9}".to_string()));
    }

    #[test]
    fn headers_stop_growing_at_the_limit() {
        let options = Options {
            report_truncated_header: true,
            ..Options::default()
        };
        let limits = Limits {
            header_size: 12,
            ..Limits::default()
        };
        let message = lines(&["Subject: 1234", " 5678", " 9", "To: x"]);
        let out = walk(options, limits, &message);
        assert_eq!(out[0], "! TruncatedHeader Subject: 1234");
        assert_eq!(out[1], "MAIN Subject: 1234");
        assert_eq!(out[2], "MAIN To: x");
    }

    #[test]
    fn downgrade_rewrites_the_encoding_header() {
        let options = Options {
            downgrade: true,
            ..Options::default()
        };
        let message = lines(&[
            "Content-Type: multipart/mixed; boundary=b",
            "Content-Transfer-Encoding: 8bit",
            "",
            "--b",
            "Content-Transfer-Encoding: 8bit",
            "",
            "caf\u{e9}",
        ]);
        let out = walk(options, Limits::default(), &message);
        assert_eq!(
            out,
            [
                "MAIN Content-Type: multipart/mixed; boundary=b",
                "MAIN Content-Transfer-Encoding: 7bit",
                "END",
                "N ",
                "N --b",
                "MULT Content-Transfer-Encoding: quoted-printable",
                "N ",
                "N caf=C3=A9",
                "BODY END"
            ]
        );
    }
}
